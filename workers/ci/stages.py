"""What every run of matrix stages on one commit needs, pipelines and releases alike: the default
branch's matrix, the checkout with its dependencies, and a stage run in it."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from core.errors import CheckoutError, EnvError, NoEngine
from core.names import CHECK_PREFIX
from core.settings import Settings
from workers.check_output import Output
from workers.checkout import Workspace, clone_url, workspace_root
from workers.checkruns import CheckRuns
from workers.ci import messages, sandbox
from workers.ci.envcache import activate, ensure_env, is_input
from workers.ci.matrix import Matrix, MatrixError, Stage, load_matrix
from workers.ci.sandbox import Sandbox
from workers.ci.stage_env import (
    MATRIX_PATH,
    ci_extras,
    env_cache_root,
    log_dir,
    sandbox_host,
    sandbox_root,
)
from workers.ci.stage_output import conclusion
from workers.ci.stage_runner import StageResult, run_stage
from workers.metrics import worker_metrics
from workers.scrub import scrub_file

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


@dataclass(frozen=True)
class Prepared:
    """What every stage of one commit shares: its dependencies and the environment it runs with."""

    venv: Path
    env: dict[str, str]


class Stages:
    """The matrix, the prepared checkout and stage runs of one request."""

    def __init__(self, settings: Settings, runs: CheckRuns, request: Request) -> None:
        self.settings = settings
        self.runs = runs
        self.request = request
        self.workspace = Workspace(workspace_root(settings), clone_url(settings, request.repo))
        self.host = sandbox_host(settings)
        self._prepared: Prepared | None = None

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

    async def prepared(self) -> Prepared | Output:
        """The environment the commit's stages run in (its dependencies in a virtualenv cached
        by the hash of what declares them, built in a sandbox), or what the check run says
        when it cannot be made."""
        if self._prepared is None:
            refused = self._sandbox_missing()
            if refused is not None:
                return Output(messages.NO_SANDBOX_TITLE, messages.no_sandbox(refused))
            token = await self.runs.gh.token()
            try:
                await asyncio.to_thread(self.workspace.fetch, self.request.sha, token)
                inputs = await asyncio.to_thread(
                    self.workspace.files_at, self.request.sha, is_input
                )
                venv = await asyncio.to_thread(
                    ensure_env, inputs, env_cache_root(self.settings), self.host, ci_extras(inputs)
                )
            except (CheckoutError, EnvError) as exc:
                return Output(messages.PREPARE_FAILED, str(exc))
            self._prepared = Prepared(venv, activate(venv, self.host.env))
        return self._prepared

    def _sandbox_missing(self) -> str | None:
        return sandbox.unavailable() if self.settings.stage_sandbox else None

    def logs(self) -> Path:
        request = self.request
        return log_dir(self.settings, request.repo, request.sha, request.delivery_id)

    async def run(self, stage: Stage, prepared: Prepared) -> StageResult | Output:
        """The stage, run in a checkout of its own (removed afterwards), in its sandbox; or what
        the check run says when the checkout or the Docker engine it needs cannot be had."""
        digest = hashlib.sha256(self.request.key.encode()).hexdigest()[:16]
        copy = sandbox_root(self.settings) / digest / stage.name
        token = await self.runs.gh.token()
        try:
            await asyncio.to_thread(self.workspace.checkout, self.request.sha, copy, token)
            sandbox.give(copy, self.host)
            box, env = self._box(stage, copy, prepared)
            result = await asyncio.to_thread(run_stage, stage, copy, self.logs(), env, box)
        except CheckoutError as exc:
            return Output(messages.PREPARE_FAILED, str(exc))
        except NoEngine as exc:
            return Output(messages.NO_DOCKER_TITLE, str(exc))
        finally:
            await asyncio.to_thread(shutil.rmtree, copy, True)
        await asyncio.to_thread(scrub_file, result.log_path, await self.runs.gh.secrets())
        worker_metrics().stage(stage.name, conclusion(stage, result), result.duration_s)
        return result

    def _box(
        self, stage: Stage, copy: Path, prepared: Prepared
    ) -> tuple[Sandbox | None, dict[str, str]]:
        env = dict(prepared.env)
        docker = groups = None
        if "docker" in stage.needs:
            docker, groups = _engine()
            env["DOCKER_HOST"] = f"unix://{sandbox.DOCKER_SOCKET}"
        if not self.settings.stage_sandbox:
            if docker is not None:
                env["DOCKER_HOST"] = f"unix://{docker}"
            return None, env
        return self.host.stage(copy, prepared.venv, docker, groups or ()), env


def _engine() -> tuple[Path, tuple[int, ...]]:
    """The Docker socket (from the worker's DOCKER_HOST) and its group, for a docker stage."""
    try:
        socket = sandbox.docker_socket(os.environ.get("DOCKER_HOST"))
    except ValueError as exc:
        raise NoEngine(str(exc)) from None
    try:
        group = socket.stat().st_gid
    except OSError:
        raise NoEngine(
            f"this stage needs Docker (`needs: [docker]`) and no engine socket is at {socket}; "
            "start dockerd or set DOCKER_HOST for the worker"
        ) from None
    return socket, (group,)
