"""Property tests: no payload and no comment text can make the receiver answer 5xx or crash."""

from __future__ import annotations

import copy
import json
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings
from starlette.testclient import TestClient

from bot.command_parser import Dropped, Reply, command_lines, parse_comment
from tests.bot.conftest import WEBHOOKS, headers_for

# Examples of every event family the router handles, to be mutated one value at a time.
HANDLED = sorted(
    str(p.relative_to(WEBHOOKS))
    for family in (
        "pull_request",
        "push",
        "check_run",
        "check_suite",
        "issue_comment",
        "installation",
        "installation_repositories",
        "ping",
    )
    for p in (WEBHOOKS / family).glob("*.json")
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=10,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document (the root excluded)."""
    found = []
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in items:
        found.append((*prefix, key))
        found += paths(child, (*prefix, key))
    return found


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_mutated_real_payload_never_gets_a_5xx(client: TestClient, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(HANDLED), label="example")
    payload = json.loads((WEBHOOKS / name).read_text(encoding="utf-8"))
    mutated = copy.deepcopy(payload)
    path = data.draw(st.sampled_from(paths(payload)), label="path")
    target = mutated
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = data.draw(JSON, label="value")
    body = json.dumps(mutated).encode()

    response = client.post("/webhook", content=body, headers=headers_for(name.split("/")[0], body))

    assert response.status_code in {200, 202, 422}, response.text


@given(body=st.text(max_size=400))
def test_the_parser_takes_any_text_and_never_echoes_dropped_arguments(body: str) -> None:
    parsed = parse_comment(body)
    if isinstance(parsed, Dropped):
        assert parsed.reason.startswith("/")
        assert len(parsed.reason) < 100
    if isinstance(parsed, Reply):
        # Whatever it quotes back passed the command-word or safe-argument patterns.
        assert all(ord(ch) < 128 for ch in parsed.message)


@given(
    lines=st.lists(
        st.sampled_from(["/deploy", "/delpoy x", "```", "> /rollback", "text", "~~~"]), max_size=12
    )
)
def test_commands_inside_open_fences_are_never_found(lines: list[str]) -> None:
    inside = False
    expected = []
    for line in lines:
        if line in {"```", "~~~"}:
            if not inside:
                inside, fence = True, line
            elif line == fence:
                inside = False
            continue
        if not inside and line.startswith("/"):
            expected.append(line.split()[0].lstrip("/"))
    assert [name for name, _ in command_lines("\n".join(lines))] == expected
