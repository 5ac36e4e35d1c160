"""What the workers say on GitHub besides stage results (pure): notes, replies, failure bodies."""

from __future__ import annotations

from typing import Final

from workers.check_output import MAX_ANNOTATIONS_PER_REQUEST, MAX_TEXT, truncate_start

NOT_IMPLEMENTED: Final = frozenset({"deploy", "rollback", "status"})

OK_TO_TEST_NOTE: Final = (
    "This pull request comes from a fork, so CI does not run its code yet. A maintainer with "
    "write access can comment `/ok-to-test` to run CI on the current head commit (each new push "
    "needs a new `/ok-to-test`)."
)


def not_implemented(command: str) -> str:
    return (
        f"`/{command}` is not implemented yet: deploybot cannot {command} from a comment today. "
        "Nothing was done."
    )


def needs_write(command: str, user: str) -> str:
    return f"@{user} `/{command}` needs write access to this repository; nothing was done."


def ok_to_test_done(sha: str) -> str:
    return f"CI approved for `{sha[:10]}`: running it now."


def retest_started(stage: str | None) -> str:
    return f"Re-running `{stage}`." if stage else "Re-running every stage."


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


def release_bodies(
    tag: str, results: list[tuple[str, str, str]], annotations: list[dict[str, object]]
) -> list[dict[str, object]]:
    """PATCH bodies completing the release check run: (stage, state, stage summary) for each
    stage in order, then every stage's annotations appended 50 at a time."""
    failed = [name for name, state, _ in results if state in {"failure", "timed_out"}]
    conclusion = "failure" if failed else "success"
    title = f"{tag}: {', '.join(failed)} failed" if failed else f"{tag}: all stages passed"
    table = ["| stage | result |", "|---|---|"] + [f"| {n} | {s} |" for n, s, _ in results]
    details = [f"## {name}\n\n{text}" for name, state, text in results if state != "success"]
    summary = "\n".join(table) + "\n\n" + "\n\n".join(details)
    step = MAX_ANNOTATIONS_PER_REQUEST
    batches = [annotations[i : i + step] for i in range(0, len(annotations), step)] or [[]]
    bodies: list[dict[str, object]] = []
    for index, batch in enumerate(batches):
        output: dict[str, object] = {"title": title, "summary": truncate_start(summary, MAX_TEXT)}
        if batch:
            output["annotations"] = batch
        body: dict[str, object] = {"output": output}
        if index == 0:
            body["conclusion"] = conclusion
        bodies.append(body)
    return bodies
