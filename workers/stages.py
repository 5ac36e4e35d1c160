"""What every run of matrix stages on one commit needs, pipelines and releases alike: the default
branch's matrix, the checkout with its dependencies, and a stage run in it."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from core.errors import CheckoutError, EnvError
from core.settings import Settings
from workers import messages
from workers.check_output import CHECK_PREFIX, Output
from workers.checkout import Workspace
from workers.checkruns import CheckRuns
from workers.envcache import activate, ensure_env
from workers.matrix import Matrix, MatrixError, Stage, load_matrix
from workers.sources import (
    MATRIX_PATH,
    ci_extras,
    clone_url,
    env_cache_root,
    log_dir,
    stage_env,
    workspace_root,
)
from workers.stage_runner import StageResult, run_stage

log = logging.getLogger(__name__)

# The check run that reports a matrix that cannot be read.
MATRIX_STAGE = "matrix"


@dataclass(frozen=True)
class Request:
    """One run of the matrix for one commit, as a task asks for it."""

    installation_id: int
    repo: str
    sha: str
    # The delivery (or schedule tick) that asked: a redelivered task resumes the same run, a new
    # request (a re-run, /retest) makes fresh check runs.
    delivery_id: str
    pr_number: int | None = None
    trigger: str = "pr"
    only: str | None = None  # one stage, for /retest <stage> and a check run's Re-run
    default_branch: str | None = None  # where the matrix is read when there is no pull request

    @property
    def key(self) -> str:
        return f"{self.repo}:{self.sha}:{self.delivery_id}"


class Stages:
    """The matrix, the prepared checkout and stage runs of one request."""

    def __init__(self, settings: Settings, runs: CheckRuns, request: Request) -> None:
        self.settings = settings
        self.runs = runs
        self.request = request
        self.workspace = Workspace(workspace_root(settings), clone_url(settings, request.repo))
        self._prepared: tuple[Path, dict[str, str]] | None = None

    async def matrix(self, branch: str | None) -> Matrix | None:
        """The matrix of the default branch, or None after reporting, as a failed "matrix"
        check run, why it cannot be used."""
        if branch is None:
            error = f"{MATRIX_PATH}:1: the repository's default branch is unknown"
            branch = "unknown"
        else:
            token = await self.runs.gh.token()
            try:
                text = await asyncio.to_thread(
                    self.workspace.read_file_at, branch, MATRIX_PATH, token
                )
                return load_matrix(text, MATRIX_PATH)
            except FileNotFoundError:
                error = f"{MATRIX_PATH}:1: the file does not exist on the default branch"
            except CheckoutError as exc:
                # Re-running the failed check run tries again (e.g. after a network outage).
                error = f"{MATRIX_PATH}:1: cannot fetch {branch}: {exc}"
            except MatrixError as exc:
                error = str(exc)
        log.warning("run %s: %s", self.request.key, error)
        body = messages.matrix_error_body(
            CHECK_PREFIX + MATRIX_STAGE,
            self.request.sha,
            self.runs.external_id(MATRIX_STAGE),
            error,
            branch,
        )
        await self.runs.create(MATRIX_STAGE, body)
        await self.runs.record.set_state(MATRIX_STAGE, "failure")
        return None

    async def prepared(self) -> tuple[Path, dict[str, str]] | Output:
        """The checkout at the SHA and the environment its stages run with (the project's
        dependencies from a virtualenv cached by the hash of what declares them), or what the
        check run says when either cannot be made."""
        if self._prepared is None:
            token = await self.runs.gh.token()
            try:
                workdir = await asyncio.to_thread(self.workspace.checkout, self.request.sha, token)
                venv = await asyncio.to_thread(
                    ensure_env, workdir, env_cache_root(self.settings), ci_extras(workdir)
                )
            except (CheckoutError, EnvError) as exc:
                return Output(messages.PREPARE_FAILED, str(exc))
            self._prepared = (workdir, activate(venv, stage_env()))
        return self._prepared

    def logs(self) -> Path:
        request = self.request
        return log_dir(self.settings, request.repo, request.sha, request.delivery_id)

    async def run(self, stage: Stage, prepared: tuple[Path, dict[str, str]]) -> StageResult:
        workdir, env = prepared
        return await asyncio.to_thread(run_stage, stage, workdir, self.logs(), env)
