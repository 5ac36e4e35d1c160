"""The tutor's HTTP API (Starlette): POST /check, GET /healthz, GET /version."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tutor.checker import Checker, load_checker

MAX_SENTENCE_CHARS = 1000
# Far above any valid request (1,000 JSON-escaped characters): refuses a body before parsing it.
MAX_BODY_BYTES = 64 * 1024


class ServedChecker(Checker, Protocol):
    """A checker that can also name the table it judges with (for /version)."""

    table_digest: str


class BadRequest(Exception):
    """A client error with the status and one-line message to send back."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def read_sentence(content_type: str, body: bytes) -> str:
    """The sentence from a /check request body, or BadRequest saying what is wrong with it."""
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise BadRequest(415, "content type must be application/json")
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(413, f"body is over {MAX_BODY_BYTES} bytes")
    payload = _decode(body)
    if not isinstance(payload, dict):
        raise BadRequest(422, 'body must be a JSON object like {"sentence": "..."}')
    sentence = payload.get("sentence")
    if sentence is None:
        raise BadRequest(422, 'missing field "sentence"')
    if not isinstance(sentence, str):
        raise BadRequest(422, '"sentence" must be a string')
    try:
        sentence.encode("utf-8")
    except UnicodeEncodeError:
        # JSON can escape a lone surrogate that no answer could echo back as UTF-8.
        raise BadRequest(422, '"sentence" holds a lone surrogate (\\ud800-\\udfff)') from None
    if not sentence.strip():
        raise BadRequest(422, '"sentence" is empty')
    if len(sentence) > MAX_SENTENCE_CHARS:
        raise BadRequest(
            422, f'"sentence" is {len(sentence)} characters; the limit is {MAX_SENTENCE_CHARS}'
        )
    return sentence


def _decode(body: bytes) -> object:
    """The JSON of a body; BadRequest (never a 5xx) for anything a client can send."""
    try:
        return json.loads(body)
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError, an int over 4300 digits
        raise BadRequest(400, f"body is not valid JSON: {e}") from e
    except RecursionError:
        raise BadRequest(400, "body is not valid JSON: nested too deeply") from None


def create_app(checker: ServedChecker | None = None) -> Starlette:
    """The app; without a checker it loads the model checker once, at startup (not at import)."""
    state: dict[str, ServedChecker] = {}
    if checker is not None:
        state["checker"] = checker

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if "checker" not in state:
            state["checker"] = load_checker("model")
        yield

    def current() -> ServedChecker:
        return state["checker"]

    async def check(request: Request) -> JSONResponse:
        try:
            sentence = read_sentence(request.headers.get("content-type", ""), await request.body())
        except BadRequest as e:
            return JSONResponse({"error": e.message}, status_code=e.status)
        result = current().check(sentence)
        return JSONResponse({**result.to_json(), "model_version": current().model_version})

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "checker": current().name})

    async def version(request: Request) -> JSONResponse:
        checker = current()
        return JSONResponse(
            {
                "commit": os.environ.get("TUTOR_COMMIT", "unknown"),
                "model_digest": checker.model_version,
                "table_digest": checker.table_digest,
            }
        )

    routes = [
        Route("/check", check, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/version", version, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
