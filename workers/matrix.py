"""The CI matrix as data: load and validate data/ci-matrix.yaml, with file:line in every error."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from core.errors import ConfigFileError

TRIGGERS: Final = ("pr", "nightly", "weekly", "release", "opt-in")
# What a stage may ask for beyond its sandbox. docker: the host's Docker engine socket, which is
# root on the host; such a stage never runs for a fork's code.
NEEDS: Final = ("docker",)
# A stage name becomes the check run "deploybot/<name>" and the argument of `/retest <name>`.
_STAGE_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
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


class _Reader:
    """Typed access to yaml nodes that reports errors at the node's line."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: Node, reason: str) -> MatrixError:
        return MatrixError(self.source, node.start_mark.line + 1, reason)

    def mapping(self, node: Node, what: str, allowed: frozenset[str]) -> dict[str, Node]:
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        fields: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = self.string(key_node, f"a key of {what}")
            if key in fields:
                raise self.fail(key_node, f"duplicate key {key!r} in {what}")
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.fail(key_node, f"unknown key {key!r} in {what} (known: {known})")
            fields[key] = value_node
        return fields

    def sequence(self, node: Node, what: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return list(node.value)

    def scalar(self, node: Node, tag: str, what: str, kind: str) -> str:
        if not isinstance(node, ScalarNode) or node.tag != tag:
            raise self.fail(node, f"{what} must be {kind}")
        return str(node.value)

    def string(self, node: Node, what: str) -> str:
        return self.scalar(node, _STR, what, "a string")

    def integer(self, node: Node, what: str) -> int:
        value = self.scalar(node, _INT, what, "an integer")
        try:
            return int(value.replace("_", ""), 0)
        except ValueError:
            raise self.fail(node, f"{what} must be a decimal integer") from None

    def boolean(self, node: Node, what: str) -> bool:
        return self.scalar(node, _BOOL, what, "true or false").lower() in {"true", "yes", "on"}

    def strings(self, node: Node, what: str) -> list[str]:
        return [self.string(item, f"each entry of {what}") for item in self.sequence(node, what)]


_TOP_KEYS: Final = frozenset({"stages"})
_REQUIRED: Final = ("name", "command", "triggers", "timeout_s")
_OPTIONAL: Final = ("blocking", "paths", "order", "run_after_failure", "needs")


def _command(reader: _Reader, node: Node, what: str) -> tuple[str, ...]:
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


def _stage(reader: _Reader, node: Node, position: int) -> Stage:
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


def _needs(reader: _Reader, node: Node | None, what: str) -> frozenset[str]:
    needs = reader.strings(node, f"{what}: needs") if node is not None else []
    unknown = sorted(set(needs) - set(NEEDS))
    if node is not None and unknown:
        raise reader.fail(node, f"{what}: unknown need {unknown[0]!r} (known: {', '.join(NEEDS)})")
    return frozenset(needs)


def load_matrix(text: str, source: str = "data/ci-matrix.yaml") -> Matrix:
    """Parse and validate a matrix file; MatrixError says which line is wrong and why."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = " ".join(p for p in (exc.context, exc.problem) if p)
        raise MatrixError(source, line, f"invalid YAML: {reason}") from None
    except yaml.YAMLError as exc:
        raise MatrixError(source, 1, f"invalid YAML: {exc}") from None
    if root is None:
        raise MatrixError(source, 1, "the file is empty; expected a mapping with 'stages'")
    reader = _Reader(source)
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
