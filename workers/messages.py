"""What both CI and deploys say on GitHub (pure): a missing permission, a run stopped by an error
or a lost worker, and a staged release's gate."""

from __future__ import annotations

from typing import Final

from deploy.manifest import Manifest
from deploy.progress import Step
from workers.check_output import Output, fence


def needs_permission(what: str, user: str, needed: str, has: str | None) -> str:
    held = f" (you have {has})" if has is not None else ""
    return (
        f"@{user} `{what}` needs {needed} access to this repository{held}; nothing was done. "
        f"Ask someone with {needed} access to run it."
    )


INTERNAL_ERROR_TITLE: Final = "deploybot could not finish this stage"
WORKER_LOST_TITLE: Final = "The worker running this stage died"


def internal_error(kind: str) -> str:
    return (
        f"deploybot stopped this run after an error it cannot retry ({kind}); the details are in "
        "the worker's log. Re-run it with `/retest` or the Re-run button."
    )


def worker_lost(attempts: int) -> str:
    return (
        f"The worker running this stage was lost {attempts} times (killed, out of memory or "
        "restarted) before the stage finished, so it is not tried again. Re-run it with "
        "`/retest <stage>` or the Re-run button."
    )


NOT_STAGED: Final = Output(
    "Not staged: no registry",
    "DEPLOYBOT_REGISTRY is not set, so this release was not built, pushed or gated. Set it to the "
    "OCI registry's host:port on the workers, then re-run this check run.",
)


def gate_blocked(verdict: str, report: str) -> Output:
    if verdict == "inconclusive":
        advice = (
            "An inconclusive gate blocks until a maintainer accepts it on record: a comment "
            "`/deploy [env] --accept-inconclusive <reason>` on the merged pull request by someone "
            "with the environment's `override_permission` (admin by default), or "
            "`deploybot release <sha> --accept-inconclusive REASON` on the worker's host."
        )
    else:
        advice = (
            "The release is not recorded; a new commit that fixes it is staged afresh (a failed "
            "gate is never overridden)."
        )
    return Output(f"Gate {verdict}: not deployable", f"{report}\n\n{advice}")


def release_failed(step: str, detail: str) -> Output:
    closing = fence(detail)
    return Output(
        f"The release failed at {step}",
        f"**{step}** failed; nothing was recorded in the release index.\n\n"
        f"{closing}text\n{detail}\n{closing}",
    )


def gate_passed(manifest: Manifest, steps: list[Step]) -> Output:
    timings = ", ".join(f"{s.name} {s.seconds:.1f} s" for s in steps if s.state == "done")
    latency = (
        f"{manifest.latency_p50_ms:.2f} ms against {manifest.previous_latency_p50_ms:.2f} ms"
        if manifest.latency_p50_ms is not None and manifest.previous_latency_p50_ms is not None
        else "not measured (no previous release beside it)"
    )
    return Output(
        f"Gate {manifest.verdict}: {manifest.commit[:10]} is staged",
        "\n".join(
            [
                *gate_table(manifest),
                f"Latency p50, side by side: {latency}.",
                f"Image `{manifest.image}`, model `{manifest.model_digest}`, "
                f"table `{manifest.table_digest}`.",
                f"Steps: {timings or 'staged before'}.",
            ]
        ),
    )


def gate_table(manifest: Manifest) -> list[str]:
    """The staged release's gate: verdict, suites against the previous release, checks."""
    aggregate = f"{manifest.aggregate:.4f}" if manifest.aggregate is not None else "-"
    checks = ", ".join(f"{name} {'✅' if ok else '❌'}" for name, ok in manifest.checks.items())
    previous = _commit(manifest.previous_commit)
    lines = [
        f"**Gate: {manifest.verdict.upper()}**, previous release {previous}",
        "",
        "| suite | score |",
        "|---|---|",
        *(f"| {name} | {s.score:.4f} |" for name, s in manifest.suites.items()),
        f"| **aggregate** | {aggregate} |",
        "",
        f"Checks: {checks or 'none recorded'}.",
    ]
    if manifest.override is not None:
        lines.append(
            f"Accepted though inconclusive by @{manifest.override.by}: {manifest.override.reason}"
        )
    return lines


def _commit(commit: str | None) -> str:
    return f"`{commit[:12]}`" if commit else "nothing"
