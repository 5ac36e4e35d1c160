"""The PR comment commands and their usage: one list for the parser and the workers' replies."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Final

USAGE: Final[dict[str, str]] = {
    "deploy": "/deploy [env] [--dry-run] [--accept-inconclusive <reason>] [--break-glass <reason>]",
    "rollback": "/rollback [env] [to <sha>]",
    "status": "/status [env]",
    "cancel": "/cancel [env]",
    "lock": "/lock [env] <reason>",
    "unlock": "/unlock [env]",
    "retest": "/retest [stage]",
    "ok-to-test": "/ok-to-test [sha]",
    "help": "/help",
}
COMMANDS: Final = tuple(USAGE)
# The commands workers/deploys/ answers; the others are CI's (workers/ci/).
DEPLOY_COMMANDS: Final = frozenset({"deploy", "rollback", "status", "cancel", "lock", "unlock"})
# /deploy's flags; those that take a reason take the words after them.
DEPLOY_FLAGS: Final = ("--dry-run", "--accept-inconclusive", "--break-glass")
REASON_FLAGS: Final = frozenset({"--accept-inconclusive", "--break-glass"})
# A reason (/lock, --accept-inconclusive, --break-glass, and the CLI's --reason) is echoed on
# GitHub and recorded: words of letters, digits and plain punctuation, nothing markdown or HTML
# acts on (no @mention, link, code, emphasis, table cell or tag).
_REASON_WORD: Final = re.compile(r"(?:[^\W_]|[.,:;!?'\"()/+=%-]|#\d)+")
# What GitHub would turn into a link without markup: a URL, and a reference to another
# repository's issue (owner/repo#1); "#12" on its own stays.
_LINKISH: Final = re.compile(r"://|^www\.|[^(]#", re.IGNORECASE)
MAX_REASON: Final = 200
REASON_HELP: Final = (
    "A reason is words of letters, digits and . , : ; ! ? ' \" ( ) / + = % - (and #123), "
    f"no link, at most {MAX_REASON} characters."
)
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


def reason(words: Sequence[str]) -> str | None:
    """The words of a reason, joined (None: none, or not what a reason may hold)."""
    joined = " ".join(words)
    if not words or len(joined) > MAX_REASON:
        return None
    if not all(_REASON_WORD.fullmatch(w) and not _LINKISH.search(w) for w in words):
        return None
    return joined
