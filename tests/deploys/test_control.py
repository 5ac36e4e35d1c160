"""Deploy control, pure: freeze windows (cron in a time zone, a duration), what a sticky lock or
a freeze lets through, and what a dry run says a deploy would do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from deploy.config import DeployConfigError, load_config
from deploy.control import Control, decide
from deploy.freeze import Window, current, parse_duration, problem, upcoming
from deploy.ledger import Entry, read
from deploy.lock import holder_now
from deploy.plan import plan, verdict_line
from deploy.sticky import hold_now
from tests.deploys.test_config import MINIMAL

MADRID = ZoneInfo("Europe/Madrid")
# Friday 17:00 in Madrid until Monday 08:00 (2d15h).
WEEKEND = Window("0 17 * * 5", "2d15h", "Europe/Madrid", "weekend")


def at(text: str, zone: ZoneInfo = MADRID) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("90m", 90), ("2h", 120), ("3d", 3 * 24 * 60), ("1d12h", 36 * 60), ("1h30m", 90)],
)
def test_durations(text: str, minutes: int) -> None:
    assert parse_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["", "0m", "2 h", "h", "90", "1.5h", "2w", "-1h"])
def test_what_is_not_a_duration(text: str) -> None:
    assert parse_duration(text) is None


def test_inside_a_window_from_its_first_minute_to_before_its_end() -> None:
    windows = (WEEKEND,)
    assert current(windows, at("2026-12-04T16:59")) is None
    started = current(windows, at("2026-12-04T17:00"))
    assert started is not None
    assert started.start == at("2026-12-04T17:00")
    assert started.end == at("2026-12-07T08:00")
    assert current(windows, at("2026-12-06T23:00")) == started
    assert current(windows, at("2026-12-07T07:59")) == started
    assert current(windows, at("2026-12-07T08:00")) is None
    # The same instant seen from another zone is the same answer.
    assert current(windows, at("2026-12-04T16:30", ZoneInfo("UTC"))) == started


def test_a_window_keeps_its_wall_clock_across_a_change_of_summer_time() -> None:
    # Summer time ends in Madrid on Sunday 2026-10-25: the window still starts at 17:00 local.
    before = current((WEEKEND,), at("2026-10-23T17:30"))
    after = current((WEEKEND,), at("2026-10-30T17:30"))
    assert before is not None
    assert after is not None
    assert before.start.astimezone(UTC).hour == 15  # 17:00 CEST
    assert after.start.astimezone(UTC).hour == 16  # 17:00 CET
    assert before.end == at("2026-10-26T08:00")


def test_the_next_window_and_the_one_that_ends_last_of_several() -> None:
    nightly = Window("0 22 * * *", "8h", "UTC", "nightly backups")
    thursday = at("2026-12-03T12:00")
    coming = upcoming((WEEKEND, nightly), thursday)
    assert coming is not None
    assert coming.window == nightly
    assert coming.start == datetime(2026, 12, 3, 22, tzinfo=UTC)
    # Saturday 23:30 UTC: inside both; the weekend ends last.
    both = current((WEEKEND, nightly), datetime(2026, 12, 5, 23, 30, tzinfo=UTC))
    assert both is not None
    assert both.window == WEEKEND
    said = both.describe(datetime(2026, 12, 5, 23, 30, tzinfo=UTC))
    assert said.startswith("weekend (from Fri 2026-12-04 17:00 until Mon 2026-12-07 08:00")
    assert "Europe/Madrid; 1d 7h left)" in said


@pytest.mark.parametrize(
    ("cron", "duration", "zone", "says"),
    [
        ("0 17 * *", "2h", "UTC", "must be five fields"),
        ("0 0 17 * * 5", "2h", "UTC", "must be five fields"),
        ("0 25 * * *", "2h", "UTC", "is not five cron fields"),
        ("0 17 * * 5", "2h", "Mars/Olympus", "is not an IANA time zone name"),
        ("0 17 * * 5", "2 hours", "UTC", "must be minutes, hours or days"),
        ("0 17 * * 5", "40d", "UTC", "longer than 31 days"),
        ("0 17 * * 5", "99999999999999999d", "UTC", "must be minutes, hours or days"),
        ("0 17 * * 5", "2h", "Europe", "is not an IANA time zone name"),
    ],
)
def test_a_bad_window_says_which_field_and_why(
    cron: str, duration: str, zone: str, says: str
) -> None:
    found = problem(cron, duration, zone)
    assert found is not None
    assert says in found


def test_freeze_and_override_permission_in_deploy_yaml() -> None:
    text = MINIMAL + (
        "    override_permission: write\n"
        "    freeze:\n"
        '      - {cron: "0 17 * * 5", duration: 2d15h, timezone: Europe/Madrid, reason: weekend}\n'
    )
    env = load_config(text).environment("staging")
    assert env.override_permission == "write"
    assert env.freeze == (WEEKEND,)
    assert load_config(MINIMAL).environment("staging").override_permission == "admin"


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ('{cron: "0 17 * * 5", duration: 2h, timezone: UTC}', "needs reason"),
        ('{cron: "0 17 * * 5", duration: 2h, timezone: Nowhere, reason: x}', "IANA time zone"),
        ('{cron: "0 17 * * 5", duration: 2h, timezone: UTC, reason: x, why: y}', "unknown key"),
        ('{cron: "0 17 * * 5", duration: 2h, timezone: UTC, reason: " "}', "reason says why"),
        ('{cron: "0 17 * * 5", duration: 2h, timezone: UTC, reason: "a | b"}', "reason says why"),
    ],
)
def test_a_bad_freeze_entry_names_its_line(entry: str, says: str) -> None:
    text = MINIMAL + f"    freeze:\n      - {entry}\n"
    with pytest.raises(DeployConfigError, match=says) as raised:
        load_config(text)
    assert str(raised.value).startswith("data/deploy.yaml:6:")


def test_a_sticky_lock_refuses_others_deploys_never_its_holders_nor_a_rollback() -> None:
    held = Control(hold_now("alice", "db migration"), None)
    assert decide("deploy", "bob", held, break_glass=False).refused == "locked"
    assert decide("deploy", "bob", held, break_glass=True).refused == "locked"
    assert decide("deploy", "alice", held, break_glass=False).refused is None
    rollback = decide("rollback", "bob", held, break_glass=False)
    assert rollback.refused is None
    assert rollback.passed_lock == held.hold
    assert decide("rollback", "alice", held, break_glass=False).passed_lock is None


def test_a_freeze_refuses_deploys_unless_the_glass_is_broken_never_a_rollback() -> None:
    now = at("2026-12-05T10:00")
    frozen = Control(None, current((WEEKEND,), now))
    assert decide("deploy", "bob", frozen, break_glass=False).refused == "frozen"
    broke = decide("deploy", "bob", frozen, break_glass=True)
    assert broke.refused is None
    assert broke.broke_glass == frozen.frozen
    assert decide("rollback", "bob", frozen, break_glass=False).refused is None
    # The glass is only broken when there is a freeze.
    assert decide("deploy", "bob", Control(None, None), break_glass=True).broke_glass is None


def test_the_plan_of_a_deploy_names_the_colour_the_checks_the_flip_and_the_bake() -> None:
    env = load_config(MINIMAL).environment("staging")
    empty = read([])
    steps = plan(env, empty, "a" * 40, "127.0.0.1:5000/tutor@sha256:1")
    assert steps[0] == "start `127.0.0.1:5000/tutor@sha256:1` on blue (127.0.0.1:9081)"
    assert "GET /healthz until 3 answers in a row" in steps[1]
    assert steps[3] == "flip the front 127.0.0.1:9080 to blue"
    assert steps[4].startswith("bake 600 s")
    assert steps[4].endswith("with no spare (nothing was live before)")
    live = read(
        [
            Entry("d1", "deploy", "flip", "end", "b" * 40, colour="blue", route="blue"),
            Entry("d1", "deploy", "finish", "end", "b" * 40, outcome="done"),
        ]
    )
    steps = plan(env, live, "a" * 40, "")
    assert steps[0].startswith("start the release's tree of `aaaaaaaaaaaa` on green")
    assert steps[3] == "flip the front 127.0.0.1:9080 from blue (`bbbbbbbbbbbb`) to green"
    assert steps[4].endswith("then keep blue (`bbbbbbbbbbbb`) warm as the spare")
    assert plan(env, live, "b" * 40, "") == ["nothing: `bbbbbbbbbbbb` is already live on blue"]


def test_what_a_deploy_asked_now_would_meet_first() -> None:
    env = load_config(MINIMAL).environment("staging")
    free = decide("deploy", "bob", Control(None, None), break_glass=False)
    assert verdict_line(env, free, None, [], None) == "go ahead at once"
    assert verdict_line(env, free, None, [], "the gate says inconclusive").startswith(
        "be stopped before any traffic moves: the gate says inconclusive"
    )
    running = holder_now("carol", "deploy", "c" * 40, pr=7)
    waiting = [holder_now("dan", "deploy", "d" * 40, pr=8)]
    assert verdict_line(env, free, running, waiting, None).startswith(
        "wait its turn: number 2 in the queue, behind the deploy of cccccccccccc from #7 by carol"
    )
    locked = decide("deploy", "bob", Control(hold_now("alice", "db"), None), break_glass=False)
    assert verdict_line(env, locked, None, [], None).startswith(
        "be refused: staging is locked by alice"
    )
