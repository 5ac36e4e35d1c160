"""The pull request's one CI summary comment (pure): each stage with its result and link."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from core.names import CI_SUMMARY_MARKER
from workers.conclusions import FAILED

ICONS: Final = {
    "queued": "⏳",
    "in_progress": "🔄",
    "success": "✅",
    "failure": "❌",
    "timed_out": "⏱️",
    "neutral": "⚠️",
    "skipped": "⏭️",
    "cancelled": "🚫",
    "action_required": "❗",
}
RUNNING: Final = frozenset({"queued", "in_progress"})
SHORT_SHA: Final = 10


def row(state: str, url: str | None, order: int, reason: str | None = None) -> dict[str, Any]:
    """One stage's line as stored between pipelines (JSON-safe)."""
    return {"state": state, "url": url, "order": order, "reason": reason}


def verdict(rows: Mapping[str, Mapping[str, Any]]) -> str:
    states = {str(r["state"]) for r in rows.values()}
    if states & RUNNING:
        return "running"
    if states & FAILED:
        return "failed"
    return "passed" if states else "not started"


def render(sha: str, rows: Mapping[str, Mapping[str, Any]], note: str | None = None) -> str:
    """The comment body for the head commit `sha`; `note` explains a pipeline that cannot run."""
    lines = [CI_SUMMARY_MARKER, f"### deploybot CI for `{sha[:SHORT_SHA]}`: {verdict(rows)}", ""]
    if note:
        lines += [note, ""]
    if rows:
        lines += ["| stage | result |", "|---|---|"]
        for name, r in sorted(rows.items(), key=lambda item: (int(item[1]["order"]), item[0])):
            state = str(r["state"])
            label = f"[{name}]({r['url']})" if r.get("url") else name
            reason = f" ({_cell(str(r['reason']))})" if r.get("reason") else ""
            lines.append(f"| {label} | {ICONS.get(state, '')} {state.replace('_', ' ')}{reason} |")
        lines.append("")
    lines.append("Re-run with `/retest` or `/retest <stage>`; `/help` lists every command.")
    return "\n".join(lines)


def _cell(text: str) -> str:
    """Text kept inside one markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")
