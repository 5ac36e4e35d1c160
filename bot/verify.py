"""Check a webhook request's headers and signature before anything acts on it (pure)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from email.message import Message
from typing import Any, Final

from gidgethub import BadRequest, ValidationFailure, sansio

from core.errors import DeploybotError

# GitHub does not send payloads over 25 MB.
MAX_BODY_BYTES: Final = 25 * 1024 * 1024
CONTENT_TYPES: Final = ("application/json", "application/x-www-form-urlencoded")
# GitHub's event names are lower-case words joined by "_", some with digits (projects_v2_item).
_EVENT = re.compile(r"[a-z][a-z0-9_]{0,63}")
_DELIVERY = re.compile(r"[A-Za-z0-9-]{1,64}")
_SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")
# Only what gidgethub needs goes through; a stray X-Hub-Signature (SHA-1) must not be used.
_PASSED: Final = ("content-type", "x-github-event", "x-github-delivery", "x-hub-signature-256")


class Rejected(DeploybotError):
    """The request is refused with `status` and a one-line `reason`."""

    def __init__(self, status: int, reason: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = dict(headers or {})


def check_headers(headers: Mapping[str, str]) -> None:
    """Refuse what the headers alone show to be wrong, before reading the body."""
    for name, pattern in (("x-github-event", _EVENT), ("x-github-delivery", _DELIVERY)):
        value = headers.get(name)
        if value is None:
            raise Rejected(400, f"missing {name} header")
        if not pattern.fullmatch(value):
            raise Rejected(400, f"malformed {name} header")
    signature = headers.get("x-hub-signature-256")
    if signature is None:
        raise Rejected(401, "missing x-hub-signature-256 header")
    if not _SIGNATURE.fullmatch(signature):
        raise Rejected(401, "malformed x-hub-signature-256 header")
    _check_content(headers)


def _check_content(headers: Mapping[str, str]) -> None:
    message = Message()
    message["content-type"] = headers.get("content-type", "")
    if not headers.get("content-type") or message.get_content_type() not in CONTENT_TYPES:
        raise Rejected(415, "content-type must be application/json")
    if str(message.get_param("charset") or "utf-8").lower() != "utf-8":
        raise Rejected(415, "charset must be utf-8")
    length = headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise Rejected(400, "malformed content-length header")
        if int(length) > MAX_BODY_BYTES:
            raise Rejected(413, "body over 25 MB")


def parse_event(headers: Mapping[str, str], body: bytes, secret: str) -> sansio.Event:
    """The verified event; Rejected when the signature or the JSON object is wrong."""
    try:
        event = sansio.Event.from_http({k: headers[k] for k in _PASSED}, body, secret=secret)
    except ValidationFailure:
        raise Rejected(401, "signature does not match the webhook secret") from None
    except (BadRequest, RecursionError):
        raise Rejected(400, "body is not valid JSON") from None
    if not isinstance(event.data, dict):
        raise Rejected(400, "payload must be a JSON object")
    try:
        # JSON may escape a lone surrogate ("\\ud800") that no text can hold: refuse it here,
        # not when some later step encodes the string.
        json.dumps(event.data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise Rejected(400, "payload holds a string that is not valid text") from None
    action: Any = event.data.get("action")
    if action is not None and not isinstance(action, str):
        raise Rejected(422, "action must be a string")
    return event
