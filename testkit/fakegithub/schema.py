"""Matches a request to an operation of GitHub's REST description and validates it (pure)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

SPEC_FILE = "rest-api-subset.json"


class SchemaViolation(ValueError):
    """GitHub would refuse this request; the message says which rule it breaks."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    path_params: Mapping[str, str]  # name -> JSON type
    query_params: Mapping[str, str]
    body_schema: Mapping[str, Any] | None
    body_required: bool


@dataclass(frozen=True)
class Matched:
    operation: Operation
    path_params: Mapping[str, str | int]
    body: Any


def _openapi_to_jsonschema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` is not JSON Schema; rewrite it as a union with null."""
    if isinstance(node, list):
        return [_openapi_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _openapi_to_jsonschema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True:
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        if "type" not in out:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _template_regex(template: str) -> re.Pattern[str]:
    # {basehead} and {ref} may contain slashes on GitHub ("main...feature/x", "heads/a/b").
    parts = re.split(r"(\{[^}]+\})", template)
    regex = ""
    for part in parts:
        if part.startswith("{"):
            name = part[1:-1]
            regex += f"(?P<{name}>.+)" if name in {"basehead", "ref"} else f"(?P<{name}>[^/]+)"
        else:
            regex += re.escape(part)
    return re.compile(f"^{regex}$")


@cache
def operations() -> tuple[Operation, ...]:
    spec = json.loads(resources.files(__package__).joinpath(SPEC_FILE).read_text("utf-8"))
    found: list[Operation] = []
    for template, item in spec["paths"].items():
        shared_params = item.get("parameters", [])
        for method, op in item.items():
            if method == "parameters":
                continue
            params = [*shared_params, *op.get("parameters", [])]
            body = op.get("requestBody")
            schema = body["content"]["application/json"]["schema"] if body else None
            found.append(
                Operation(
                    operation_id=op["operationId"],
                    method=method.upper(),
                    template=template,
                    pattern=_template_regex(template),
                    path_params={
                        p["name"]: p["schema"].get("type", "string")
                        for p in params
                        if p["in"] == "path"
                    },
                    query_params={
                        p["name"]: p["schema"].get("type", "string")
                        for p in params
                        if p["in"] == "query"
                    },
                    body_schema=_openapi_to_jsonschema(schema) if schema else None,
                    body_required=bool(body and body.get("required")),
                )
            )
    # Literal segments beat parameters: /issues/comments/{id} must not match /issues/{number}/...
    found.sort(key=lambda o: (o.template.count("{"), -len(o.template)))
    return tuple(found)


_format_checker = jsonschema.FormatChecker()


@_format_checker.checks("date-time", raises=ValueError)
def _is_iso8601(value: object) -> bool:
    if not isinstance(value, str):
        return True
    # GitHub documents YYYY-MM-DDTHH:MM:SSZ; a timestamp without a zone is ambiguous and refused.
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.tzinfo is not None


def _coerce(name: str, raw: str, json_type: str, where: str) -> str | int:
    if json_type == "integer":
        if not raw.isdigit():
            raise SchemaViolation(
                404 if where == "path" else 422,
                f"{where} parameter {name}={raw!r} is not an integer",
            )
        return int(raw)
    if json_type == "boolean" and raw not in {"true", "false"}:
        raise SchemaViolation(422, f"query parameter {name}={raw!r} is not a boolean")
    return raw


def match(method: str, path: str, query: Mapping[str, str], raw_body: bytes) -> Matched:
    """Find the operation for (method, path) and validate parameters and body, or raise."""
    path_known = False
    for op in operations():
        found = op.pattern.match(path)
        if not found:
            continue
        path_known = True
        if op.method != method:
            continue
        params = {
            name: _coerce(name, value, op.path_params.get(name, "string"), "path")
            for name, value in found.groupdict().items()
        }
        for name, value in query.items():
            if name not in op.query_params:
                raise SchemaViolation(422, f"{op.operation_id}: unknown query parameter {name!r}")
            _coerce(name, value, op.query_params[name], "query")
        return Matched(op, params, _validate_body(op, raw_body))
    if path_known:
        raise SchemaViolation(404, f"{method} is not an operation of {path}")
    raise SchemaViolation(404, f"no GitHub REST operation matches {method} {path}")


def _validate_body(op: Operation, raw_body: bytes) -> Any:
    if not raw_body.strip():
        if op.body_required:
            raise SchemaViolation(400, f"{op.operation_id}: a JSON body is required")
        return None
    if op.body_schema is None:
        return None
    try:
        body = json.loads(raw_body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SchemaViolation(400, f"{op.operation_id}: body is not JSON ({exc})") from None
    validator = jsonschema.Draft202012Validator(op.body_schema, format_checker=_format_checker)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        detail = "; ".join(
            f"{'/'.join(str(p) for p in e.absolute_path) or '(body)'}: {e.message}"
            for e in errors[:5]
        )
        raise SchemaViolation(422, f"{op.operation_id}: invalid request body: {detail}")
    return body
