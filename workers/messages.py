"""What the workers say on GitHub besides stage results (pure): notes, replies, failure bodies."""

from __future__ import annotations

from typing import Final

from core.contract import RunCommand
from deploy.manifest import Manifest
from deploy.progress import Step
from workers.check_output import Output
from workers.conclusions import is_failed

NOT_IMPLEMENTED: Final = frozenset({"deploy", "rollback", "status"})

OK_TO_TEST_NOTE: Final = (
    "This pull request comes from a fork, so CI does not run its code yet. A maintainer with "
    "write access can comment `/ok-to-test` to run CI on the current head commit (each new push "
    "needs a new `/ok-to-test`)."
)


def not_implemented(command: RunCommand) -> str:
    asked = " ".join(
        part
        for part in (f"/{command.command}", command.env, f"to {command.sha}" if command.sha else "")
        if part
    )
    return (
        f"`{asked}` is not implemented yet: deploybot cannot {command.command} from a comment "
        "today. Nothing was done."
    )


def ok_to_test_moved(head: str) -> str:
    return (
        f"`/ok-to-test` approves the commit you saw, but this pull request's head is now "
        f"`{head[:10]}`, which arrived after your comment: nothing was approved and nothing "
        f"runs. Review it, then comment `/ok-to-test` again (or `/ok-to-test {head[:10]}`)."
    )


def ok_to_test_not_head(sha: str, head: str) -> str:
    return (
        f"`{sha}` is not this pull request's head (`{head[:10]}`): nothing was approved. "
        f"Comment `/ok-to-test {head[:10]}` to approve the head."
    )


def needs_write(command: str, user: str) -> str:
    return f"@{user} `/{command}` needs write access to this repository; nothing was done."


def unknown_stage(stage: str, known: list[str]) -> str:
    names = ", ".join(f"`{name}`" for name in known)
    return f"`/retest {stage}`: the CI matrix has no stage `{stage}` (stages: {names})."


def matrix_error_body(
    name: str, sha: str, external_id: str, error: str, branch: str
) -> dict[str, object]:
    """A completed, failed check run for a CI matrix that cannot be read."""
    return {
        "name": name,
        "head_sha": sha,
        "external_id": external_id,
        "status": "completed",
        "conclusion": "failure",
        "output": {
            "title": "The CI matrix is malformed",
            "summary": (
                f"`{error}`\n\nNo stage ran. The matrix is read from the default branch "
                f"(`{branch}`), never from the change under test: fix it there."
            ),
        },
    }


PREPARE_FAILED: Final = "Could not check out the commit or install its dependencies"
NO_PULL_REQUEST: Final = (
    "not run: this commit is neither on the default branch nor the head of a pull request of "
    "this repository (a fork's commit, re-run from the Checks page); re-run it with `/retest` on "
    "its pull request, where the fork's approval and limits apply"
)
NO_SANDBOX_TITLE: Final = "No sandbox on this worker: the stage did not run"
NO_DOCKER_TITLE: Final = "No Docker engine for this stage"


def no_sandbox(reason: str) -> str:
    return (
        f"deploybot runs a pull request's code only inside its stage sandbox, and {reason}. "
        "Nothing of this commit ran. Fix the worker host (see `deploybot doctor`), then re-run."
    )


INTERNAL_ERROR_TITLE: Final = "deploybot could not finish this stage"
WORKER_LOST_TITLE: Final = "The worker running this stage died"


def internal_error(kind: str) -> str:
    return (
        f"deploybot stopped this run after an error it cannot retry ({kind}); the details are in "
        "the worker's log. Re-run it with `/retest` or the Re-run button."
    )


def scheduled_failure(
    trigger: str, branch: str | None, sha: str, failed: list[tuple[str, str | None]]
) -> str:
    """The on-call issue comment for a failed nightly or weekly run."""
    stages = "\n".join(f"- [{name}]({url})" if url else f"- {name}" for name, url in failed)
    return (
        f"The {trigger} CI run on `{branch or 'the default branch'}` at `{sha[:10]}` failed:\n"
        f"{stages}"
    )


def worker_lost(attempts: int) -> str:
    return (
        f"The worker running this stage was lost {attempts} times (killed, out of memory or "
        "restarted) before the stage finished, so it is not tried again. Re-run it with "
        "`/retest <stage>` or the Re-run button."
    )


def release_output(tag: str, results: list[tuple[str, str, Output]]) -> tuple[str, Output]:
    """The release check run's conclusion and output from (stage, state, stage output) of each
    stage in order: a table, the details of every stage that did not pass, all annotations."""
    failed = [name for name, state, _ in results if is_failed(state)]
    title = f"{tag}: {', '.join(failed)} failed" if failed else f"{tag}: all stages passed"
    table = ["| stage | result |", "|---|---|"] + [f"| {n} | {s} |" for n, s, _ in results]
    details = [f"## {name}\n\n{out.summary}" for name, state, out in results if state != "success"]
    summary = "\n".join(table) + "\n\n" + "\n\n".join(details)
    annotations = [note for _, _, out in results for note in out.annotations]
    return ("failure" if failed else "success"), Output(title, summary, annotations)


NOT_STAGED: Final = Output(
    "Not staged: no registry",
    "DEPLOYBOT_REGISTRY is not set, so this release was not built, pushed or gated. Set it to the "
    "OCI registry's host:port on the workers, then re-run this check run.",
)


def gate_blocked(verdict: str, report: str) -> Output:
    if verdict == "inconclusive":
        advice = (
            "An inconclusive gate blocks until a maintainer accepts it on record: "
            "`deploybot release <sha> --accept-inconclusive REASON`."
        )
    else:
        advice = "The release is not recorded; a new commit that fixes it is staged afresh."
    return Output(f"Gate {verdict}: not deployable", f"{report}\n\n{advice}")


def release_failed(step: str, detail: str) -> Output:
    fence = "````" if "```" in detail else "```"
    return Output(
        f"The release failed at {step}",
        f"**{step}** failed; nothing was recorded in the release index.\n\n"
        f"{fence}text\n{detail}\n{fence}",
    )


def gate_passed(manifest: Manifest, steps: list[Step]) -> Output:
    override = (
        f"\n\nAccepted though inconclusive by @{manifest.override.by}: {manifest.override.reason}"
        if manifest.override
        else ""
    )
    timings = ", ".join(f"{s.name} {s.seconds:.1f} s" for s in steps if s.state == "done")
    latency = (
        f"{manifest.latency_p50_ms:.2f} ms against {manifest.previous_latency_p50_ms:.2f} ms"
        if manifest.latency_p50_ms is not None and manifest.previous_latency_p50_ms is not None
        else "not measured (no previous release beside it)"
    )
    suites = "\n".join(f"| {name} | {s.score:.4f} |" for name, s in manifest.suites.items())
    checks = ", ".join(f"{name} {'✅' if ok else '❌'}" for name, ok in manifest.checks.items())
    aggregate = f"{manifest.aggregate:.4f}" if manifest.aggregate is not None else "-"
    return Output(
        f"Gate {manifest.verdict}: {manifest.commit[:10]} is staged",
        "\n".join(
            [
                f"**Gate: {manifest.verdict.upper()}**, previous release "
                f"`{(manifest.previous_commit or 'none')[:10]}`",
                "",
                "| suite | score |",
                "|---|---|",
                suites,
                f"| **aggregate** | {aggregate} |",
                "",
                f"Checks: {checks}. Latency p50, side by side: {latency}.",
                f"Image `{manifest.image}`, model `{manifest.model_digest}`, "
                f"table `{manifest.table_digest}`.",
                f"Steps: {timings or 'staged before'}.",
            ]
        )
        + override,
    )
