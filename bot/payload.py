"""Typed reads of webhook payload fields: a missing or mistyped field is a PayloadError."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.errors import PayloadError

_SHA = re.compile(r"[0-9a-f]{40}")
_REPO = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")


def field(data: Any, *path: str) -> Any:
    """The value at `path`; PayloadError naming the dotted path when any step is missing."""
    value = data
    for depth, key in enumerate(path):
        if not isinstance(value, Mapping) or key not in value:
            raise PayloadError(f"{'.'.join(path[: depth + 1])} is missing")
        value = value[key]
    return value


def text(data: Any, *path: str, max_len: int = 1024) -> str:
    value = field(data, *path)
    if not isinstance(value, str) or len(value) > max_len:
        raise PayloadError(f"{'.'.join(path)} must be a string of at most {max_len} characters")
    return value


def absent(data: Any, *path: str) -> bool:
    """Whether the last key of `path` is missing or null, its parent being present."""
    parent = field(data, *path[:-1])
    if not isinstance(parent, Mapping):
        raise PayloadError(f"{'.'.join(path[:-1])} must be an object")
    return parent.get(path[-1]) is None


def optional_text(data: Any, *path: str, max_len: int = 1024) -> str | None:
    return None if absent(data, *path) else text(data, *path, max_len=max_len)


def number(data: Any, *path: str) -> int:
    value = field(data, *path)
    # bool is an int subclass; GitHub ids are never booleans.
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
        raise PayloadError(f"{'.'.join(path)} must be a positive integer")
    return value


def flag(data: Any, *path: str) -> bool:
    value = field(data, *path)
    if not isinstance(value, bool):
        raise PayloadError(f"{'.'.join(path)} must be true or false")
    return value


def optional_flag(data: Any, *path: str, default: bool) -> bool:
    return default if absent(data, *path) else flag(data, *path)


def timestamp(data: Any, *path: str) -> datetime:
    """An ISO 8601 time as GitHub writes them ("2026-12-01T10:00:00Z"), timezone-aware."""
    value = text(data, *path, max_len=64)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PayloadError(f"{'.'.join(path)} must be an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise PayloadError(f"{'.'.join(path)} must carry its time zone")
    return parsed


def sha(data: Any, *path: str) -> str:
    value = field(data, *path)
    if not isinstance(value, str) or not _SHA.fullmatch(value):
        raise PayloadError(f"{'.'.join(path)} must be a 40-character hex commit SHA")
    return value


def repo_name(data: Any) -> str:
    value = field(data, "repository", "full_name")
    if not isinstance(value, str) or not _REPO.fullmatch(value):
        raise PayloadError("repository.full_name must look like owner/name")
    return value


def installation_id(data: Any) -> int:
    # Only an App installation can act on a repository; plain repository webhooks carry none.
    if not isinstance(data, Mapping) or data.get("installation") is None:
        raise PayloadError(
            "installation is missing: deploybot acts only as an installed GitHub App"
        )
    return number(data, "installation", "id")
