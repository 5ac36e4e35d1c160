"""Each release's served files (the tutor's code, its table, the tokenizer corpus its selfcheck
reads) with its model blob, under trees/<commit>/ in the data dir: what the process runtime
serves, so a release can be deployed again without its checkout. The same files the tutor's
Dockerfile copies into the image."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Final

from deploy.images import MODEL_PATH

SERVED: Final = (Path("tutor"), Path("data/verbs.yaml"), Path("data/eval/roundtrip_corpus.txt"))


class TreeStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def get(self, commit: str) -> Path | None:
        tree = self.root / commit
        return tree if tree.is_dir() else None

    def put(self, commit: str, source: Path, model_blob: Path) -> Path:
        """trees/<commit>: the served files of the checkout `source`, the model linked to its
        verified blob. Written once: a second put of the same commit returns the first."""
        existing = self.get(commit)
        if existing is not None:
            return existing
        self.root.mkdir(parents=True, exist_ok=True)
        incoming = Path(tempfile.mkdtemp(dir=self.root, prefix=".incoming-"))
        try:
            for relative in SERVED:
                target = incoming / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                if (source / relative).is_dir():
                    shutil.copytree(
                        source / relative,
                        target,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                    )
                else:
                    shutil.copy2(source / relative, target)
            model = incoming / MODEL_PATH
            model.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(model_blob, model)
            except OSError:
                shutil.copy2(model_blob, model)  # another filesystem
            os.rename(incoming, self.root / commit)
        except OSError:
            shutil.rmtree(incoming, ignore_errors=True)
            if self.get(commit) is None:
                raise
            # A concurrent put of the same commit won: the same content is there.
        except BaseException:
            shutil.rmtree(incoming, ignore_errors=True)
            raise
        return self.root / commit

    def remove(self, commit: str) -> None:
        shutil.rmtree(self.root / commit, ignore_errors=True)
