"""What every runtime offers the gate and the deploy engine: serve a release under a name on a
loopback port, stop it, say whether it still runs, run one of its modules, show its last log lines.
The docker runtime serves the release's image by digest; the process runtime its source tree with
its model blob. Whatever serves a colour reports the release's commit at GET /version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from core.errors import BackendError

LABEL_PREFIX: Final = "io.deploybot"


@dataclass(frozen=True)
class Artifact:
    """A staged release, as a runtime needs it."""

    commit: str
    image: str  # by digest; "" when the release was staged without Docker
    tree: Path | None  # the release's served files with its model blob; None when pruned

    def require_image(self) -> str:
        if not self.image:
            raise BackendError(
                f"release {self.commit[:12]} has no image (it was staged without a Docker "
                "engine); stage it again where Docker runs, or deploy it with runtime: process"
            )
        return self.image

    def require_tree(self) -> Path:
        if self.tree is None or not self.tree.is_dir():
            raise BackendError(
                f"release {self.commit[:12]} has no source tree in the data dir (pruned?); "
                "stage it again with `deploybot release <sha>`"
            )
        return self.tree


@dataclass(frozen=True)
class Served:
    """A release serving somewhere: under which name, on which port, which commit."""

    name: str
    port: int
    commit: str


class Backend(Protocol):
    def start(self, name: str, artifact: Artifact, port: int, labels: dict[str, str]) -> Served:
        """Replace whatever serves under `name` with `artifact` on 127.0.0.1:port."""
        ...

    def stop(self, name: str) -> None:
        """Stop and remove what serves under `name`, if anything does."""
        ...

    def alive(self, name: str) -> bool: ...

    def run_module(self, name: str, module: str) -> tuple[int, str]:
        """`python -m module` beside what serves under `name`: (exit code, output)."""
        ...

    def logs(self, name: str, lines: int = 30) -> str: ...
