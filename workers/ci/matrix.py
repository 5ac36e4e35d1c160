"""The CI matrix as data: load and validate data/ci-matrix.yaml, with file:line in every error."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar

from yaml.nodes import Node, SequenceNode

from core.errors import ConfigFileError
from core.yamlfile import Reader

TRIGGERS: Final = ("pr", "nightly", "weekly", "release", "opt-in")
# What a stage may ask for beyond its sandbox. docker: the host's Docker engine socket, which is
# root on the host; such a stage never runs for a fork's code.
NEEDS: Final = ("docker",)
# A stage name becomes the check run "deploybot/<name>" and the argument of `/retest <name>`.
_STAGE_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")
T = TypeVar("T")


@dataclass(frozen=True)
class Stage:
    name: str
    command: tuple[str, ...]
    triggers: frozenset[str]
    blocking: bool
    paths: tuple[str, ...]
    timeout_s: int
    order: int
    run_after_failure: bool
    needs: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Matrix:
    stages: tuple[Stage, ...]

    def stage(self, name: str) -> Stage:
        """The stage called name; KeyError (listing the known names) when there is none."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        known = ", ".join(s.name for s in self.stages)
        raise KeyError(f"no stage {name!r} in the matrix (known: {known})")


class MatrixError(ConfigFileError):
    """A malformed matrix file; str(error) is "<file>:<line>: <reason>"."""


_TOP_KEYS: Final = frozenset({"stages"})
_REQUIRED: Final = ("name", "command", "triggers", "timeout_s")
_OPTIONAL: Final = ("blocking", "paths", "order", "run_after_failure", "needs")


def _command(reader: Reader, node: Node, what: str) -> tuple[str, ...]:
    if isinstance(node, SequenceNode):
        argv = reader.strings(node, what)
    else:
        text = reader.string(node, f"{what} (a string or a list of arguments)")
        try:
            argv = shlex.split(text)
        except ValueError as exc:
            raise reader.fail(node, f"{what} cannot be split into arguments: {exc}") from None
    if not argv or not argv[0]:
        raise reader.fail(node, f"{what} is empty")
    return tuple(argv)


def _stage(reader: Reader, node: Node, position: int) -> Stage:
    fields = reader.mapping(node, f"stage #{position + 1}", frozenset(_REQUIRED + _OPTIONAL))
    for key in _REQUIRED:
        if key not in fields:
            raise reader.fail(node, f"stage #{position + 1} has no {key!r}")
    name = reader.string(fields["name"], "name")
    if not _STAGE_NAME.fullmatch(name):
        raise reader.fail(
            fields["name"], f"stage name {name!r} must be lower-case letters, digits, '-', '_', '.'"
        )
    what = f"stage {name!r}"
    triggers = reader.strings(fields["triggers"], f"{what}: triggers")
    if not triggers:
        raise reader.fail(fields["triggers"], f"{what}: triggers is empty")
    for trigger_node, trigger in zip(fields["triggers"].value, triggers, strict=True):
        if trigger not in TRIGGERS:
            raise reader.fail(
                trigger_node,
                f"{what}: unknown trigger {trigger!r} (known: {', '.join(TRIGGERS)})",
            )
    timeout_s = reader.integer(fields["timeout_s"], f"{what}: timeout_s")
    if timeout_s <= 0:
        raise reader.fail(fields["timeout_s"], f"{what}: timeout_s must be positive")

    def optional(key: str, read: Callable[[Node, str], T], default: T) -> T:
        return read(fields[key], f"{what}: {key}") if key in fields else default

    paths: list[str] = optional("paths", reader.strings, [])
    if any(not p for p in paths):
        raise reader.fail(fields["paths"], f"{what}: paths has an empty entry")
    return Stage(
        name=name,
        command=_command(reader, fields["command"], f"{what}: command"),
        triggers=frozenset(triggers),
        blocking=optional("blocking", reader.boolean, True),
        paths=tuple(paths),
        timeout_s=timeout_s,
        order=optional("order", reader.integer, position),
        run_after_failure=optional("run_after_failure", reader.boolean, False),
        needs=_needs(reader, fields.get("needs"), what),
    )


def _needs(reader: Reader, node: Node | None, what: str) -> frozenset[str]:
    needs = reader.strings(node, f"{what}: needs") if node is not None else []
    unknown = sorted(set(needs) - set(NEEDS))
    if node is not None and unknown:
        raise reader.fail(node, f"{what}: unknown need {unknown[0]!r} (known: {', '.join(NEEDS)})")
    return frozenset(needs)


def load_matrix(text: str, source: str = "data/ci-matrix.yaml") -> Matrix:
    """Parse and validate a matrix file; MatrixError says which line is wrong and why."""
    reader = Reader(source, MatrixError)
    root = reader.compose(text, "a mapping with 'stages'")
    top = reader.mapping(root, "the matrix", _TOP_KEYS)
    if "stages" not in top:
        raise reader.fail(root, "the matrix has no 'stages'")
    stage_nodes = reader.sequence(top["stages"], "stages")
    if not stage_nodes:
        raise reader.fail(top["stages"], "stages is empty")
    stages: list[Stage] = []
    for position, node in enumerate(stage_nodes):
        stage = _stage(reader, node, position)
        if any(s.name == stage.name for s in stages):
            raise reader.fail(node, f"duplicate stage name {stage.name!r}")
        stages.append(stage)
    return Matrix(tuple(stages))
