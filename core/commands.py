"""The PR comment commands and their usage: one list for the parser and the workers' replies."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Final

USAGE: Final[dict[str, str]] = {
    "deploy": "/deploy [env]",
    "rollback": "/rollback [env] [to <sha>]",
    "status": "/status [env]",
    "retest": "/retest [stage]",
    "ok-to-test": "/ok-to-test [sha]",
    "help": "/help",
}
COMMANDS: Final = tuple(USAGE)
# The commands workers/deploys/ answers; the others are CI's (workers/ci/).
DEPLOY_COMMANDS: Final = frozenset({"deploy", "rollback", "status"})
# Hidden in every help reply so the bot can recognise its own help comments.
HELP_MARKER: Final = "<!-- deploybot:help -->"


def help_text(problem: str | None = None) -> str:
    """The help comment: what went wrong (if anything), then every command's usage."""
    usage = "\n".join(f"- `{line}`" for line in USAGE.values())
    intro = f"{problem}\n\n" if problem else ""
    return f"{HELP_MARKER}\n{intro}Commands (each on its own line of a comment):\n{usage}"


def suggest(problem: str, given: str, choices: Sequence[str], prefix: str = "") -> str:
    """The problem, with "Did you mean" the closest choice when one is close."""
    close = difflib.get_close_matches(given, choices, n=1, cutoff=0.6)
    if not close:
        return problem
    return f"{problem} Did you mean `{prefix}{close[0]}`?"
