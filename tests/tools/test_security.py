"""The security stage never turns "could not audit" into a green "no vulnerabilities"."""

from __future__ import annotations

from typing import Any

from tools.security import NEUTRAL_EXIT, audit_verdict

SKIP = "Dependency not found on PyPI and could not be audited: {} (1.0)"


def report(*deps: dict[str, Any]) -> dict[str, Any]:
    return {"dependencies": list(deps), "fixes": []}


def test_skipped_packages_are_reported_as_not_audited() -> None:
    verdict = audit_verdict(
        report(
            {"name": "celery", "skip_reason": SKIP.format("celery")},
            {"name": "redis", "version": "8.1.0", "vulns": []},
        ),
        strict=False,
    )
    assert verdict.exit_code == NEUTRAL_EXIT
    assert "could not audit 1 of 2 packages" in "\n".join(verdict.lines)
    assert not any("no known vulnerabilities" in line for line in verdict.lines)


def test_strict_audit_fails_on_skips() -> None:
    verdict = audit_verdict(
        report({"name": "celery", "skip_reason": SKIP.format("celery")}), strict=True
    )
    assert verdict.exit_code == 1


def test_vulnerabilities_fail_with_their_ids() -> None:
    verdict = audit_verdict(
        report(
            {
                "name": "jinja2",
                "version": "2.0",
                "vulns": [{"id": "PYSEC-1", "fix_versions": ["3.1.5"]}],
            }
        ),
        strict=False,
    )
    assert verdict.exit_code == 1
    assert "jinja2 2.0: PYSEC-1 (fix: 3.1.5)" in verdict.lines


def test_a_fully_audited_clean_environment_passes() -> None:
    verdict = audit_verdict(
        report({"name": "redis", "version": "8.1.0", "vulns": []}), strict=False
    )
    assert verdict.exit_code == 0
    assert verdict.lines == ("pip-audit: 1 packages audited, no known vulnerabilities",)
