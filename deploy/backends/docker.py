"""Serve a release from its image, by digest, as a container on the host network.

Each container is named for its place (a colour of an environment, or the gate's scratch slot),
labelled with the environment, colour and commit, restarted by the engine unless stopped, and
limited in memory and CPU; it serves on 127.0.0.1 at the port it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from core.errors import DeploybotError

MEMORY_LIMIT: Final = "512m"
CPUS: Final = 1.0
LABEL_PREFIX: Final = "io.deploybot"


class BackendError(DeploybotError):
    """What serves a release could not be started or stopped."""


@dataclass(frozen=True)
class Served:
    """A release serving somewhere: under which name, on which port, which commit."""

    name: str
    port: int
    commit: str


class DockerBackend:
    def __init__(self, client: Any) -> None:
        self.client = client

    def start(
        self, name: str, image: str, commit: str, port: int, labels: dict[str, str]
    ) -> Served:
        """Replace whatever runs under `name` with `image` serving on 127.0.0.1:port."""
        import docker

        self.stop(name)
        try:
            self._image(image)
            self.client.containers.run(
                image,
                name=name,
                detach=True,
                network_mode="host",
                environment={"HOST": "127.0.0.1", "PORT": str(port), "TUTOR_COMMIT": commit},
                labels={
                    **{f"{LABEL_PREFIX}.{k}": v for k, v in labels.items()},
                    f"{LABEL_PREFIX}.commit": commit,
                    f"{LABEL_PREFIX}.port": str(port),
                },
                restart_policy={"Name": "unless-stopped"},
                mem_limit=MEMORY_LIMIT,
                nano_cpus=int(CPUS * 1e9),
            )
        except docker.errors.DockerException as exc:
            raise BackendError(f"cannot start {name} from {image}: {exc}") from exc
        return Served(name, port, commit)

    def _image(self, reference: str) -> None:
        """The image in the engine, pulled by its digest from the registry when missing."""
        import docker

        try:
            self.client.images.get(reference)
        except docker.errors.ImageNotFound:
            self.client.images.pull(reference)

    def stop(self, name: str) -> None:
        """Remove the container `name`, if there is one."""
        import docker

        try:
            container = self.client.containers.get(name)
        except docker.errors.NotFound:
            return
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass  # removed meanwhile
        except docker.errors.DockerException as exc:
            raise BackendError(f"cannot remove {name}: {exc}") from exc

    def execute(self, name: str, argv: list[str]) -> tuple[int, str]:
        """Run argv inside the running container `name`: (exit code, output)."""
        code, output = self.client.containers.get(name).exec_run(argv)
        return int(code), output.decode("utf-8", "replace")

    def logs(self, name: str, lines: int = 30) -> str:
        import docker

        try:
            data: bytes = self.client.containers.get(name).logs(tail=lines)
        except docker.errors.NotFound:
            return "(no container)"
        return data.decode("utf-8", "replace")
