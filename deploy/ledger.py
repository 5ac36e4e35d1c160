"""The deploy ledger: every step of every deploy and rollback, appended (and fsynced) before it is
acted on and after it completes, one JSON line each, one file per environment. What is live, what
is the spare, where traffic is meant to go and what was left unfinished are derived from it
(`read`, pure), so a worker or a CLI that dies mid-deploy leaves a truth the next one reconciles.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from core.errors import LedgerError

BEGIN: Final = "begin"
END: Final = "end"
FAIL: Final = "fail"
FINISH: Final = "finish"  # the last entry of every deploy, with its outcome
# Steps whose end puts their release live on their colour.
WENT_LIVE: Final = frozenset({"flip", "reconcile", "failover"})

log = logging.getLogger(__name__)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Entry:
    """One line of the ledger."""

    deploy: str  # the deploy's id
    kind: str  # deploy | rollback | failover (the watcher moved traffic off a dead colour)
    step: str  # a step of deploy/machine.py, or finish
    phase: str  # begin | end | fail
    commit: str  # the release this deploy puts live
    colour: str | None = None  # the colour the step acts on
    previous: str | None = None  # the release live before it (what a flip-back returns to)
    route: str | None = None  # where traffic is meant to go from this entry on
    outcome: str = ""  # on finish: done | aborted | flipped-back | failed | reconciled
    by: str = ""
    detail: str = ""
    at: str = field(default_factory=now)
    extra: dict[str, Any] = field(default_factory=dict)


_TEXT: Final = frozenset({"deploy", "kind", "step", "phase", "commit"})
_OPTIONAL: Final = frozenset({"colour", "previous", "route"})


@dataclass(frozen=True)
class Damage:
    """A line of the ledger that was skipped: which, and why."""

    line: int
    reason: str


def parse(data: bytes) -> tuple[list[Entry], list[Damage]]:
    """The entries of a ledger file's bytes, and the lines that are not entries (pure). A line
    cut short by a crash mid-write, or damaged on disk, is skipped: the rest still counts."""
    found, damaged = [], []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            found.append(_entry(json.loads(raw.decode("utf-8"))))
        except (ValueError, TypeError, RecursionError) as exc:
            damaged.append(Damage(number, f"{exc.__class__.__name__}: {str(exc)[:120]}"))
    return found, damaged


def _entry(fields_: object) -> Entry:
    """An Entry from one decoded line; TypeError when a field is missing or of the wrong type."""
    if not isinstance(fields_, dict) or set(fields_) - {f.name for f in fields(Entry)}:
        raise TypeError("not an entry of this ledger")
    for name, value in fields_.items():
        expected = dict if name == "extra" else (str, type(None)) if name in _OPTIONAL else str
        if not isinstance(value, expected):
            raise TypeError(f"{name} is {type(value).__name__}")
    if not set(fields_) >= _TEXT:
        raise TypeError(f"missing {', '.join(sorted(_TEXT - set(fields_)))}")
    return Entry(**fields_)


def environments(root: Path) -> list[str]:
    """The environments that have a ledger under root, sorted."""
    return sorted(path.stem for path in root.glob("*.jsonl"))


class Ledger:
    """root/<environment>.jsonl"""

    def __init__(self, root: Path, environment: str) -> None:
        self.path = root / f"{environment}.jsonl"

    def append(self, entry: Entry) -> None:
        """Written whole and on disk before this returns (the caller acts only after), or
        LedgerError with nothing of it left in the file."""
        line = json.dumps(asdict(entry), sort_keys=True) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LedgerError(self._cannot(exc)) from exc
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = "\n" + line  # the last writer died mid-line: that line stays apart
            _write_all(fd, line.encode(), size)
            os.fsync(fd)
        except OSError as exc:
            raise LedgerError(self._cannot(exc)) from exc
        finally:
            os.close(fd)

    def _cannot(self, exc: OSError) -> str:
        return (
            f"cannot write the deploy ledger {self.path}: {exc.strerror or exc}; the run stopped "
            "here and the next command settles it (free space in the data dir first)"
        )

    def entries(self) -> list[Entry]:
        """Every entry that can be read; the lines that cannot are skipped and named in the
        log."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        found, damaged = parse(data)
        for damage in damaged:
            log.warning("%s:%d: skipped a damaged line (%s)", self.path, damage.line, damage.reason)
        return found


def _write_all(fd: int, data: bytes, size: int) -> None:
    """Every byte of data, or OSError with the file cut back to `size` (no half line left)."""
    written = 0
    try:
        while written < len(data):
            count = os.write(fd, data[written:])
            if count == 0:
                raise OSError(f"wrote {written} of {len(data)} bytes")
            written += count
    except OSError:
        os.ftruncate(fd, size)
        raise


@dataclass(frozen=True)
class Live:
    commit: str
    colour: str
    since: str
    by: str
    deploy: str


@dataclass(frozen=True)
class State:
    """What the ledger says of one environment."""

    live: Live | None
    colours: dict[str, str | None]  # colour -> the release it holds (serving or warm)
    route: str | None  # the colour traffic is meant to go to (a flip in progress included)
    unfinished: list[Entry]  # every entry of a deploy that has no finish yet
    deploys: list[list[Entry]]  # every deploy and rollback, oldest first, its entries in order
    bad: frozenset[str]  # releases flipped back from or rolled back from, not deployed since

    @property
    def spare(self) -> tuple[str, str] | None:
        """(colour, release) of the warm colour beside the live one, if it holds one."""
        if self.live is None:
            return None
        for colour, commit in self.colours.items():
            if colour != self.live.colour and commit is not None:
                return colour, commit
        return None

    def releases_live(self) -> list[str]:
        """The releases that were live, in the order they last went live (latest last)."""
        return releases_live(entry for deploy in self.deploys for entry in deploy)


def read(entries: Sequence[Entry]) -> State:
    """The environment's state from its ledger (pure)."""
    live: Live | None = None
    colours: dict[str, str | None] = {}
    route: str | None = None
    routed_by = ""  # the run whose entry said `route` last
    bad: set[str] = set()
    grouped: dict[str, list[Entry]] = {}
    for entry in entries:
        grouped.setdefault(entry.deploy, []).append(entry)
        if entry.route is not None:
            route, routed_by = entry.route, entry.deploy
        if entry.step == FINISH:
            _judge(entry, bad)
            if routed_by == entry.deploy:  # only a run's own last intent settles it
                live = _settled(entry, live, colours, route)
        live = _apply(entry, live, colours)
    deploys = list(grouped.values())
    open_ = [d for d in deploys if not any(e.step == FINISH for e in d)]
    return State(live, colours, route, open_[-1] if open_ else [], deploys, frozenset(bad))


def _judge(finish: Entry, bad: set[str]) -> None:
    """What a finished run says of releases: the bake flipped back from it, or a rollback to
    "the previous release" left it (both: bad, never a rollback's target); a release deployed
    again is judged afresh."""
    if finish.extra.get("bad"):
        bad.add(finish.commit)
    elif finish.outcome == "done" and finish.extra.get("left_bad") and finish.previous:
        bad.add(finish.previous)
    elif finish.outcome == "done" and finish.kind == "deploy":
        bad.discard(finish.commit)


def _settled(
    finish: Entry, live: Live | None, colours: dict[str, str | None], route: str | None
) -> Live | None:
    """What is live once a run has finished: where it meant traffic to go. A run whose last
    move the switch refused (HAProxy died mid flip back) leaves its intent in the ledger, and
    `deploybot proxy` routes there when HAProxy starts again; the record says the same."""
    if route is None or (live is not None and live.colour == route):
        return live
    commit = colours.get(route)
    if commit is None:
        return live
    return Live(commit, route, finish.at, finish.by, finish.deploy)


def _apply(entry: Entry, live: Live | None, colours: dict[str, str | None]) -> Live | None:
    """What one completed step changes: the colours' releases and which is live."""
    if entry.phase != END or entry.colour is None:
        return live
    if entry.step == "start":
        colours[entry.colour] = entry.commit
    elif entry.step in {"remove", "flip-back"}:
        colours[entry.colour] = None
        if entry.step == "flip-back" and entry.route is not None and entry.previous:
            return Live(entry.previous, entry.route, entry.at, entry.by, entry.deploy)
        if live is not None and live.colour == entry.colour:
            return None  # the live colour itself was taken out: nothing serves
    elif entry.step in WENT_LIVE:
        colours[entry.colour] = entry.commit
        return Live(entry.commit, entry.colour, entry.at, entry.by, entry.deploy)
    return live


def releases_live(entries: Iterable[Entry]) -> list[str]:
    """The releases that were live, in the order they went live (each once, latest last)."""
    order: list[str] = []
    for entry in entries:
        went_live = None
        if entry.phase == END and entry.step in WENT_LIVE:
            went_live = entry.commit
        elif entry.phase == END and entry.step == "flip-back":
            went_live = entry.previous
        if went_live:
            if went_live in order:
                order.remove(went_live)
            order.append(went_live)
    return order
