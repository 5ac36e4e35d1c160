"""Parse PR comment commands (pure): which one command a comment asks for, or what to reply.

Environment names are only parsed here: data/deploy.yaml on the default branch is their one
source, and the worker that reads it answers an unknown one (with "did you mean")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from core.commands import (
    COMMANDS,
    DEPLOY_FLAGS,
    REASON_FLAGS,
    REASON_HELP,
    USAGE,
    help_text,
    reason,
    suggest,
)

# A command line: "/word" then only whitespace-separated arguments. "/usr/bin" is no command.
_COMMAND_LINE = re.compile(r"/([A-Za-z][A-Za-z-]{0,29})(?:[ \t]+(.*))?")
# Arguments the bot will ever echo or act on; anything else is dropped without a reply.
_SAFE_ARG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
_SHA = re.compile(r"[0-9a-fA-F]{7,40}")
_STAGE = re.compile(r"[a-z][a-z0-9_-]{0,39}")
_FENCE = re.compile(r"(`{3,}|~{3,})")
_FLAG = re.compile(r"--[a-z][a-z-]{0,29}")
# The commands with one optional argument: the field it fills, and its shape (None: a name).
_ONE_ARGUMENT: dict[str, tuple[str, re.Pattern[str] | None]] = {
    "status": ("env", None),
    "cancel": ("env", None),
    "unlock": ("env", None),
    "ok-to-test": ("sha", _SHA),
    "retest": ("stage", _STAGE),
}


@dataclass(frozen=True)
class Command:
    """A command the comment asks for, with its arguments validated."""

    name: str
    env: str | None = None
    sha: str | None = None
    stage: str | None = None
    dry_run: bool = False
    accept_inconclusive: str | None = None  # the reason given with the flag
    break_glass: str | None = None  # the reason given with the flag
    reason: str | None = None  # /lock's words: [env] then the reason (the worker knows envs)


@dataclass(frozen=True)
class Reply:
    """A command that cannot run as written; `message` is the help text to post (after the job
    has checked that the author may run commands)."""

    message: str


@dataclass(frozen=True)
class Dropped:
    """A command line whose arguments are not safe to echo or act on: ignored without a reply."""

    reason: str


Parsed = Command | Reply | Dropped


def parse_comment(body: str) -> Parsed | None:
    """The one command a comment asks for: the first known command wins; otherwise the first
    unknown or malformed one is answered; None when the comment has no command line at all."""
    first_problem: Reply | Dropped | None = None
    for name, args in command_lines(body):
        parsed = _parse(name, args)
        if isinstance(parsed, Command):
            return parsed
        first_problem = first_problem or parsed
    return first_problem


def command_lines(body: str) -> Iterator[tuple[str, list[str]]]:
    """(lower-cased name, arguments) of each line that starts with a command, outside fenced code,
    indented code and `>` quotes."""
    fence: str | None = None
    for raw in body.splitlines():
        stripped = raw.lstrip(" ")
        indent = len(raw) - len(stripped)
        marker = _FENCE.match(stripped) if indent < 4 else None
        if fence is not None:
            # Only a bare fence of the same character, at least as long, closes the block.
            bare = stripped.rstrip()
            if (
                marker
                and bare == marker.group(1)
                and bare[0] == fence[0]
                and len(bare) >= len(fence)
            ):
                fence = None
            continue
        if marker:
            fence = marker.group(1)
        elif indent < 4 and not stripped.startswith(">"):
            match = _COMMAND_LINE.fullmatch(stripped.rstrip())
            if match:
                yield match.group(1).lower(), (match.group(2) or "").split()


def _parse(name: str, args: list[str]) -> Parsed:
    if name not in COMMANDS:
        return Reply(help_text(suggest(f"`/{name}` is not a command.", name, COMMANDS, "/")))
    usage = Reply(help_text(f"Usage: `{USAGE[name]}`."))
    if name == "deploy":
        return _deploy(args, usage)
    if name == "lock":
        said = reason(args)
        if said is None:
            return Reply(help_text(f"Usage: `{USAGE[name]}`. {REASON_HELP}"))
        return Command(name, reason=said)
    unsafe = [arg for arg in args if not _SAFE_ARG.fullmatch(arg)]
    if unsafe:
        return Dropped(f"/{name} has an argument with characters commands never use")
    if name == "rollback":
        return _rollback(args, usage)
    one = args[0].lower() if args else None
    field, shape = _ONE_ARGUMENT.get(name, ("", None))
    if len(args) > 1 or (one and (not field or (shape and not shape.fullmatch(one)))):
        return usage
    given: dict[str, str | None] = {"env": None, "sha": None, "stage": None}
    given.update({field: one} if field else {})
    return Command(name, env=given["env"], sha=given["sha"], stage=given["stage"])


def _deploy(args: list[str], usage: Reply) -> Parsed:
    """`/deploy [env] [flags]`: the environment first; a reason flag takes the words after it,
    up to the next flag."""
    words = _flag_words(args, usage)
    if not isinstance(words, dict):
        return words
    if len(words[""]) > 1:
        return usage
    reasons: dict[str, str] = {}
    for flag in REASON_FLAGS & set(words):
        said = reason(words[flag])
        if said is None:
            return Reply(help_text(f"`{flag}` needs a reason: `{flag} <reason>`. {REASON_HELP}"))
        reasons[flag] = said
    return Command(
        "deploy",
        env=words[""][0].lower() if words[""] else None,
        dry_run="--dry-run" in words,
        accept_inconclusive=reasons.get("--accept-inconclusive"),
        break_glass=reasons.get("--break-glass"),
    )


def _flag_words(args: list[str], usage: Reply) -> dict[str, list[str]] | Reply | Dropped:
    """The words before any flag (under ""), and each flag's own words."""
    words: dict[str, list[str]] = {"": []}
    at = ""
    for arg in args:
        if arg.startswith("--"):
            flag = arg.lower()
            if not _FLAG.fullmatch(flag):
                return Dropped("/deploy has a flag with characters flags never use")
            if flag not in DEPLOY_FLAGS:
                said = suggest(f"`{flag}` is not a flag of `/deploy`.", flag, DEPLOY_FLAGS)
                return Reply(help_text(said))
            if flag in words:
                return usage
            words[flag], at = [], flag
        elif at in REASON_FLAGS:
            words[at].append(arg)
        elif not _SAFE_ARG.fullmatch(arg):
            return Dropped("/deploy has an argument with characters commands never use")
        elif at:
            return usage  # words after --dry-run
        else:
            words[""].append(arg)
    return words


def _rollback(args: list[str], usage: Reply) -> Parsed:
    sha = None
    lowered = [arg.lower() for arg in args]
    if "to" in lowered:
        at = lowered.index("to")
        if at != len(args) - 2 or not _SHA.fullmatch(args[-1]):
            return usage
        sha = args[-1].lower()
        lowered = lowered[:at]
    if len(lowered) > 1:
        return usage
    return Command("rollback", env=lowered[0] if lowered else None, sha=sha)
