"""The comment command parser, table-driven: position, fences, quotes, case, typos, arguments."""

from __future__ import annotations

import pytest

from bot.command_parser import Command, Dropped, Parsed, Reply, command_lines, parse_comment


@pytest.mark.parametrize(
    ("body", "command"),
    [
        ("/deploy", Command("deploy")),
        ("/deploy staging", Command("deploy", env="staging")),
        ("/DEPLOY Staging", Command("deploy", env="staging")),
        ("/Deploy   staging  ", Command("deploy", env="staging")),
        ("/deploy\tstaging", Command("deploy", env="staging")),
        ("   /deploy", Command("deploy")),
        ("LGTM!\r\n/deploy\r\nthanks", Command("deploy")),
        ("/rollback", Command("rollback")),
        ("/rollback staging", Command("rollback", env="staging")),
        ("/rollback to ABC1234", Command("rollback", sha="abc1234")),
        ("/rollback staging to " + "f" * 40, Command("rollback", env="staging", sha="f" * 40)),
        ("/rollback staging TO abc1234", Command("rollback", env="staging", sha="abc1234")),
        ("/status", Command("status")),
        ("/status staging", Command("status", env="staging")),
        ("/retest", Command("retest")),
        ("/retest Lint", Command("retest", stage="lint")),
        ("/ok-to-test", Command("ok-to-test")),
        ("/OK-TO-TEST", Command("ok-to-test")),
        ("/ok-to-test ABCDEF1", Command("ok-to-test", sha="abcdef1")),
        ("/help", Command("help")),
        # The first known command wins; a later one is not acted on.
        ("/status\n/deploy", Command("status")),
        # An unknown line before a known command does not hide it.
        ("/cc @someone\n/deploy", Command("deploy")),
        # Fences close only with the same character, at least as long.
        ("```\n/deploy staging\n```\n/status", Command("status")),
        ("~~~~\n```\n/deploy\n~~~~\n/retest", Command("retest")),
    ],
)
def test_commands_are_found(body: str, command: Command) -> None:
    assert parse_comment(body) == command


@pytest.mark.parametrize(
    "body",
    [
        "",
        "no command here",
        "please /deploy",
        "`/deploy`",
        "```\n/deploy\n```",
        "```python\n/deploy\n```",
        "~~~\n/deploy\n~~~",
        "```\n/deploy",  # an unclosed fence runs to the end
        "````\n```\n/deploy\n```\n````",
        "> /deploy",
        ">/deploy",
        "> quoted\n> /deploy",
        "    /deploy",  # indented code
        "\t/deploy",
        "/usr/bin/python crashed",
        "/ deploy",
        "/deploy\u0000production",
        "\uff0fdeploy",
        "//deploy",
    ],
)
def test_no_command_outside_plain_lines(body: str) -> None:
    assert parse_comment(body) is None


def reply(body: str) -> str:
    parsed: Parsed | None = parse_comment(body)
    assert isinstance(parsed, Reply), parsed
    return parsed.message


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("/delpoy", "Did you mean `/deploy`?"),
        ("/DEPOLY staging", "Did you mean `/deploy`?"),
        ("/rollbak", "Did you mean `/rollback`?"),
        ("/stauts", "Did you mean `/status`?"),
        ("/retset", "Did you mean `/retest`?"),
        ("/ok-to-tset", "Did you mean `/ok-to-test`?"),
        ("/deploy production now", "Usage: `/deploy [env]`."),
        ("/rollback to", "Usage: `/rollback [env] [to <sha>]`."),
        ("/rollback to xyz", "Usage: `/rollback [env] [to <sha>]`."),
        ("/rollback to abc1234 staging", "Usage: `/rollback [env] [to <sha>]`."),
        ("/retest lint test", "Usage: `/retest [stage]`."),
        ("/ok-to-test please", "Usage: `/ok-to-test [sha]`."),
    ],
)
def test_typos_and_mistakes_get_a_helpful_reply(body: str, says: str) -> None:
    message = reply(body)
    assert says in message
    assert "`/rollback [env] [to <sha>]`" in message  # every reply lists the commands


@pytest.mark.parametrize(
    ("body", "command"),
    [
        ("/deploy stagin", Command("deploy", env="stagin")),
        ("/rollback productoin to abc1234", Command("rollback", env="productoin", sha="abc1234")),
    ],
)
def test_environment_names_are_passed_on_for_the_worker_to_check(
    body: str, command: Command
) -> None:
    # data/deploy.yaml on the default branch is the one source of names: the worker answers
    # an unknown one, with "did you mean" (tests/workers/test_deploy_commands_e2e.py).
    assert parse_comment(body) == command


def test_an_unknown_command_with_nothing_close_lists_the_commands() -> None:
    message = reply("/shrug")
    assert "`/shrug` is not a command." in message
    assert "Did you mean" not in message


@pytest.mark.parametrize(
    "body",
    [
        "/deploy $(curl evil)",
        "/deploy prod;rm",
        "/deploy `id`",
        "/deploy <img src=x>",
        "/deploy @everyone",
        "/deploy " + "a" * 41,
        "/deploy producción",
        "/rollback to abc1234 && true",
    ],
)
def test_unsafe_arguments_are_dropped_without_echo(body: str) -> None:
    parsed = parse_comment(body)
    assert isinstance(parsed, Dropped)
    assert body.split(maxsplit=1)[1] not in parsed.reason


def test_command_lines_lists_every_candidate_in_order() -> None:
    body = "/a x\n```\n/b\n```\n> /c\n/D y z"
    assert list(command_lines(body)) == [("a", ["x"]), ("d", ["y", "z"])]
