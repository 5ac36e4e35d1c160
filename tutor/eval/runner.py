"""The eval command: load the suites, run the checker and its table-only ablation, gate, report."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

from tutor.eval.http import HttpChecker
from tutor.eval.report import REGRESSION_SUITE, Run, build_report, render_text
from tutor.eval.scoring import HELD_OUT_SUITE, INJECTION_SUITE, Got, decide_gate, score_suite
from tutor.eval.suites import Suite, SuiteError, load_suite

CheckerKind = Literal["model", "table-only"]

# Suite name -> path inside the repository.
SUITE_PATHS: Mapping[str, str] = {
    REGRESSION_SUITE: "data/eval/regression_corpus.jsonl",
    INJECTION_SUITE: "data/eval/prompt_injection_set.jsonl",
    "capstone": "data/exams/phase-39-capstone.yaml",
    HELD_OUT_SUITE: "data/eval/harder_spanish.jsonl",
}
DEFAULT_REPORT = Path(".deploybot/eval/report.json")
EXIT_PASSED, EXIT_GATE_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class CorrectionLike(Protocol):
    @property
    def original(self) -> str: ...
    @property
    def suggestion(self) -> str: ...


class ResultLike(Protocol):
    @property
    def verdict(self) -> str: ...
    @property
    def corrections(self) -> Sequence[CorrectionLike]: ...


class CheckerLike(Protocol):
    """What the runner needs of tutor.checker.Checker (structural: scoring never loads a model)."""

    @property
    def name(self) -> str: ...
    @property
    def model_version(self) -> str: ...
    def check(self, sentence: str) -> ResultLike: ...


class CheckerFactory(Protocol):
    def __call__(
        self, kind: CheckerKind, *, model_path: Path | None = None, table_path: Path | None = None
    ) -> CheckerLike: ...


TableDigest = Callable[[Path | None], str]


class BadInput(Exception):
    """The previous release's report could not be read."""


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def load_suites(root: Path) -> list[Suite]:
    return [load_suite(name, root / relative) for name, relative in SUITE_PATHS.items()]


def answer(checker: CheckerLike, sentence: str) -> Got:
    """Ask the checker; an exception counts as a failed answer so one crash hides no score."""
    try:
        result = checker.check(sentence)
    except Exception as error:
        return Got(verdict="error", error=f"{type(error).__name__}: {error}")
    return Got(result.verdict, tuple((c.original, c.suggestion) for c in result.corrections))


def evaluate(checker: CheckerLike, suites: Sequence[Suite]) -> Run:
    """Run the checker over every suite and score it."""
    scores = {
        suite.name: score_suite(
            suite.name, suite.items, [answer(checker, i.sentence) for i in suite.items]
        )
        for suite in suites
    }
    return Run(checker=checker.name, model_digest=checker.model_version, scores=scores)


def _default_load_checker(
    kind: CheckerKind, *, model_path: Path | None = None, table_path: Path | None = None
) -> CheckerLike:
    # Imported on use: --help and bad-input errors should not pay for loading the model stack.
    from tutor.checker import load_checker

    return load_checker(kind, model_path=model_path, table_path=table_path)


def _default_table_digest(path: Path | None) -> str:
    from tutor.verify import ConjugationTable

    # Like load_checker: the default table must match its pin, an explicit one is taken as given.
    return ConjugationTable.load(path, verify_pin=path is None).digest


def read_previous_aggregate(path: Path) -> float:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadInput(f"{path}:1: cannot read the previous report: {error}") from error
    value = data.get("aggregate") if isinstance(data, dict) else None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise BadInput(f"{path}:1: the previous report has no numeric 'aggregate'")
    return float(value)


def write_report(path: Path, report: Mapping[str, object]) -> None:
    """Write atomically, so a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(report, handle, ensure_ascii=False, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it owner-only; a report is for everyone
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tutor.eval",
        description="Run the tutor's eval suites, compare with table-only, gate a release.",
    )
    parser.add_argument(
        "--gate-threshold", type=_fraction, default=0.95, help="minimum aggregate (0.95)"
    )
    parser.add_argument(
        "--report", type=Path, default=DEFAULT_REPORT, help=f"JSON report ({DEFAULT_REPORT})"
    )
    parser.add_argument("--checker", choices=["model", "table-only"], default="model")
    parser.add_argument(
        "--model", type=Path, help="model file (default: the checker's own default)"
    )
    parser.add_argument(
        "--table", type=Path, help="conjugation table (default: the verifier's own)"
    )
    parser.add_argument("--root", type=Path, default=None, help="repository holding the suites")
    parser.add_argument(
        "--url",
        help="judge the tutor serving at this URL (http://host:port) instead of loading one here; "
        "its /version names the model and table, and no table-only ablation runs",
    )
    parser.add_argument(
        "--failures", type=int, default=25, help="failures listed in the report (25)"
    )
    parser.add_argument("--previous-report", type=Path, help="report of the release being replaced")
    parser.add_argument(
        "--max-relative-drop",
        type=_fraction,
        help="fail if the aggregate fell by more than this fraction of the previous report's",
    )
    args = parser.parse_args(argv)
    if (args.previous_report is None) != (args.max_relative_drop is None):
        parser.error("--previous-report and --max-relative-drop go together")
    return args


def main(
    argv: Sequence[str] | None = None,
    *,
    load_checker: CheckerFactory = _default_load_checker,
    table_digest: TableDigest = _default_table_digest,
) -> int:
    """Exit 0 when the gate passes, 1 when it fails (with a one-line reason), 2 on bad input."""
    args = parse_args(argv)
    try:
        suites = load_suites(args.root or repo_root())
        previous = read_previous_aggregate(args.previous_report) if args.previous_report else None
        checker: CheckerLike
        ablation_checker: CheckerLike | None = None
        if args.url is not None:
            served = HttpChecker(args.url)
            checker, table = served, served.table_digest
        else:
            table = table_digest(args.table)
            checker = load_checker(args.checker, model_path=args.model, table_path=args.table)
            ablation_checker = (
                load_checker("table-only", table_path=args.table)
                if args.checker == "model"
                else None
            )
    except (SuiteError, BadInput) as error:
        print(f"eval: bad input: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (OSError, ValueError, RuntimeError) as error:
        print(f"eval: bad input: cannot load the checker or table: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    run = evaluate(checker, suites)
    ablation = evaluate(ablation_checker, suites) if ablation_checker is not None else None
    gate = decide_gate(
        run.scores,
        args.gate_threshold,
        previous_aggregate=previous,
        max_relative_drop=args.max_relative_drop,
    )
    print(render_text(run, ablation, table_digest=table, max_failures=args.failures))
    report = build_report(
        run,
        ablation,
        table_digest=table,
        gate=gate,
        threshold=args.gate_threshold,
        date=datetime.now(UTC).isoformat(timespec="seconds"),
        max_failures=args.failures,
        previous_aggregate=previous,
        max_relative_drop=args.max_relative_drop,
    )
    write_report(args.report, report)
    print(f"\nreport written to {args.report}")
    if not gate.passed:
        print(f"eval gate FAILED: {gate.reason}", file=sys.stderr)
        return EXIT_GATE_FAILED
    print(f"eval gate passed: {gate.reason}")
    return EXIT_PASSED
