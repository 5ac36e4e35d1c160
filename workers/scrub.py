"""Remove secrets from text before it leaves the worker (check runs, comments, logs on disk).

By value, in the forms code under test could print them in to get past a plain replace: as is,
reversed, URL-encoded, hex, base64 (at any alignment inside a longer encoded text) and, for a
GitHub token, without its prefix; and by shape, anything that looks like a credential.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

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


_TOKEN_PREFIX = re.compile(r"^(?:gh[pousr]_|github_pat_)")
# Shorter encoded fragments would match ordinary text.
_MIN_FORM = 12


def _base64_forms(data: bytes) -> list[str]:
    """The base64 text of `data` wherever it starts inside a longer encoded text: for each of the
    three byte alignments, the characters that depend on `data` alone."""
    forms = []
    for shift in range(3):
        full_groups = (shift + len(data)) // 3
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * shift + data).decode("ascii")
            forms.append(encoded[4 if shift else 0 : 4 * full_groups])
    return forms


def _variants(secret: str) -> list[str]:
    raw = secret.encode()
    # git sends the token base64-encoded inside `Authorization: basic ...`.
    pair = base64.b64encode(b"x-access-token:" + raw).decode()
    forms = [secret, secret[::-1], quote(secret, safe=""), quote_plus(secret), raw.hex(), pair]
    forms += _base64_forms(raw)
    bare = _TOKEN_PREFIX.sub("", secret)
    if bare != secret:
        forms += [bare, bare[::-1], *_base64_forms(bare.encode())]
    return [f for f in forms if len(f) >= _MIN_FORM or f == secret]


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Return text with the given secret values (in every form above) and anything shaped like a
    credential masked."""
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


def scrub_file(path: Path, secrets: Iterable[str]) -> None:
    """Rewrite a log on disk with every line scrubbed (written aside, then renamed over it)."""
    secrets = list(secrets)
    if not path.is_file():
        return
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with (
            path.open(encoding="utf-8", errors="replace", newline="") as source,
            os.fdopen(fd, "w", encoding="utf-8", newline="") as target,
        ):
            for line in source:
                target.write(scrub(line, secrets))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def scrub_logs(secrets: Iterable[str]) -> None:
    """From now on, every log record this process makes is scrubbed before any handler sees it,
    so the worker's own logs hold no secret either (installed once, for the process's life)."""
    secrets = list(secrets)
    make = logging.getLogRecordFactory()

    def scrubbed(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        record.msg, record.args = scrub(record.getMessage(), secrets), None
        return record

    logging.setLogRecordFactory(scrubbed)
