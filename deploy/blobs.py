"""A content-addressed store of release artifacts (model weights): blobs/sha256/<hex> under the
data dir, each written to a temporary file, fsynced and renamed, and verified by its digest on
every read, so a corrupted or swapped file is refused, naming its digest, before anything uses it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Final

from core.errors import BlobError

_DIGEST: Final = re.compile(r"sha256:([0-9a-f]{64})")
_CHUNK: Final = 1024 * 1024


def file_digest(path: Path) -> str:
    """ "sha256:<hex>" of a file's bytes (what the tutor reports as its model and table digest)."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


class BlobStore:
    """root/sha256/<hex>, one file per distinct content."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, digest: str) -> Path:
        match = _DIGEST.fullmatch(digest)
        if match is None:
            raise BlobError(f"{digest!r} is not a sha256 digest")
        return self.root / "sha256" / match.group(1)

    def put(self, source: Path) -> str:
        """Store a copy of `source` (once per content); its digest."""
        digest = file_digest(source)
        target = self._path(digest)
        if target.exists():
            self.verified(digest)  # a corrupted copy under this name is never kept silently
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as data:
                shutil.copyfileobj(data, out, _CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o444)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return digest

    def verified(self, digest: str) -> Path:
        """The blob's path, after checking that its bytes still hash to its name."""
        path = self._path(digest)
        if not path.is_file():
            raise BlobError(f"blob {digest} is not in the store ({self.root})")
        found = file_digest(path)
        if found != digest:
            raise BlobError(
                f"blob {digest} is corrupted: its bytes hash to {found}; restage the release "
                "(`deploybot release <sha>`) to write it again"
            )
        return path

    def has(self, digest: str) -> bool:
        return self._path(digest).is_file()

    def remove(self, digest: str) -> None:
        self._path(digest).unlink(missing_ok=True)

    def digests(self) -> set[str]:
        folder = self.root / "sha256"
        return {f"sha256:{p.name}" for p in folder.iterdir()} if folder.is_dir() else set()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
