"""The exception tree is whole: every error the product declares is under the one root and drawn
in core/errors.py's tree, and whether it is retried follows from its type."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from types import ModuleType

from core import errors
from core.errors import DeploybotError, LockUnavailable, RedisUnavailable, TransientError
from workers.worker import retry_delay

# The tutor is a service of its own: it imports nothing of deploybot, its errors included.
PRODUCT = ("core", "bot", "workers", "deploy", "deploybot")


def _modules() -> list[ModuleType]:
    found = []
    for name in PRODUCT:
        package = importlib.import_module(name)
        found.append(package)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{name}."):
            if not info.name.endswith(".__main__"):  # the command line itself, run on import
                found.append(importlib.import_module(info.name))
    return found


def _declared() -> dict[str, type[BaseException]]:
    """Every exception class the product declares, by name."""
    return {
        cls.__name__: cls
        for module in _modules()
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, BaseException) and cls.__module__ == module.__name__
    }


def _drawn() -> dict[str, str | None]:
    """Each error the tree in core/errors.py draws, and its parent there."""
    doc = errors.__doc__ or ""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in doc.splitlines():
        match = re.match(r"^([│ ]*)(?:[├└]── )?([A-Z]\w+)\b", line)
        if match is None or not ("──" in line or line.strip() == "DeploybotError"):
            continue
        depth = len(match.group(1)) // 4 + (1 if "──" in line else 0)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match.group(2)] = stack[-1][1] if stack else None
        stack.append((depth, match.group(2)))
    return parents


def test_every_declared_error_is_under_the_root_and_drawn_where_it_hangs() -> None:
    declared = _declared()
    drawn = _drawn()
    assert drawn["DeploybotError"] is None
    outside = [name for name, cls in declared.items() if not issubclass(cls, DeploybotError)]
    assert outside == [], "errors outside DeploybotError"
    assert sorted(set(declared) - set(drawn)) == [], "errors missing from core/errors.py's tree"
    assert sorted(set(drawn) - set(declared)) == [], "the tree draws errors nobody declares"
    for name, parent in drawn.items():
        if parent is not None:
            assert parent in {base.__name__ for base in declared[name].__bases__}, name


def test_redis_not_answering_is_retried_soon_and_a_refusal_is_not() -> None:
    assert issubclass(LockUnavailable, TransientError)
    assert retry_delay(LockUnavailable("Redis did not answer"), 0) == RedisUnavailable.RETRY_S
    assert retry_delay(errors.LeaseLost("taken over"), 0) is None
