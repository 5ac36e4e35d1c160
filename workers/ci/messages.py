"""What CI says on GitHub besides stage results (pure): fork notes, replies to /ok-to-test and
/retest, failure bodies, the release stages' table."""

from __future__ import annotations

from typing import Final

from workers.check_output import Output
from workers.conclusions import is_failed
from workers.messages import needs_permission

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


def scheduled_failure(
    trigger: str, branch: str | None, sha: str, failed: list[tuple[str, str | None]]
) -> str:
    """The on-call issue comment for a failed nightly or weekly run."""
    stages = "\n".join(f"- [{name}]({url})" if url else f"- {name}" for name, url in failed)
    return (
        f"The {trigger} CI run on `{branch or 'the default branch'}` at `{sha[:10]}` failed:\n"
        f"{stages}"
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
