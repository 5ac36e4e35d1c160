"""What the workers say on GitHub besides stage results (pure): notes, replies, failure bodies."""

from __future__ import annotations

from typing import Any, Final

from core.commands import suggest
from deploy.lock import Holder
from deploy.manifest import Manifest
from deploy.progress import Step
from workers.check_output import Output, fence
from workers.conclusions import is_failed
from workers.oncall import gate_table

OK_TO_TEST_NOTE: Final = (
    "This pull request comes from a fork, so CI does not run its code yet. A maintainer with "
    "write access can comment `/ok-to-test` to run CI on the current head commit (each new push "
    "needs a new `/ok-to-test`)."
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
    return needs_permission(f"/{command}", user, "write", None)


def needs_permission(what: str, user: str, needed: str, has: str | None) -> str:
    held = f" (you have {has})" if has is not None else ""
    return (
        f"@{user} `{what}` needs {needed} access to this repository{held}; nothing was done. "
        f"Ask someone with {needed} access to run it."
    )


def unknown_environment(name: str, known: list[str]) -> str:
    problem = f"`{name}` is not an environment of `data/deploy.yaml` (known: " + ", ".join(
        f"`{k}`" for k in known
    )
    return suggest(problem + "); nothing was done.", name, known) + (
        " Environments are read from the default branch."
    )


def deploy_config_broken(error: str, branch: str) -> str:
    closing = fence(error)
    return (
        "deploybot cannot read its deploy configuration, so nothing was done:\n\n"
        f"{closing}text\n{error}\n{closing}\n\n"
        f"It is read from the default branch (`{branch}`), never from a pull request: fix it there."
    )


def not_merged(number: int, state: str) -> str:
    return (
        f"`/deploy` deploys a merged pull request's merge commit, and #{number} is {state}, not "
        "merged: nothing was done. Merge it, then comment `/deploy` here again (or deploy a "
        "commit from the command line: `deploybot deploy <sha>`)."
    )


def not_on_default(number: int, base: str, default: str) -> str:
    return (
        f"`/deploy` deploys what is merged into the default branch (`{default}`), and #{number} "
        f"was merged into `{base}`: nothing was done."
    )


def deploy_locked(env: str, holder: Holder, busy: str) -> str:
    then = {
        "queue": "This one waits its turn and starts when that one ends.",
        "refuse": (
            f"`{env}` is configured to refuse a second deploy (`lock: refuse`): nothing was "
            "done. Comment `/deploy` again once it has finished."
        ),
        "preempt": (
            "A rollback waits for it at most one lease, then takes the lock over; that deploy "
            "stops before its next step."
        ),
    }[busy]
    return f"`{env}` is locked by the {holder.describe()}. {then}"


def deploy_queued(env: str, holder: Holder | None, position: int) -> str:
    ahead = f"locked by the {holder.describe()}" if holder is not None else "busy"
    waits = "next" if position == 1 else f"number {position} in its queue"
    return (
        f"`{env}` is {ahead}. This deploy is {waits}: deploys run in the order asked, and "
        "this one starts when its turn comes (it holds no worker while it waits)."
    )


def no_release_matches(prefix: str, env: str) -> str:
    return (
        f"`/rollback {env} to {prefix}`: no staged release of this repository starts with "
        f"`{prefix}` (or more than one does); nothing was done. `deploybot releases` lists them."
    )


def button_stale(commit: str, env: str, live: str | None) -> str:
    now = f"`{live[:12]}`" if live else "nothing"
    return (
        f"The Roll back button of `{commit[:12]}` acts only while that release is live in "
        f"`{env}`, and {now} is live now: nothing was done. Comment `/rollback {env}` to roll "
        "back from what is live."
    )


def button_pressed(user: str, commit: str, env: str) -> str:
    return f"@{user} pressed Roll back on the deploy of `{commit[:12]}`: rolling `{env}` back."


def status_reply(found: dict[str, Any]) -> str:
    """/status in words: what is live, the spare, the lock, the last run."""
    live, spare, lock = found["live"], found["spare"], found["lock"]
    lines = [
        f"**{found['environment']}** (front `{found['front']}`)",
        f"- live: `{live['commit'][:12]}` on {live['colour']} since {live['since']} by {live['by']}"
        if live
        else "- live: nothing",
        f"- spare: `{spare['commit'][:12]}` on {spare['colour']} (warm)"
        if spare
        else "- spare: none",
        f"- lock: {Holder(**lock).describe()}" if lock else "- lock: free",
    ]
    if found["bad"]:
        lines.append(
            "- rolled or flipped back from: " + ", ".join(f"`{c[:12]}`" for c in found["bad"])
        )
    last = found["last"]
    if last:
        final = last[-1]
        lines.append(
            f"- last {final['kind']}: `{final['commit'][:12]}`, "
            f"{final['outcome'] or final['phase']} at {final['at']}"
        )
    return "\n".join(lines)


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
