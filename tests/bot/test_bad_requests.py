"""Bad requests, table-driven: each gets its intended status, never a 5xx, and nothing is queued."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis
from starlette.testclient import TestClient

from bot.verify import MAX_BODY_BYTES
from tests.bot.conftest import QUEUES, encode, example, headers_for, sign

SYNC = example("pull_request/synchronize.payload.json")
SYNC_BODY = encode(SYNC)


@dataclass(frozen=True)
class Case:
    name: str
    status: int
    says: str
    body: bytes = SYNC_BODY
    event: str = "pull_request"
    # Header changes applied after signing: None removes a header.
    headers: dict[str, str | None] = field(default_factory=dict)
    # Sent as a chunked stream of this many bytes instead of `body`, signed.
    streamed_bytes: int = 0


def mutated(change: Callable[[dict[str, Any]], None], base: dict[str, Any] = SYNC) -> bytes:
    payload = copy.deepcopy(base)
    change(payload)
    return encode(payload)


def setting(*path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(payload: dict[str, Any]) -> None:
        target = payload
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return change


_DELETE = object()


def comment(text: str, **overrides: Any) -> bytes:
    payload = copy.deepcopy(example("issue_comment/created.with-installation.payload.json"))
    payload["issue"]["pull_request"] = {"url": "https://api.github.com/repos/x/y/pulls/1"}
    payload["comment"]["body"] = text
    payload["comment"].update(overrides)
    return encode(payload)


WRONG = "sha256=" + "0" * 64
CASES = [
    # Signed, but not text.
    Case(
        "lone surrogate in action",
        400,
        "payload holds a string that is not valid text",
        body=mutated(setting("action", value="x\ud800")),
    ),
    Case(
        "lone surrogate deep inside",
        400,
        "payload holds a string that is not valid text",
        body=mutated(setting("pull_request", "title", value="\udfff")),
    ),
    Case("not UTF-8", 400, "body is not valid JSON", body=b'{"action": "\xff\xfe"}'),
    # Forged or broken signatures.
    Case(
        "unsigned", 401, "missing x-hub-signature-256 header", headers={"x-hub-signature-256": None}
    ),
    Case(
        "signed with another secret",
        401,
        "signature does not match the webhook secret",
        headers={"x-hub-signature-256": sign(SYNC_BODY, "x")},
    ),
    Case(
        "only the SHA-1 signature",
        401,
        "missing x-hub-signature-256 header",
        headers={"x-hub-signature-256": None, "x-hub-signature": "sha1=" + "0" * 40},
    ),
    Case(
        "zero signature",
        401,
        "signature does not match the webhook secret",
        headers={"x-hub-signature-256": WRONG},
    ),
    Case(
        "signature not hex",
        401,
        "malformed x-hub-signature-256 header",
        headers={"x-hub-signature-256": "sha256=" + "z" * 64},
    ),
    Case(
        "signature too short",
        401,
        "malformed x-hub-signature-256 header",
        headers={"x-hub-signature-256": "sha256=" + "0" * 63},
    ),
    Case(
        "signature upper-case prefix",
        401,
        "malformed x-hub-signature-256 header",
        headers={"x-hub-signature-256": "SHA256=" + "0" * 64},
    ),
    Case(
        "empty signature",
        401,
        "malformed x-hub-signature-256 header",
        headers={"x-hub-signature-256": ""},
    ),
    Case(
        "signature of another body",
        401,
        "signature does not match the webhook secret",
        headers={"x-hub-signature-256": sign(b"{}")},
    ),
    Case(
        "body truncated after signing",
        401,
        "signature does not match the webhook secret",
        body=SYNC_BODY[:-10],
        headers={"x-hub-signature-256": sign(SYNC_BODY)},
    ),
    # Headers.
    Case("no event header", 400, "missing x-github-event header", headers={"x-github-event": None}),
    Case(
        "no delivery header",
        400,
        "missing x-github-delivery header",
        headers={"x-github-delivery": None},
    ),
    Case(
        "event with spaces",
        400,
        "malformed x-github-event header",
        headers={"x-github-event": "pull request"},
    ),
    Case(
        "event upper-case",
        400,
        "malformed x-github-event header",
        headers={"x-github-event": "PULL_REQUEST"},
    ),
    Case(
        "event too long",
        400,
        "malformed x-github-event header",
        headers={"x-github-event": "a" * 65},
    ),
    Case(
        "delivery with path characters",
        400,
        "malformed x-github-delivery header",
        headers={"x-github-delivery": "../../etc"},
    ),
    Case(
        "delivery too long",
        400,
        "malformed x-github-delivery header",
        headers={"x-github-delivery": "a" * 65},
    ),
    Case(
        "delivery empty",
        400,
        "malformed x-github-delivery header",
        headers={"x-github-delivery": ""},
    ),
    # Content type.
    Case(
        "no content type",
        415,
        "content-type must be application/json",
        headers={"content-type": None},
    ),
    Case(
        "text/plain",
        415,
        "content-type must be application/json",
        headers={"content-type": "text/plain"},
    ),
    Case(
        "multipart",
        415,
        "content-type must be application/json",
        headers={"content-type": "multipart/form-data; boundary=x"},
    ),
    Case(
        "latin-1 charset",
        415,
        "charset must be utf-8",
        headers={"content-type": "application/json; charset=latin-1"},
    ),
    Case(
        "unknown charset",
        415,
        "charset must be utf-8",
        headers={"content-type": "application/json; charset=klingon"},
    ),
    # Size.
    Case("over 25 MB with a length", 413, "body over 25 MB", body=b" " * (MAX_BODY_BYTES + 1)),
    Case(
        "over 25 MB streamed without a length",
        413,
        "body over 25 MB",
        streamed_bytes=MAX_BODY_BYTES + 1,
    ),
    # Bodies that are not a JSON object.
    Case("not JSON", 400, "body is not valid JSON", body=b"hello"),
    Case("truncated JSON", 400, "body is not valid JSON", body=SYNC_BODY[: len(SYNC_BODY) // 2]),
    Case("empty body", 400, "payload must be a JSON object", body=b""),
    Case("JSON array", 400, "payload must be a JSON object", body=b"[1, 2]"),
    Case("JSON string", 400, "payload must be a JSON object", body=b'"pull_request"'),
    Case("invalid UTF-8", 400, "body is not valid JSON", body=b'{"action": "\xff\xfe"}'),
    Case("nesting bomb", 400, "body is not valid JSON", body=b"[" * 100_000 + b"]" * 100_000),
    Case(
        "form body without payload",
        400,
        "body is not valid JSON",
        body=b"x=1",
        headers={"content-type": "application/x-www-form-urlencoded"},
    ),
    # Wrong types and missing fields.
    Case(
        "action is a list",
        422,
        "action must be a string",
        body=mutated(setting("action", value=["opened"])),
    ),
    Case(
        "action is a number",
        422,
        "action must be a string",
        body=mutated(setting("action", value=7)),
    ),
    Case(
        "head sha missing",
        422,
        "pull_request.head.sha is missing",
        body=mutated(setting("pull_request", "head", "sha", value=_DELETE)),
    ),
    Case(
        "head sha is shell",
        422,
        "pull_request.head.sha must be a 40-character hex commit SHA",
        body=mutated(setting("pull_request", "head", "sha", value="$(id)")),
    ),
    Case(
        "PR number a string",
        422,
        "pull_request.number must be a positive integer",
        body=mutated(setting("pull_request", "number", value="2")),
    ),
    Case(
        "PR number a boolean",
        422,
        "pull_request.number must be a positive integer",
        body=mutated(setting("pull_request", "number", value=True)),
    ),
    Case(
        "PR number negative",
        422,
        "pull_request.number must be a positive integer",
        body=mutated(setting("pull_request", "number", value=-2)),
    ),
    Case(
        "pull_request null",
        422,
        "pull_request must be an object",
        body=mutated(setting("pull_request", value=None)),
    ),
    Case(
        "draft a string",
        422,
        "pull_request.draft must be true or false",
        body=mutated(setting("pull_request", "draft", value="no")),
    ),
    Case(
        "no installation",
        422,
        "installation is missing",
        body=mutated(setting("installation", value=_DELETE)),
    ),
    Case(
        "installation id a string",
        422,
        "installation.id must be a positive integer",
        body=mutated(setting("installation", "id", value="1")),
    ),
    Case(
        "repository missing",
        422,
        "repository is missing",
        body=mutated(setting("repository", value=_DELETE)),
    ),
    Case(
        "hostile repository name",
        422,
        "repository.full_name must look like owner/name",
        body=mutated(setting("repository", "full_name", value="a/b; rm -rf /")),
    ),
    Case(
        "push after not a sha",
        422,
        "after must be a 40-character hex commit SHA",
        event="push",
        body=mutated(setting("after", value="HEAD"), example("push/with-new-branch.payload.json")),
    ),
    Case(
        "push deleted not a boolean",
        422,
        "deleted must be true or false",
        event="push",
        body=mutated(
            setting("deleted", value="false"), example("push/with-new-branch.payload.json")
        ),
    ),
    Case(
        "suite pull_requests not a list",
        422,
        "check_suite.pull_requests must be a list",
        event="check_suite",
        body=mutated(
            setting("check_suite", "pull_requests", value={"number": 2}),
            example("check_suite/rerequested.payload.json"),
        ),
    ),
    Case(
        "comment body a number",
        422,
        "comment.body must be a string",
        event="issue_comment",
        body=comment("x", body=12345),
    ),
    Case(
        "comment body over GitHub's limit",
        422,
        "comment.body must be a string",
        event="issue_comment",
        body=comment("/deploy\n" + "a" * 70_000),
    ),
    # Hostile command text: acknowledged, never acted on, never echoed.
    Case(
        "command substitution",
        202,
        "/deploy has an argument with characters commands never use",
        event="issue_comment",
        body=comment("/deploy $(curl x)"),
    ),
    Case(
        "command chaining",
        202,
        "/deploy has an argument with characters commands never use",
        event="issue_comment",
        body=comment("/deploy prod; rm -rf /"),
    ),
    Case(
        "markup in argument",
        202,
        "/deploy has an argument with characters commands never use",
        event="issue_comment",
        body=comment("/deploy <script>"),
    ),
    Case(
        "overlong argument",
        202,
        "/deploy has an argument with characters commands never use",
        event="issue_comment",
        body=comment("/deploy " + "a" * 5000),
    ),
    Case(
        "right-to-left override",
        202,
        "/deploy has an argument with characters commands never use",
        event="issue_comment",
        body=comment("/deploy prod\u202enoitcudorp"),
    ),
    Case(
        "NUL after command",
        202,
        "no command in comment",
        event="issue_comment",
        body=comment("/deploy\u0000production"),
    ),
    Case(
        "fullwidth slash",
        202,
        "no command in comment",
        event="issue_comment",
        body=comment("\uff0fdeploy"),
    ),
    Case(
        "command in code fence",
        202,
        "no command in comment",
        event="issue_comment",
        body=comment("```\n/deploy\n```"),
    ),
    Case(
        "command in quote",
        202,
        "no command in comment",
        event="issue_comment",
        body=comment("> /deploy"),
    ),
    Case(
        "command by a bot",
        202,
        "comment by a bot",
        event="issue_comment",
        body=comment("/deploy", user={"login": "evil[bot]", "type": "Bot"}),
    ),
]


def request_parts(case: Case) -> tuple[dict[str, str], bytes | Iterator[bytes]]:
    if case.streamed_bytes:
        chunk = b" " * (1024 * 1024)
        chunks = case.streamed_bytes // len(chunk) + 1
        headers = headers_for(case.event, b"")

        def stream() -> Iterator[bytes]:
            for _ in range(chunks):
                yield chunk

        return headers, stream()
    headers = headers_for(case.event, case.body)
    for name, value in case.headers.items():
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    return headers, case.body


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_request(case: Case, client: TestClient, redis_client: redis.Redis) -> None:
    headers, content = request_parts(case)
    response = client.post("/webhook", content=content, headers=headers)
    assert response.status_code == case.status, response.text
    assert case.says in response.text
    assert response.text.count("\n") == 1  # one line, saying why
    assert not any(redis_client.llen(q) for q in QUEUES)
    if case.status == 202:
        assert response.text.startswith("ignored: ")


def test_only_post_is_accepted(client: TestClient) -> None:
    assert client.get("/webhook").status_code == 405
