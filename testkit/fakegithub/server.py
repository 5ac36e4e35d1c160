"""A fake GitHub REST server on 127.0.0.1 that checks every request against GitHub's schema.

It authenticates like GitHub (App JWT for installation tokens, installation tokens for the rest),
keeps what the bot posted so tests can assert on it, and answers a request that GitHub would
refuse with the status GitHub would use — and records it as a violation, so the test that sent it
fails. Tests and the embedded demo use the same server.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from testkit.fakegithub import schema
from testkit.fakegithub.operations import OPERATIONS, Call
from testkit.fakegithub.state import GitHubState, NotFound, Pull, Repo, Unprocessable
from testkit.serving import serve_in_thread

# GitHub refuses App JWTs that live longer than ten minutes (plus clock-drift allowance).
MAX_JWT_LIFETIME_S = 600 + 60


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    operation_id: str | None
    at: float = 0.0  # when it arrived (time.monotonic())


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "Server Error"
    applied: bool = False  # the request takes effect before the error is answered


def generate_app_key() -> str:
    """A fresh RSA key in PEM, as GitHub hands an App owner."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")


def _public_key_pem(private_pem: str) -> bytes:
    key = serialization.load_pem_private_key(private_pem.encode("ascii"), password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": str(status),
        },
        status_code=status,
    )


class FakeGitHub:
    """State, auth and fault injection; `app` is the ASGI application that serves them."""

    def __init__(self, app_id: int = 4242, private_key_pem: str | None = None) -> None:
        self.app_id = app_id
        self.private_key_pem = private_key_pem or generate_app_key()
        self._public_key = _public_key_pem(self.private_key_pem)
        self.lock = threading.RLock()
        self.url = "http://127.0.0.1:0"
        self.on_request: Callable[[Recorded], None] | None = None
        self.reset()
        self.app = Starlette(
            routes=[
                Route(
                    "/{path:path}",
                    self._endpoint,
                    methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
                )
            ]
        )

    def reset(self) -> None:
        with self.lock:
            self.state = GitHubState(self.url)
            self.tokens: dict[str, tuple[int, datetime]] = {}
            self.requests: list[Recorded] = []
            self.violations: list[str] = []
            self.faults: list[Fault] = []

    # -- seeding and inspection (the test's side) ---------------------------------------------
    def add_repo(
        self, full_name: str, installation_id: int = 1, default_branch: str = "main"
    ) -> Repo:
        with self.lock:
            repo = Repo(full_name, installation_id, default_branch)
            self.state.repos[full_name] = repo
            return repo

    def add_pull(self, full_name: str, pull: Pull) -> None:
        with self.lock:
            self.state.repo(full_name).pulls[pull.number] = pull

    def add_issue(self, full_name: str, number: int, title: str = "An issue") -> None:
        with self.lock:
            self.state.repo(full_name).issues[number] = title

    def add_comment(self, full_name: str, number: int, body: str, author: str) -> int:
        """A comment a person wrote on an issue or pull request; returns its id."""
        with self.lock:
            _, comment = self.state.create_comment(full_name, number, {"body": body}, author)
            return int(comment["id"])

    def set_permission(self, full_name: str, user: str, permission: str) -> None:
        with self.lock:
            self.state.repo(full_name).permissions[user] = permission

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int = 502,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        message: str = "Server Error",
        applied: bool = False,
    ) -> None:
        """Answer the next `times` matching requests with `status` (5xx, or 403/429 rate limits).

        applied: the request still takes effect, as when GitHub times out behind its edge after
        creating what was asked, so a client that simply repeats a POST makes a second one.
        """
        with self.lock:
            self.faults.append(
                Fault(
                    method, re.compile(path_regex), status, times, headers or {}, message, applied
                )
            )

    def take_violations(self) -> list[str]:
        """Hand over the recorded violations (for a test that provokes one on purpose)."""
        with self.lock:
            found, self.violations = self.violations, []
            return found

    def check_runs(self) -> list[dict[str, Any]]:
        with self.lock:
            return [
                {**run, "annotations": list(self.state.annotations[run["id"]])}
                for run in self.state.check_runs.values()
            ]

    def reactions(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r for reactions in self.state.reactions.values() for r in reactions]

    def comments(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(c) for c in self.state.comments.values()]

    def deployments(self) -> list[dict[str, Any]]:
        """Every deployment, oldest first, with `states`: its statuses' states in order."""
        with self.lock:
            return [
                {**d, "states": [s["state"] for s in self.state.deployment_statuses[d["id"]]]}
                for d in self.state.deployments.values()
            ]

    # -- HTTP side ------------------------------------------------------------------------------
    async def _endpoint(self, request: Request) -> Response:
        body = await request.body()
        path = "/" + request.path_params["path"]
        query = dict(request.query_params)
        with self.lock:
            response, operation_id = self._answer(request, path, query, body)
            recorded = Recorded(
                request.method,
                path,
                query,
                _json_or_text(body),
                response.status_code,
                operation_id,
                time.monotonic(),
            )
            self.requests.append(recorded)
        if self.on_request is not None:
            self.on_request(recorded)
        return response

    def _answer(
        self, request: Request, path: str, query: dict[str, str], body: bytes
    ) -> tuple[Response, str | None]:
        if not request.headers.get("user-agent"):
            return self._violation(
                403, f"{request.method} {path}: GitHub requires a User-Agent header"
            ), None
        try:
            matched = schema.match(request.method, path, query, body)
        except schema.SchemaViolation as exc:
            return self._violation(exc.status, str(exc)), None
        op = matched.operation.operation_id
        fault = self._take_fault(request.method, path)
        if fault is not None and not fault.applied:
            return self._fault_answer(fault), op
        denied = self._authenticate(request, op, matched.path_params)
        if denied is not None:
            return denied, op
        try:
            status, payload = self._dispatch(op, matched.path_params, query, matched.body)
        except NotFound as exc:
            return _error(404, f"Not Found: {exc}"), op
        except Unprocessable as exc:
            return self._violation(422, f"{op}: {exc}"), op
        if fault is not None:
            return self._fault_answer(fault), op
        if status == 204:
            return Response(status_code=204), op
        headers = {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4999",
            "x-ratelimit-reset": str(int(time.time()) + 3600),
            "x-ratelimit-used": "1",
        }
        return JSONResponse(payload, status_code=status, headers=headers), op

    def _fault_answer(self, fault: Fault) -> JSONResponse:
        failed = _error(fault.status, fault.message)
        failed.headers.update(fault.headers)
        return failed

    def _violation(self, status: int, message: str) -> JSONResponse:
        self.violations.append(message)
        return _error(status, message)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and fault.path.search(path) and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    def _authenticate(
        self, request: Request, op: str, params: dict[str, Any] | Any
    ) -> Response | None:
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        if op in {"apps/create-installation-access-token", "apps/get-authenticated"}:
            if scheme.lower() != "bearer":
                return _error(401, "A JSON web token could not be decoded")
            try:
                claims = jwt.decode(credential, self._public_key, algorithms=["RS256"], leeway=60)
            except jwt.PyJWTError as exc:
                return _error(
                    401, f"'Expiration time' claim ('exp') or signature is invalid: {exc}"
                )
            if str(claims.get("iss")) != str(self.app_id):
                return _error(401, "Integration not found")
            if int(claims["exp"]) - int(claims.get("iat", 0)) > MAX_JWT_LIFETIME_S:
                return _error(401, "'Expiration time' claim ('exp') is too far in the future")
            return None
        if scheme.lower() not in {"token", "bearer"} or credential not in self.tokens:
            return _error(401, "Bad credentials")
        installation_id, expires = self.tokens[credential]
        if expires < datetime.now(UTC):
            return _error(401, "Bad credentials")
        repo = self.state.repos.get(f"{params.get('owner')}/{params.get('repo')}")
        if repo is not None and repo.installation_id != installation_id:
            return _error(404, "Not Found")
        return None

    def _dispatch(
        self, op: str, params: dict[str, Any] | Any, query: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        handler = OPERATIONS.get(op)
        if handler is None:
            # A real operation of the schema that the fake does not model yet: loud, not silent.
            raise Unprocessable("the fake GitHub does not implement this operation yet")
        repo = f"{params.get('owner')}/{params.get('repo')}"
        return handler(self.state, Call(self.app_id, self.tokens, repo, params, query, body))


def _json_or_text(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return body.decode("utf-8", "replace")


@contextmanager
def serve(fake: FakeGitHub, port: int = 0) -> Iterator[FakeGitHub]:
    """Run the fake on 127.0.0.1 in a background thread for the duration of the block."""
    with serve_in_thread(fake.app, "fake-github", port) as url:
        fake.url = url
        fake.state.base_url = url
        yield fake
