"""Remove secrets from text before it leaves the worker (check runs, comments, error messages)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from typing import Any

MASK = "***"

# GitHub's token formats (installation, user, OAuth, refresh, fine-grained PAT) and RS256 JWTs:
# caught even when nobody told us the value, e.g. a token a test suite printed.
_TOKEN_PATTERNS = (
    re.compile(r"\bgh[pousr]_[A-Za-z0-9_]{16,}"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"),
)
# user:password@ in any URL, e.g. https://x-access-token:TOKEN@github.com/o/r.git
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+@")
# The value of an Authorization header, e.g. from `GIT_CURL_VERBOSE` or a debug dump.
_AUTH_HEADER = re.compile(r"(?i)(authorization:\s*)(?:basic|bearer|token)\s+\S+")


def _variants(secret: str) -> list[str]:
    # git sends the token base64-encoded inside `Authorization: basic ...`; mask that form too.
    pair = base64.b64encode(f"x-access-token:{secret}".encode()).decode()
    return [secret, pair]


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Return text with the given secret values and anything shaped like a credential masked."""
    values = sorted({v for s in secrets if s for v in _variants(s)}, key=len, reverse=True)
    for value in values:
        text = text.replace(value, MASK)
    text = _URL_CREDENTIALS.sub(MASK + "@", text)
    text = _AUTH_HEADER.sub(lambda m: m.group(1) + MASK, text)
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(MASK, text)
    return text


def scrub_json(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A JSON value (a request body) with every string in it scrubbed."""
    secrets = list(secrets)
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {k: scrub_json(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_json(v, secrets) for v in value]
    return value
