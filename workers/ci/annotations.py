"""Turn the output of ruff, mypy, pytest and bandit into GitHub check-run annotations."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

# GitHub caps an annotation's message at 64 KB and its title at 255 characters.
MAX_MESSAGE = 4000
MAX_TITLE = 255
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


@dataclass(frozen=True)
class Annotation:
    path: str
    start_line: int
    end_line: int
    level: str  # notice | warning | failure
    message: str
    title: str | None = None

    def to_github(self) -> dict[str, object]:
        body: dict[str, object] = {
            "path": self.path,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "annotation_level": self.level,
            "message": _cut(self.message, MAX_MESSAGE),
        }
        if self.title:
            body["title"] = _cut(self.title, MAX_TITLE)
        return body


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


# Where a tool found something, before the path is checked against the workdir.
@dataclass(frozen=True)
class _Finding:
    path: str
    line: int
    level: str
    message: str
    title: str | None


# -- ruff ------------------------------------------------------------------------------------
# A rule code ("F401 ...") or, from `ruff format --check`, "unformatted: ...".
_RUFF_CODE = r"(?P<code>[A-Z]+\d+|unformatted):? (?P<msg>.+)"
_RUFF_CONCISE = re.compile(r"^(?P<path>[^\s:][^:]*):(?P<line>\d+):\d+: " + _RUFF_CODE + "$")
_RUFF_HEADER = re.compile("^" + _RUFF_CODE + "$")
_RUFF_FIXABLE = "[*] "
_RUFF_ARROW = re.compile(r"^\s*--> (?P<path>[^:]+):(?P<line>\d+):\d+$")
_RUFF_FORMAT_OLD = re.compile(r"^Would reformat: (?P<path>.+)$")  # ruff before 0.9


def _ruff_finding(path: str, line: str, code: str, message: str) -> _Finding:
    if message.startswith(_RUFF_FIXABLE):
        message = message.removeprefix(_RUFF_FIXABLE) + " (fixable with `ruff check --fix`)"
    title = "ruff format" if code == "unformatted" else f"ruff {code}"
    return _Finding(path, int(line), "failure", message, title)


def _ruff(lines: list[str]) -> Iterator[_Finding]:
    header: re.Match[str] | None = None
    for text in lines:
        if m := _RUFF_CONCISE.match(text):
            yield _ruff_finding(m["path"], m["line"], m["code"], m["msg"])
        elif m := _RUFF_ARROW.match(text):
            # The full format puts "CODE message" on the line above " --> path:line:col".
            if header is not None:
                yield _ruff_finding(m["path"], m["line"], header["code"], header["msg"])
            header = None
        elif m := _RUFF_FORMAT_OLD.match(text):
            yield _ruff_finding(m["path"], "1", "unformatted", "File would be reformatted")
        else:
            header = _RUFF_HEADER.match(text)


# -- mypy ------------------------------------------------------------------------------------
_MYPY = re.compile(
    r"^(?P<path>[^\s:][^:]*):(?P<line>\d+):(?:\d+:)? (?P<sev>error|warning): (?P<msg>.+?)"
    r"(?:  \[(?P<code>[a-z0-9-]+)\])?$"
)


def _mypy(lines: list[str]) -> Iterator[_Finding]:
    for text in lines:
        if m := _MYPY.match(text):
            level = "failure" if m["sev"] == "error" else "warning"
            title = f"mypy [{m['code']}]" if m["code"] else "mypy"
            yield _Finding(m["path"], int(m["line"]), level, m["msg"], title)


# -- bandit ----------------------------------------------------------------------------------
_BANDIT_ISSUE = re.compile(r"^>> Issue: \[(?P<code>[^\]]+)\] (?P<msg>.+)$")
_BANDIT_SEVERITY = re.compile(r"^\s+Severity: (?P<sev>\w+)")
_BANDIT_LOCATION = re.compile(r"^\s+Location: (?P<path>.+):(?P<line>\d+):\d+$")


def _bandit(lines: list[str]) -> Iterator[_Finding]:
    issue: re.Match[str] | None = None
    level = "failure"
    for text in lines:
        if m := _BANDIT_ISSUE.match(text):
            issue, level = m, "failure"
        elif (m := _BANDIT_SEVERITY.match(text)) and issue is not None:
            level = "warning" if m["sev"] == "Low" else "failure"
        elif (m := _BANDIT_LOCATION.match(text)) and issue is not None:
            code = issue["code"].split(":")[0]
            yield _Finding(m["path"], int(m["line"]), level, issue["msg"], f"bandit {code}")
            issue = None


# -- pytest ----------------------------------------------------------------------------------
_PYTEST_SECTION = re.compile(r"^_{3,} (?P<name>.+?) _{3,}$")
_PYTEST_LOCATION = re.compile(r"^(?P<path>[^\s:][^:]*\.py):(?P<line>\d+):(?: .*)?$")
_PYTEST_BANNER = re.compile(r"^={3,} .* ={3,}$")
# "FAILED tests/test_x.py::TestC::test_y[a b] - message"; the node id starts with a .py file.
_PYTEST_SUMMARY = re.compile(
    r"^(?P<kind>FAILED|ERROR) (?P<node>[^\s:]+\.py(?:::[^\s\[:]+)*(?:\[.*?\](?= - |$))?)"
    r"(?: - (?P<msg>.*))?$"
)
SourceReader = Callable[[str], str | None]


@dataclass(frozen=True)
class _Section:
    locations: list[tuple[str, int]]
    errors: list[str]  # the "E   ..." lines: the assertion or exception


def _pytest_sections(lines: list[str]) -> dict[str, _Section]:
    sections: dict[str, _Section] = {}
    current: _Section | None = None
    for text in lines:
        if m := _PYTEST_SECTION.match(text):
            current = sections.setdefault(m["name"], _Section([], []))
        elif _PYTEST_BANNER.match(text):
            current = None
        elif current is not None:
            if m := _PYTEST_LOCATION.match(text):
                current.locations.append((m["path"], int(m["line"])))
            elif text.startswith("E   "):
                current.errors.append(text[1:].strip())
    return sections


def _definition_line(source: str, test: str) -> int | None:
    name = re.escape(test.split("::")[-1].split("[")[0])
    for number, text in enumerate(source.splitlines(), start=1):
        if re.match(rf"\s*(?:async\s+)?def {name}\b", text):
            return number
    return None


def _pytest(lines: list[str], read_source: SourceReader | None) -> Iterator[_Finding]:
    sections = _pytest_sections(lines)
    for text in lines:
        m = _PYTEST_SUMMARY.match(text)
        if m is None:
            continue
        path, _, test = m["node"].partition("::")
        name = test.replace("::", ".")
        keys = (
            [name, f"ERROR at setup of {name}", f"ERROR at teardown of {name}"]
            if test
            else [f"ERROR collecting {path}"]
        )
        section = next((sections[k] for k in keys if k in sections), _Section([], []))
        # Point at the test's own file: the deepest traceback entry in it is the failing line.
        in_file = [line for p, line in section.locations if p == path]
        line = in_file[-1] if in_file else None
        if line is None and test and read_source is not None:
            source = read_source(path)
            line = _definition_line(source, test) if source is not None else None
        message = "\n".join(section.errors[:40]) or m["msg"] or m["kind"].lower()
        verb = "failed" if m["kind"] == "FAILED" else "error"
        yield _Finding(path, line or 1, "failure", message, f"{m['node']} {verb}")


def _relative(path: str, workdir: str) -> str | None:
    """path relative to workdir, or None when it lies outside (site-packages, /tmp, ...)."""
    if path.startswith("./"):
        path = path[2:]
    if posixpath.isabs(path):
        root = posixpath.normpath(workdir)
        path = posixpath.normpath(path)
        if not path.startswith(root + "/"):
            return None
        return path[len(root) + 1 :]
    path = posixpath.normpath(path)
    if path.startswith("../") or path in {".", ".."} or path.startswith("<"):
        return None
    return path


def parse(output: str, workdir: str, read_source: SourceReader | None = None) -> list[Annotation]:
    """Annotations for every problem the tools reported, deduplicated, in the order printed.

    read_source(path) returns a file's text (or None); when given, a pytest failure without a
    traceback line is pinned to the test's `def` line instead of line 1.
    """
    lines = [line.rstrip() for line in strip_ansi(output).replace("\r\n", "\n").split("\n")]
    found = [*_ruff(lines), *_mypy(lines), *_pytest(lines, read_source), *_bandit(lines)]
    annotations: list[Annotation] = []
    seen: set[Annotation] = set()
    for f in found:
        path = _relative(f.path, workdir)
        if path is None:
            continue
        annotation = Annotation(path, f.line, f.line, f.level, f.message, f.title)
        if annotation not in seen:
            seen.add(annotation)
            annotations.append(annotation)
    return annotations
