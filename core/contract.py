"""The task contract: every Celery task's name, queue and arguments, defined once.

Each task is a frozen dataclass here. The receiver builds its message from it (and sends it by
name, so it never imports worker code), the worker's task receives it, and the tests build it the
same way; tests/test_contract.py proves that each has exactly one registered worker task accepting
exactly these arguments. Arguments stay small and flat: ids and short strings the worker re-reads
GitHub with. Names are stable: a message queued before an upgrade runs after it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Final, Self

from celery import Celery

from core.errors import PayloadError

QUEUE_DEFAULT: Final = "default"
# Stages and deploys run for minutes; a queue of their own keeps webhook-driven quick work moving.
QUEUE_LONG: Final = "long"
# Rollbacks (the command and the button) have a queue and a worker of their own: no stage, build
# or deploy waiting for its turn ever stands between on-call and the previous release.
QUEUE_ROLLBACK: Final = "rollbacks"
QUEUES: Final = (QUEUE_DEFAULT, QUEUE_LONG, QUEUE_ROLLBACK)

Scalar = str | int | bool | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Message:
    """One task's arguments; a subclass names the task (NAME) and the queue it goes to (QUEUE)."""

    NAME: ClassVar[str]
    QUEUE: ClassVar[str]

    @property
    def queue(self) -> str:
        """The queue this message goes to (its kind's, unless its arguments say otherwise)."""
        return self.QUEUE

    def kwargs(self) -> dict[str, Scalar]:
        """The task's keyword arguments, as they travel in the broker's JSON."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_kwargs(cls, kwargs: Mapping[str, object]) -> Self:
        """The message a task received; PayloadError naming the argument that does not fit."""
        hints = typing.get_type_hints(cls)
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(kwargs) - set(names))
        if unknown:
            raise PayloadError(f"{cls.NAME}: unknown arguments {', '.join(unknown)}")
        for f in dataclasses.fields(cls):
            required = f.default is dataclasses.MISSING
            if f.name not in kwargs:
                if required:
                    raise PayloadError(f"{cls.NAME}: argument {f.name} is missing")
                continue
            if not _fits(kwargs[f.name], hints[f.name]):
                raise PayloadError(f"{cls.NAME}: argument {f.name} must be {hints[f.name]}")
        return cls(**kwargs)


def _fits(value: object, hint: Any) -> bool:
    allowed = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if isinstance(value, bool) and bool not in allowed:
        return False  # bool is an int subclass; an id is never True
    return any(value is None if t is type(None) else isinstance(value, t) for t in allowed)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Delivered(Message):
    """A task some delivery (or schedule tick) asked for: a redelivered task resumes that run."""

    delivery_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class InRepo(Delivered):
    """A task about one repository of one installation."""

    installation_id: int
    repo: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class OnComment(InRepo):
    """A task answering one comment on a pull request."""

    pr_number: int
    comment_id: int
    sender: str


# -- sent by the receiver (bot/) ----------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class RunPipeline(InRepo):
    """CI for a pull request's head commit."""

    NAME: ClassVar[str] = "workers.pipeline.run"
    QUEUE: ClassVar[str] = QUEUE_LONG
    pr_number: int
    sha: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Rerun(InRepo):
    """A re-run asked from the Checks UI (a suite or one check run) or by /retest, /ok-to-test."""

    NAME: ClassVar[str] = "workers.pipeline.rerun"
    QUEUE: ClassVar[str] = QUEUE_LONG
    scope: str  # "suite" | "stage"
    stage: str | None
    check_suite_id: int | None
    check_run_id: int | None
    sha: str
    pr_number: int | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunRelease(InRepo):
    """A pushed v* tag."""

    NAME: ClassVar[str] = "workers.release.run"
    QUEUE: ClassVar[str] = QUEUE_LONG
    tag: str
    sha: str
    default_branch: str | None = None
    sender: str = "a tag push"  # who pushed the tag: the release's requester on record


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunCommand(OnComment):
    """A PR comment command the parser accepted, with its validated arguments."""

    NAME: ClassVar[str] = "workers.commands.run"
    QUEUE: ClassVar[str] = QUEUE_DEFAULT
    command: str
    env: str | None = None
    sha: str | None = None
    stage: str | None = None
    # /deploy's flags (the two reasons as given) and /lock's words.
    dry_run: bool = False
    accept_inconclusive: str | None = None
    break_glass: str | None = None
    reason: str | None = None
    # When the receiver got the comment (core.heads.stamp): /ok-to-test approves only a head it
    # had seen by then.
    received_at: str

    @property
    def queue(self) -> str:
        return QUEUE_ROLLBACK if self.command == "rollback" else self.QUEUE


@dataclasses.dataclass(frozen=True, kw_only=True)
class CommandHelp(OnComment):
    """The parser's help for a command that cannot run as written (posted only for writers)."""

    NAME: ClassVar[str] = "workers.commands.help"
    QUEUE: ClassVar[str] = QUEUE_DEFAULT
    message: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class CheckRunAction(InRepo):
    """A button pressed on one of deploybot's check runs (the one button is Roll back)."""

    NAME: ClassVar[str] = "workers.commands.check_run_action"
    QUEUE: ClassVar[str] = QUEUE_ROLLBACK
    action: str
    check_run_id: int
    sha: str
    sender: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecordPush(InRepo):
    """A push to the default branch: what nightly and weekly runs test."""

    NAME: ClassVar[str] = "workers.records.push"
    QUEUE: ClassVar[str] = QUEUE_DEFAULT
    branch: str
    sha: str


# -- sent by the workers themselves --------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class RunDeploy(OnComment):
    """A /deploy the command task accepted (permission, a merged PR, a known environment): its
    merge commit staged if need be, then deployed. Long work, so a queue of its own kind."""

    NAME: ClassVar[str] = "workers.deploys.run"
    QUEUE: ClassVar[str] = QUEUE_LONG
    env: str
    sha: str  # the pull request's merge commit
    default_branch: str  # where data/deploy.yaml was read
    # Nothing that changes traffic: report what a deploy would do.
    dry_run: bool = False
    # The reasons given by a sender allowed to override (checked by the command task).
    accept_inconclusive: str | None = None
    break_glass: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class FailedOver(Message):
    """`deploybot proxy`'s watcher moved an environment's traffic off its dead live colour (the
    ledger's run `run_id`): on-call is told. Quick, and news on-call needs first."""

    NAME: ClassVar[str] = "workers.deploys.failed_over"
    QUEUE: ClassVar[str] = QUEUE_ROLLBACK
    env: str
    run_id: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Recover(Message):
    """Start again every run whose worker died (beat, and once after a worker starts)."""

    NAME: ClassVar[str] = "workers.recover"
    QUEUE: ClassVar[str] = QUEUE_DEFAULT


@dataclasses.dataclass(frozen=True, kw_only=True)
class Scheduled(Message):
    """A nightly or weekly tick (beat): one ScheduledRepo per repository with a default head."""

    NAME: ClassVar[str] = "workers.schedule.run"
    QUEUE: ClassVar[str] = QUEUE_DEFAULT
    trigger: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ScheduledRepo(InRepo):
    """One repository's scheduled run of the matrix on its default branch's head."""

    NAME: ClassVar[str] = "workers.schedule.run.repo"
    QUEUE: ClassVar[str] = QUEUE_LONG
    sha: str
    branch: str
    trigger: str


CONTRACT: Final[tuple[type[Message], ...]] = (
    RunPipeline,
    Rerun,
    RunRelease,
    RunCommand,
    RunDeploy,
    FailedOver,
    CommandHelp,
    CheckRunAction,
    RecordPush,
    Recover,
    Scheduled,
    ScheduledRepo,
)
BY_NAME: Final[dict[str, type[Message]]] = {m.NAME: m for m in CONTRACT}


def routes() -> dict[str, dict[str, str]]:
    """Celery's task_routes: each task to its queue."""
    return {m.NAME: {"queue": m.QUEUE} for m in CONTRACT}


def parse(name: str, kwargs: Mapping[str, object]) -> Message:
    """A message stored by name and kwargs (e.g. a run to resume), checked against the contract."""
    try:
        kind = BY_NAME[name]
    except KeyError:
        raise PayloadError(f"{name!r} is not a task of the contract") from None
    return kind.from_kwargs(kwargs)


def send(celery: Celery, message: Message, **options: Any) -> None:
    """Queue the message's task by name on its queue; nobody waits for its result."""
    celery.send_task(
        message.NAME, kwargs=message.kwargs(), queue=message.queue, ignore_result=True, **options
    )
