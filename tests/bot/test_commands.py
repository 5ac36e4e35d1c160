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
        ("/deploy --dry-run", Command("deploy", dry_run=True)),
        ("/deploy staging --DRY-RUN", Command("deploy", env="staging", dry_run=True)),
        (
            "/deploy --accept-inconclusive first release: no baseline (see #12)",
            Command("deploy", accept_inconclusive="first release: no baseline (see #12)"),
        ),
        (
            "/deploy prod --break-glass hotfix for the outage --dry-run",
            Command("deploy", env="prod", break_glass="hotfix for the outage", dry_run=True),
        ),
        (
            "/deploy --break-glass Überbrückung, señor --accept-inconclusive no baseline",
            Command("deploy", break_glass="Überbrückung, señor", accept_inconclusive="no baseline"),
        ),
        ("/cancel", Command("cancel")),
        ("/cancel Staging", Command("cancel", env="staging")),
        (
            "/lock db migration, back by 18:00",
            Command("lock", reason="db migration, back by 18:00"),
        ),
        ("/lock staging load test", Command("lock", reason="staging load test")),
        ("/unlock", Command("unlock")),
        ("/unlock staging", Command("unlock", env="staging")),
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
        ("/deploy production now", "Usage: `/deploy [env] [--dry-run]"),
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


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("/deploy --brake-glass now", "`--brake-glass` is not a flag of `/deploy`. Did you mean"),
        ("/deploy --dry-run --dry-run", "Usage: `/deploy [env] [--dry-run]"),
        ("/deploy --dry-run staging", "Usage: `/deploy [env] [--dry-run]"),
        ("/deploy --break-glass", "`--break-glass` needs a reason"),
        ("/deploy --accept-inconclusive --dry-run", "`--accept-inconclusive` needs a reason"),
        # A reason is echoed: nothing markdown, HTML or a mention acts on is taken.
        ("/deploy --break-glass ping @oncall", "`--break-glass` needs a reason"),
        ("/deploy --break-glass see [here](http://x)", "`--break-glass` needs a reason"),
        ("/deploy --break-glass `rm -rf`", "`--break-glass` needs a reason"),
        ("/deploy --break-glass a|b", "`--break-glass` needs a reason"),
        ("/deploy --break-glass see https://evil.example/x", "`--break-glass` needs a reason"),
        ("/deploy --break-glass see www.evil.example", "`--break-glass` needs a reason"),
        ("/deploy --break-glass as in other/repo#1", "`--break-glass` needs a reason"),
        ("/deploy --break-glass __bold__", "`--break-glass` needs a reason"),
        ("/deploy --break-glass &#64;admin", "`--break-glass` needs a reason"),
        ("/deploy --break-glass " + "word " * 41, "`--break-glass` needs a reason"),
        ("/lock", "Usage: `/lock [env] <reason>`"),
        ("/lock <b>maintenance</b>", "Usage: `/lock [env] <reason>`"),
        ("/unlock staging now", "Usage: `/unlock [env]`"),
        ("/cancel a b", "Usage: `/cancel [env]`"),
    ],
)
def test_flags_and_reasons_that_cannot_be_used_get_a_reply_that_never_echoes_them(
    body: str, says: str
) -> None:
    message = reply(body)
    assert says in message
    for bad in ("@oncall", "http://x", "rm -rf", "<b>", "a|b", "evil", "repo#1", "__bold", "&#64"):
        assert bad not in message


def test_every_deploy_control_command_is_in_the_help() -> None:
    message = reply("/nope")
    for usage in (
        "`/deploy [env] [--dry-run] [--accept-inconclusive <reason>] [--break-glass <reason>]`",
        "`/cancel [env]`",
        "`/lock [env] <reason>`",
        "`/unlock [env]`",
    ):
        assert usage in message


def test_command_lines_lists_every_candidate_in_order() -> None:
    body = "/a x\n```\n/b\n```\n> /c\n/D y z"
    assert list(command_lines(body)) == [("a", ["x"]), ("d", ["y", "z"])]
