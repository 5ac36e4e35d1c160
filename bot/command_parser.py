"""Parse PR comment commands (pure): which one command a comment asks for, or what to reply.

Environment names are only parsed here: data/deploy.yaml on the default branch is their one
source, and the worker that reads it answers an unknown one (with "did you mean")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from core.commands import COMMANDS, USAGE, help_text, suggest

# A command line: "/word" then only whitespace-separated arguments. "/usr/bin" is no command.
_COMMAND_LINE = re.compile(r"/([A-Za-z][A-Za-z-]{0,29})(?:[ \t]+(.*))?")
# Arguments the bot will ever echo or act on; anything else is dropped without a reply.
_SAFE_ARG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
_SHA = re.compile(r"[0-9a-fA-F]{7,40}")
_STAGE = re.compile(r"[a-z][a-z0-9_-]{0,39}")
_FENCE = re.compile(r"(`{3,}|~{3,})")


@dataclass(frozen=True)
class Command:
    """A command the comment asks for, with its arguments validated."""

    name: str
    env: str | None = None
    sha: str | None = None
    stage: str | None = None


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
    unsafe = [arg for arg in args if not _SAFE_ARG.fullmatch(arg)]
    if unsafe:
        return Dropped(f"/{name} has an argument with characters commands never use")
    usage = Reply(help_text(f"Usage: `{USAGE[name]}`."))
    if name in {"deploy", "status"}:
        if len(args) > 1:
            return usage
        return Command(name, env=args[0].lower() if args else None)
    if name == "rollback":
        return _rollback(args, usage)
    if name == "ok-to-test":
        if len(args) > 1 or (args and not _SHA.fullmatch(args[0])):
            return usage
        return Command(name, sha=args[0].lower() if args else None)
    if name == "retest":
        if len(args) > 1 or (args and not _STAGE.fullmatch(args[0].lower())):
            return usage
        return Command(name, stage=args[0].lower() if args else None)
    return usage if args else Command(name)


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
