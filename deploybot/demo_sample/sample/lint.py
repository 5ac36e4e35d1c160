"""A line-length linter printing ruff's concise format."""
import pathlib
import sys

problems = 0
for path in sorted(pathlib.Path("sample").rglob("*.py")):
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if len(line) > 79:
            print(f"{path}:{number}:80: E501 Line too long ({len(line)} > 79)")
            problems += 1
sys.exit(1 if problems else 0)
