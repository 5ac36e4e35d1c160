"""The status page `deploybot serve` adds to the receiver's status listener (DEPLOYBOT_STATUS_ADDR,
never the webhook's port): `GET /` (HTML) and `GET /api/status` (the same as JSON). Per
environment: what is live (commit, digests, since when, who), the warm spare, any lock, the recent
deploys and rollbacks, and the four DORA metrics over 7 and 30 days with their definitions, from
the deploy ledgers under DEPLOYBOT_DATA_DIR. Read-only, no secrets, no external assets (the chart
is inline SVG).

`collect` reads (the ledgers, the release index, the locks); `render` is pure."""

from __future__ import annotations

import asyncio
import html
import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from bot.app import Listeners, create_listeners
from core.errors import DeploybotError
from core.settings import Settings
from deploy import dora, freeze
from deploy.ledger import FINISH, Entry, Ledger, environments, read
from deploy.lock import Locks
from deploy.places import locks
from deploybot.dora_metrics import DoraFigures

RECENT: Final = 15
CHART_DAYS: Final = 30
DEFINITIONS: Final = {
    "deployment frequency": "deploys that put a release live, per day over the window, and the "
    "number of days that had one",
    "lead time for changes": "median time from a release's commit to it going live",
    "change failure rate": "deploys followed by a rollback or an automatic flip-back, divided by "
    "the deploys that went live",
    "time to restore": "median time from a failure being detected (the bake's alert, or the "
    "rollback being asked for) to a healthy release being live again",
}


def _manifest(data_dir: Path, commit: str) -> dict[str, Any]:
    """The staged release's manifest, whichever repository it belongs to ({} when none)."""
    for path in sorted((data_dir / "releases").glob(f"*/{commit}.json")):
        found: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return found
    return {}


def _recent(entries: list[Entry]) -> list[dict[str, Any]]:
    finished = [e for e in entries if e.step == FINISH]
    return [
        {"kind": e.kind, "commit": e.commit, "outcome": e.outcome, "at": e.at, "by": e.by}
        for e in reversed(finished[-RECENT:])
    ]


def _daily(entries: list[Entry], now: datetime) -> list[dict[str, Any]]:
    """Per day of the last CHART_DAYS: deploys that went live, and those of them that failed (as
    the change failure rate counts them)."""
    days = [(now - timedelta(days=n)).date() for n in reversed(range(CHART_DAYS))]
    counts = {day: {"deploys": 0, "failed": 0} for day in days}
    failed = dora.failures(entries)
    for entry in entries:
        if entry.kind == "deploy" and entry.step == "flip" and entry.phase == "end":
            day = datetime.fromisoformat(entry.at).date()
            if day in counts:
                counts[day]["deploys"] += 1
                counts[day]["failed"] += entry.deploy in failed
    return [{"day": day.isoformat(), **counts[day]} for day in days]


def environment(data_dir: Path, name: str, lock: Locks | None, now: datetime) -> dict[str, Any]:
    entries = Ledger(data_dir / "ledger", name).entries()
    state = read(entries)
    live = state.live
    spare = state.spare
    holder = lock.holder(name) if lock is not None else None
    manifest = _manifest(data_dir, live.commit) if live else {}
    windows = lock.sticky.windows(name) if lock is not None else None
    frozen = freeze.current(windows or (), now)
    coming = freeze.upcoming(windows or (), now)
    held = lock.sticky.held(name) if lock is not None else None
    return {
        "name": name,
        "live": {
            **asdict(live),
            "model_digest": manifest.get("model_digest"),
            "image": manifest.get("image") or None,
        }
        if live
        else None,
        "spare": {"colour": spare[0], "commit": spare[1]} if spare else None,
        "lock": asdict(holder) if holder else None,
        "queue": [asdict(h) for _, h in lock.queue(name)] if lock is not None else [],
        "sticky": asdict(held) if held else None,
        "freeze": {
            "known": windows is not None,
            "now": frozen.to_json() if frozen else None,
            "next": coming.to_json() if coming else None,
        },
        "in_progress": bool(state.unfinished),
        "recent": _recent(entries),
        "daily": _daily(entries, now),
        "dora": {str(m.days): asdict(m) for m in dora.all_windows(entries, now)},
    }


def collect(data_dir: Path, lock: Locks | None, now: datetime | None = None) -> dict[str, Any]:
    """Every environment that has a ledger, as the page shows it."""
    when = now or datetime.now(UTC)
    names = environments(data_dir / "ledger")
    return {
        "generated_at": when.isoformat(timespec="seconds"),
        "environments": [environment(data_dir, name, lock, when) for name in names],
        "definitions": DEFINITIONS,
    }


# -- rendering (pure) ------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape(str(value))


def _sha(commit: str | None) -> str:
    return f"<code>{_e(commit[:12])}</code>" if commit else "—"


def duration(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 10:
        return f"{value:.1f} s"
    if value < 120:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.1f} h"


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def chart(daily: list[dict[str, Any]]) -> str:
    """Deploys per day as bars (failed ones in red), inline SVG."""
    width, height, bar = 12 * len(daily), 60, 10
    top = max([d["deploys"] for d in daily] + [1])
    bars = []
    for i, day in enumerate(daily):
        ok_h = (day["deploys"] - day["failed"]) / top * (height - 10)
        bad_h = day["failed"] / top * (height - 10)
        x = i * 12
        title = f"<title>{_e(day['day'])}: {day['deploys']} deploys, {day['failed']} failed</title>"
        bars.append(
            f'<g>{title}<rect x="{x}" y="{height - ok_h:.1f}" width="{bar}" height="{ok_h:.1f}" '
            f'fill="#2da44e"/><rect x="{x}" y="{height - ok_h - bad_h:.1f}" width="{bar}" '
            f'height="{bad_h:.1f}" fill="#cf222e"/></g>'
        )
    return (
        f'<svg role="img" aria-label="deploys per day, last {len(daily)} days" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
        f'<line x1="0" y1="{height}" x2="{width}" y2="{height}" stroke="#888"/>'
        + "".join(bars)
        + "</svg>"
    )


def _dora_table(found: dict[str, dict[str, Any]]) -> str:
    week, month = found["7"], found["30"]
    rows = [
        (
            "deployment frequency",
            f"{week['per_day']:.2f}/day ({week['days_with_a_deploy']} days)",
            f"{month['per_day']:.2f}/day ({month['days_with_a_deploy']} days)",
        ),
        ("lead time for changes", duration(week["lead_time_s"]), duration(month["lead_time_s"])),
        (
            "change failure rate",
            f"{rate(week['change_failure_rate'])} ({week['failures']}/{week['deploys']})",
            f"{rate(month['change_failure_rate'])} ({month['failures']}/{month['deploys']})",
        ),
        (
            "time to restore",
            duration(week["time_to_restore_s"]),
            duration(month["time_to_restore_s"]),
        ),
    ]
    body = "".join(
        f"<tr><th>{_e(name)}</th><td>{_e(a)}</td><td>{_e(b)}</td></tr>" for name, a, b in rows
    )
    return f"<table><tr><th></th><th>7 days</th><th>30 days</th></tr>{body}</table>"


def _row(what: str, shown: str) -> str:
    """A row of an environment's table; `shown` is HTML already escaped."""
    return f"<tr><th>{_e(what)}</th><td>{shown}</td></tr>"


def _environment_html(env: dict[str, Any]) -> str:
    live, spare, lock = env["live"], env["spare"], env["lock"]
    facts = [
        _row(
            "live",
            f"{_sha(live['commit'])} on {_e(live['colour'])} since {_e(live['since'])} by "
            f"{_e(live['by'])}; model <code>{_e(live['model_digest'] or '?')}</code>"
            if live
            else "nothing",
        ),
        _row(
            "spare", f"{_sha(spare['commit'])} on {_e(spare['colour'])} (warm)" if spare else "none"
        ),
        _row(
            "lock",
            f"{_e(lock['kind'])} of {_sha(lock['commit'])} by {_e(lock['who'])} since "
            f"{_e(lock['since'])}"
            if lock
            else "free",
        ),
        *_control_rows(env),
    ]
    recent = "".join(
        f"<li>{_e(r['at'])} {_e(r['kind'])} {_sha(r['commit'])}: <b>{_e(r['outcome'])}</b> "
        f"by {_e(r['by'])}</li>"
        for r in env["recent"]
    )
    return (
        f"<section><h2>{_e(env['name'])}</h2><table>{''.join(facts)}</table>"
        f"<h3>DORA metrics</h3>{_dora_table(env['dora'])}"
        f"<h3>Deploys per day, last {CHART_DAYS} days</h3>{chart(env['daily'])}"
        f"<h3>Recent deploys and rollbacks</h3><ol>{recent or '<li>none yet</li>'}</ol></section>"
    )


def _control_rows(env: dict[str, Any]) -> list[str]:
    """The rows of what holds the environment: the queue, the sticky lock, freeze windows."""
    queue = "".join(
        f"<li>{_sha(q['commit'])} by {_e(q['who'])}"
        + (f" from #{_e(q['pr'])}" if q["pr"] is not None else "")
        + f", asked {_e(q['since'])}</li>"
        for q in env["queue"]
    )
    held = env["sticky"]
    rows = [
        _row("queue", f"<ol>{queue}</ol>" if queue else "empty"),
        _row(
            "held",
            f"🔒 by {_e(held['who'])} since {_e(held['since'])}: {_e(held['reason'])}"
            if held
            else "no",
        ),
    ]
    if not env["freeze"]["known"]:
        unknown = "unknown: no deploy command has read this environment's deploy.yaml yet"
        return [*rows, _row("freeze windows", unknown)]
    return [
        *rows,
        _window_row("frozen now", env["freeze"]["now"], "no"),
        _window_row("next freeze", env["freeze"]["next"], "none within a year"),
    ]


def _window_row(what: str, window: dict[str, str] | None, none: str) -> str:
    shown = (
        f"{_e(window['reason'])}: {_e(window['start'])} until {_e(window['end'])} "
        f"({_e(window['timezone'])})"
        if window
        else none
    )
    return _row(what, shown)


STYLE: Final = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:60em;color:#1f2328}"
    "table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #d0d7de;"
    "padding:.3em .6em;text-align:left}code{font-size:.95em}dt{font-weight:bold}"
)


def render(status: dict[str, Any]) -> str:
    """The page (pure): every value escaped, no script, no external asset."""
    sections = "".join(_environment_html(env) for env in status["environments"])
    definitions = "".join(
        f"<dt>{_e(name)}</dt><dd>{_e(text)}</dd>" for name, text in status["definitions"].items()
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>deploybot status</title>"
        f"<style>{STYLE}</style></head><body><h1>deploybot status</h1>"
        f"<p>generated {_e(status['generated_at'])}</p>"
        f"{sections or '<p>No environment has been deployed to yet.</p>'}"
        f"<h2>Definitions</h2><dl>{definitions}</dl></body></html>"
    )


def web_app(settings: Settings) -> Listeners:
    """What `deploybot serve` runs: the receiver, and its status listener with the status page
    and the DORA figures in its /metrics."""
    listeners = create_listeners(settings, computed=[DoraFigures(settings.data_dir / "ledger")])
    listeners.status.router.routes.extend(routes(settings))
    return listeners


def routes(settings: Settings) -> list[Route]:
    def read() -> dict[str, Any]:
        with locks(settings.redis_url, settings.deploy_lease_s) as lock:
            try:
                return collect(settings.data_dir, lock)
            except DeploybotError:  # Redis away: the page still shows the ledgers, without locks
                return collect(settings.data_dir, None)

    async def gathered() -> dict[str, Any]:
        return await asyncio.to_thread(read)

    async def page(_: Request) -> HTMLResponse:
        return HTMLResponse(render(await gathered()))

    async def api(_: Request) -> JSONResponse:
        return JSONResponse(await gathered())

    return [Route("/", page, methods=["GET"]), Route("/api/status", api, methods=["GET"])]
