"""`just docs`: the documentation must not drift from the code.

Checks every tracked Markdown file: relative links resolve; `just <recipe>` names a real recipe;
every `DEPLOYBOT_*` variable a document names is one the settings know; and the README's
configuration table lists every variable the settings know. Problems print as
`path:line:col: DOCnnn message`, the shape the CI stage turns into annotations.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
JUST = re.compile(r"\bjust ([a-z][a-z0-9-]*)")
VARIABLE = re.compile(r"\bDEPLOYBOT_[A-Z_]+\b")
CONFIGURATION = "## Configuration"
# A row of the configuration table: its first cell names one or more variables.
TABLE_ROW = re.compile(r"^\|([^|]*)\|")


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    column: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.code} {self.message}"


def check_text(
    path: str, text: str, *, exists: Iterable[str], recipes: Iterable[str], variables: Iterable[str]
) -> list[Problem]:
    """Problems in one Markdown document (pure: the file system comes in as `exists`)."""
    known_files, known_recipes, known_variables = set(exists), set(recipes), set(variables)
    base = Path(path).parent
    problems: list[Problem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for match in LINK.finditer(line):
            target = match.group(1).split("#", 1)[0]
            if not target or "://" in target or target.startswith("mailto:"):
                continue
            if os.path.normpath(base / target) not in known_files:
                problems.append(
                    Problem(path, number, match.start(1) + 1, "DOC001", f"broken link {target}")
                )
        for match in JUST.finditer(line):
            if match.group(1) not in known_recipes:
                problems.append(
                    Problem(
                        path,
                        number,
                        match.start(1) + 1,
                        "DOC002",
                        f"`just {match.group(1)}` is not a recipe of the justfile",
                    )
                )
        for match in VARIABLE.finditer(line):
            if match.group(0) not in known_variables:
                problems.append(
                    Problem(
                        path,
                        number,
                        match.start() + 1,
                        "DOC003",
                        f"{match.group(0)} is not a setting deploybot reads",
                    )
                )
    return problems


def table_problems(path: str, text: str, *, variables: Iterable[str]) -> list[Problem]:
    """Every variable the settings know that the configuration table does not list (pure)."""
    lines = text.splitlines()
    if CONFIGURATION not in lines:
        return [Problem(path, 1, 1, "DOC004", f"no {CONFIGURATION!r} section")]
    start = lines.index(CONFIGURATION) + 1
    listed: set[str] = set()
    for line in lines[start:]:
        if line.startswith("## "):
            break
        row = TABLE_ROW.match(line)
        if row:
            listed.update(VARIABLE.findall(row.group(1)))
    return [
        Problem(path, start, 1, "DOC004", f"the configuration table does not list {name}")
        for name in sorted(set(variables) - listed)
    ]


def _output(*argv: str) -> str:
    # Fixed tool invocations (git, just) found on PATH, as a developer runs them.
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=True)  # noqa: S603
    return done.stdout


def _tracked_files() -> list[str]:
    files = _output("git", "ls-files").split()
    directories = {str(p) for f in files for p in Path(f).parents if str(p) != "."}
    return sorted(set(files) | directories)


def _recipes() -> list[str]:
    return _output("just", "--summary").split()


def _variables() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from core.settings import PREFIX, Settings

    names = [name for name, _ in Settings().describe()]
    # The key may also come from a file; describe() shows the key itself once.
    return [*names, PREFIX + "GITHUB_PRIVATE_KEY_PATH"]


def main(argv: Sequence[str] | None = None) -> int:
    files = _tracked_files()
    documents = [f for f in files if f.endswith(".md")]
    recipes, variables = _recipes(), _variables()
    problems = [
        problem
        for doc in documents
        for problem in check_text(
            doc,
            (ROOT / doc).read_text(encoding="utf-8"),
            exists=files,
            recipes=recipes,
            variables=variables,
        )
    ]
    problems += table_problems(
        "README.md", (ROOT / "README.md").read_text(encoding="utf-8"), variables=variables
    )
    for problem in problems:
        print(problem)
    print(f"docs: {len(documents)} documents checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
