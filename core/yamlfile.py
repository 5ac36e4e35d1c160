"""Typed reading of a YAML configuration file (the CI matrix, deploy.yaml): every error names the
file and the line, unknown keys are errors, and nothing but plain scalars, lists and mappings is
accepted (YAML's own type guessing never decides what a value is)."""

from __future__ import annotations

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from core.errors import ConfigFileError

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"


class Reader:
    """Typed access to yaml nodes that reports errors at the node's line, as `error`."""

    def __init__(self, source: str, error: type[ConfigFileError] = ConfigFileError) -> None:
        self.source = source
        self.error = error

    def fail(self, node: Node, reason: str) -> ConfigFileError:
        return self.error(self.source, node.start_mark.line + 1, reason)

    def compose(self, text: str, expected: str) -> Node:
        """The document's root node; a file:line error for broken YAML or an empty file."""
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else 1
            reason = " ".join(p for p in (exc.context, exc.problem) if p)
            raise self.error(self.source, line, f"invalid YAML: {reason}") from None
        except yaml.YAMLError as exc:
            raise self.error(self.source, 1, f"invalid YAML: {exc}") from None
        if root is None:
            raise self.error(self.source, 1, f"the file is empty; expected {expected}")
        return root

    def mapping(self, node: Node, what: str, allowed: frozenset[str] | None) -> dict[str, Node]:
        """The mapping's nodes by key; `allowed` None takes any key (names the user chooses)."""
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        fields: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = self.string(key_node, f"a key of {what}")
            if key in fields:
                raise self.fail(key_node, f"duplicate key {key!r} in {what}")
            if allowed is not None and key not in allowed:
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

    def number(self, node: Node, what: str) -> float:
        """An integer or a decimal number."""
        if isinstance(node, ScalarNode) and node.tag == _INT:
            return float(self.integer(node, what))
        value = self.scalar(node, _FLOAT, what, "a number")
        try:
            return float(value.replace("_", ""))
        except ValueError:
            raise self.fail(node, f"{what} must be a decimal number") from None

    def boolean(self, node: Node, what: str) -> bool:
        return self.scalar(node, _BOOL, what, "true or false").lower() in {"true", "yes", "on"}

    def strings(self, node: Node, what: str) -> list[str]:
        return [self.string(item, f"each entry of {what}") for item in self.sequence(node, what)]
