"""`deploybot demo`: the whole bot on one machine with no services installed, a pull request from
its first push to a rollback.

An in-process Redis (fakeredis), the fake GitHub printing every request the bot makes, the real
receiver under uvicorn, a real Celery worker and a sample repository (this project's tutor, a
quick CI matrix and a data/deploy.yaml on free loopback ports) served over file://. The demo
stages and serves main's release, then signs deliveries the way GitHub does: a pull request
opened (one stage fails with an annotated line, one passes, one is skipped by its path filter), a
fix pushed, the merge, `/deploy` (the merge commit built, staged, gated and deployed blue/green
with the process runtime), a request through the front, `/rollback`. Traffic goes through HAProxy
when it is on PATH, else through the embedded switch (deploy/switch/embedded.py), the demo's
stand-in. It prints a timeline with timings and the on-call summary, and exits 0, or names the
step that failed and exits 1; `--json` prints the timeline as one JSON object on standard
output (the progress goes to standard error).
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import httpx2
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from core.errors import DemoFailed
from core.names import CHECK_PREFIX, DEPLOY_CHECK, DEPLOY_SUMMARY_MARKER, check_name
from core.settings import Settings
from deploy import health, places
from deploy.config import DeployConfig, Environment, load_config
from deploy.engine import Engine
from deploy.lock import holder_now
from deploy.manifest import Override
from deploy.release import ReleaseRequest, Staging, release
from deploybot.dora_metrics import DoraFigures
from testkit.fakegithub.server import FakeGitHub, Recorded, serve
from testkit.fakegithub.state import Pull
from testkit.gitrepo import GitRepo
from testkit.loopback import fake_redis, free_port
from testkit.maintainer import Maintainer
from testkit.serving import serve_in_thread
from testkit.tutor import tutor_repository

REPO = "demo/tutor"
ENVIRONMENT = "demo"
INSTALLATION = 1
MAINTAINER = "maintainer"
CONTRIBUTOR = "contributor"
WAIT_S = 150.0
SWITCH_NAMES = {
    "haproxy": "HAProxy",
    "embedded": "the embedded switch (the demo's HAProxy stand-in)",
}

# The sample repository's own files (its CI matrix, a linter, code and a test), beside this module.
SAMPLE = Path(__file__).with_name("demo_sample")
LONG_LINE = "WELCOME = " + repr("¡Bienvenida al tutor de conjugación! " * 3) + "\n"
SHORT_LINE = 'WELCOME = "¡Bienvenida al tutor de conjugación!"\n'
GREET = "sample/greet.py"  # what the pull request changes


@dataclass
class Timeline:
    """The story's steps as they happen: printed with their timings, kept for --json."""

    out: TextIO
    steps: list[dict[str, Any]] = field(default_factory=list)

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    @contextmanager
    def step(self, name: str) -> Iterator[dict[str, Any]]:
        """One step; what the block puts in the dict's "detail" is shown and kept."""
        self.say(f"\n▶ {name}")
        found: dict[str, Any] = {"detail": ""}
        started = time.monotonic()
        try:
            yield found
        except Exception as exc:
            took = time.monotonic() - started
            self.steps.append(_entry(name, False, took, f"{exc.__class__.__name__}: {exc}"))
            self.say(f"  ✗ {name} failed after {took:.1f} s: {exc}")
            raise
        took = time.monotonic() - started
        self.steps.append(_entry(name, True, took, str(found["detail"])))
        shown = f": {found['detail']}" if found["detail"] else ""
        self.say(f"  ✓ {took:.1f} s{shown}")


def _entry(name: str, ok: bool, seconds: float, detail: str) -> dict[str, Any]:
    return {"name": name, "ok": ok, "seconds": round(seconds, 3), "detail": detail}


def describe(recorded: Recorded) -> str:
    """One line for a request the bot made to GitHub (pure)."""
    body = recorded.body if isinstance(recorded.body, dict) else {}
    detail = ""
    if recorded.operation_id in {"checks/create", "checks/update"}:
        parts = [str(body.get("name", "")), str(body.get("status", ""))]
        if "conclusion" in body:
            parts.append(f"→ {body['conclusion']}")
        title = (body.get("output") or {}).get("title")
        if title:
            parts.append(f"“{title[:60]}”")
        notes = len((body.get("output") or {}).get("annotations", []))
        if notes:
            parts.append(f"+{notes} annotation{'s' if notes > 1 else ''}")
        detail = " ".join(p for p in parts if p)
    elif recorded.operation_id in {"issues/create-comment", "issues/update-comment"}:
        first = next(
            (ln for ln in str(body.get("body", "")).splitlines() if ln and "<!--" not in ln), ""
        )
        detail = f"“{first[:70]}”"
    elif recorded.operation_id == "reactions/create-for-issue-comment":
        detail = str(body.get("content", ""))
    elif recorded.operation_id == "repos/create-deployment-status":
        detail = str(body.get("state", ""))
    return (
        f"  GitHub ← {recorded.method:<5} {recorded.path:<58} {recorded.status} {detail}".rstrip()
    )


def deploy_yaml(switch: str) -> str:
    """The sample's one environment on free loopback ports (the process runtime)."""
    return (
        "environments:\n"
        f"  {ENVIRONMENT}:\n"
        f"    front: 127.0.0.1:{free_port()}\n"
        f"    colours: {{blue: 127.0.0.1:{free_port()}, green: 127.0.0.1:{free_port()}}}\n"
        "    runtime: process\n"
        f"    switch: {switch}\n"
        "    health: {path: /healthz, successes: 3, timeout_s: 60}\n"
        "    bake_s: 2\n"
    )


@dataclass(frozen=True)
class Sample:
    repo: GitRepo
    base: str  # main: the release live before the pull request
    head: str  # the pull request's first push
    config: DeployConfig


def sample_repository(root: Path, switch: str) -> Sample:
    """The tutor with the sample's CI matrix and deploy configuration on main, and a branch
    adding a line too long for the sample's linter."""
    repo = tutor_repository(root / REPO, author="Demo Contributor")
    config_text = deploy_yaml(switch)
    files = {
        str(path.relative_to(SAMPLE)): path.read_text(encoding="utf-8")
        for path in sorted(SAMPLE.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }
    files["data/deploy.yaml"] = config_text
    base = repo.commit(files, "The tutor with its CI matrix and deploy configuration")
    repo.git("checkout", "--quiet", "-b", "welcome")
    head = repo.commit({GREET: files[GREET] + LONG_LINE}, "Add a welcome line")
    repo.git("checkout", "--quiet", "main")
    return Sample(repo, base, head, load_config(config_text))


def _repository_json() -> dict[str, Any]:
    return {
        "id": 4242,
        "full_name": REPO,
        "name": "tutor",
        "default_branch": "main",
        "owner": {"login": "demo"},
    }


def pull_request_event(action: str, head: str) -> dict[str, Any]:
    return {
        "action": action,
        "number": 1,
        "pull_request": {
            "number": 1,
            "draft": False,
            "head": {"sha": head, "ref": "welcome"},
            "base": {"ref": "main"},
            "user": {"login": CONTRIBUTOR},
        },
        "repository": _repository_json(),
        "installation": {"id": INSTALLATION},
        "sender": {"login": CONTRIBUTOR, "type": "User"},
    }


def first_pull(head: str) -> Pull:
    return Pull(
        number=1,
        head_sha=head,
        head_ref="welcome",
        user=CONTRIBUTOR,
        files=[{"filename": "sample/greet.py", "status": "modified"}],
    )


def pull_of(story: Story) -> Pull:
    with story.github.lock:
        return story.github.state.get_pull(REPO, 1)


class Story:
    """The running bot and what the people in the story do to it."""

    def __init__(
        self, github: FakeGitHub, listening: tuple[str, str], secret: str, sample: Sample
    ) -> None:
        self.github = github
        receiver, self.status = listening
        self.people = Maintainer(
            github, REPO, secret, DEPLOY_CHECK, DEPLOY_SUMMARY_MARKER, receiver
        )
        self.sample = sample
        self.env = sample.config.environments[ENVIRONMENT]
        self.merge = ""  # the merge commit, once the pull request is merged

    def deliver(self, event: str, payload: dict[str, Any]) -> str:
        return f"receiver → 202 {self.people.deliver(event, payload)}"

    def comment(self, body: str) -> None:
        self.people.comment(1, body, MAINTAINER)

    def pipeline_done(self, sha: str) -> dict[str, str]:
        """Each check run's conclusion on `sha`, once the pipeline settled."""
        wait_for(f"the pipeline on {sha[:10]}", lambda: _settled(self.github, sha, 3))
        return {
            r["name"]: str(r["conclusion"])
            for r in self.github.check_runs()
            if r["head_sha"] == sha
        }

    def deploy_run(self, count: int) -> dict[str, Any]:
        run = self.people.wait_for_run(count, WAIT_S)
        if run["conclusion"] != "success":
            raise DemoFailed(f"{run['output']['title']}\n{run['output']['summary']}")
        return run

    def front_serves(self) -> str:
        found = health.version(f"http://{self.env.front}").get("commit")
        return str(found)

    def counted(self) -> dict[str, float]:
        """The status listener's /metrics, each figure summed over its labels."""
        text = httpx2.get(f"{self.status}/metrics", timeout=10).text
        totals: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.labels.get("window", "7d") == "7d":
                    totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
        return totals

    def summary(self) -> str:
        return self.people.summary(1)


def settings_for(
    github: FakeGitHub, redis_url: str, secret: str, data: Path, remotes: Path
) -> Settings:
    """The bot's settings on the fake GitHub and a loopback Redis, fetching from `remotes`."""
    return Settings(
        webhook_secret=secret,
        redis_url=redis_url,
        github_app_id=github.app_id,
        github_private_key=github.private_key_pem,
        github_api_url=github.url,
        data_dir=data,
        git_url=remotes.as_uri() + "/{repo}",
    )


def _conclusions(found: dict[str, str]) -> str:
    return ", ".join(f"{name.removeprefix(CHECK_PREFIX)} {c}" for name, c in sorted(found.items()))


def wait_for(what: str, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not ready():
        if time.monotonic() > deadline:
            raise DemoFailed(f"timed out after {WAIT_S:.0f} s waiting for {what}")
        time.sleep(0.1)


def run(args: argparse.Namespace | None = None) -> int:
    as_json = bool(getattr(args, "json", False))
    timeline = Timeline(sys.stderr if as_json else sys.stdout)
    result: dict[str, Any] = {"ok": False, "steps": timeline.steps, "served": {}}
    try:
        _play(timeline, result)
        result["ok"] = True
    except Exception as exc:
        failed = timeline.steps[-1]["name"] if timeline.steps else "setting up"
        timeline.say(f"\ndeploybot demo: “{failed}” failed: {exc}")
    if as_json:
        print(json.dumps(result, indent=2))
    elif result["ok"]:
        timeline.say(
            "\nEvery request above was checked against GitHub's REST schema; none was refused."
        )
    return 0 if result["ok"] else 1


def _play(timeline: Timeline, result: dict[str, Any]) -> None:
    switch = "haproxy" if shutil.which("haproxy") else "embedded"
    with (
        tempfile.TemporaryDirectory(prefix="deploybot-demo-") as tmp,
        fake_redis() as redis_url,
        serve(FakeGitHub()) as github,
        ExitStack() as running,
    ):
        root = Path(tmp)
        data = root / "data"
        with timeline.step("a sample repository: the tutor, a CI matrix, data/deploy.yaml") as s:
            sample = sample_repository(root / "remotes", switch)
            env = sample.config.environments[ENVIRONMENT]
            s["detail"] = (
                f"main {sample.base[:10]}; pull request #1 {sample.head[:10]}; front "
                f"{env.front} through {SWITCH_NAMES[switch]}"
            )
        github.add_repo(REPO, installation_id=INSTALLATION)
        github.set_permission(REPO, MAINTAINER, "write")
        github.add_pull(REPO, first_pull(sample.head))
        secret = secrets.token_hex(16)
        settings = replace(
            settings_for(github, redis_url, secret, data, root / "remotes"),
            stage_sandbox=_sandboxed(timeline),
        )
        running.callback(_stop_colours, settings, env)
        with timeline.step("the traffic switch on the front port") as s:
            s["detail"] = running.enter_context(_switch(sample, settings, root))
        with timeline.step("main's release staged (the first: accepted on record) and live") as s:
            s["detail"] = _first_release(sample, settings, root)
        github.on_request = lambda recorded: timeline.say(describe(recorded))
        story = Story(github, _start_bot(settings, running), secret, sample)
        _pull_request(timeline, story)
        _deploy_and_roll_back(timeline, story, result)
        github.on_request = None
        violations = github.take_violations()
        if violations:
            raise DemoFailed("requests GitHub would have refused:\n  " + "\n  ".join(violations))


def _start_bot(settings: Settings, running: ExitStack) -> tuple[str, str]:
    """The receiver and a worker, in this process until `running` closes; the URLs of the
    receiver and of its status listener."""
    from celery.contrib.testing.worker import start_worker

    from bot.app import create_listeners
    from workers.app import create_worker_app
    from workers.metrics import worker_metrics

    # One process plays the web and the worker here: one scrape shows what both counted.
    computed: list[Collector] = [
        worker_metrics().registry,
        DoraFigures(settings.data_dir / "ledger"),
    ]
    listeners = create_listeners(settings, computed=computed)
    receiver = running.enter_context(serve_in_thread(listeners.receiver, "receiver"))
    status = running.enter_context(serve_in_thread(listeners.status, "status"))
    running.enter_context(
        start_worker(
            create_worker_app(settings),
            pool="threads",
            concurrency=2,
            perform_ping_check=False,
            loglevel="WARNING",
        )
    )
    return receiver, status


def _pull_request(timeline: Timeline, story: Story) -> None:
    sample = story.sample
    with timeline.step("GitHub delivers pull_request.opened (signed); the matrix runs") as s:
        story.deliver("pull_request", pull_request_event("opened", sample.head))
        found = story.pipeline_done(sample.head)
        s["detail"] = _conclusions(found)
    for run in story.github.check_runs():
        for note in run["annotations"]:
            timeline.say(f"      annotation {note['path']}:{note['start_line']} {note['message']}")
    with timeline.step("the contributor shortens the line and pushes; the matrix runs again") as s:
        sample.repo.git("checkout", "--quiet", "welcome")
        greet = (SAMPLE / GREET).read_text(encoding="utf-8")
        fixed = sample.repo.commit({GREET: greet + SHORT_LINE}, "Shorter")
        sample.repo.git("checkout", "--quiet", "main")
        story.github.add_pull(REPO, replace(pull_of(story), head_sha=fixed))
        story.deliver("pull_request", pull_request_event("synchronize", fixed))
        found = story.pipeline_done(fixed)
        s["detail"] = _conclusions(found)
        if found.get(check_name("lint")) != "success":
            raise DemoFailed(f"the fixed commit's lint did not pass: {found}")
    with timeline.step("a maintainer merges pull request #1") as s:
        sample.repo.git("merge", "--quiet", "--no-ff", "-m", "Merge pull request #1", "welcome")
        merge = sample.repo.git("rev-parse", "HEAD")
        merged = replace(
            pull_of(story),
            state="closed",
            merged=True,
            merge_commit_sha=merge,
            merged_by=MAINTAINER,
        )
        story.github.add_pull(REPO, merged)
        story.merge = merge
        s["detail"] = f"merge commit {merge[:10]}"


def _deploy_and_roll_back(timeline: Timeline, story: Story, result: dict[str, Any]) -> None:
    sample, merge = story.sample, story.merge
    with timeline.step("/deploy: the merge commit built, staged, gated and deployed") as s:
        story.comment("/deploy")
        run = story.deploy_run(1)
        s["detail"] = run["output"]["title"]
    with timeline.step("a request through the front shows its version") as s:
        served = story.front_serves()
        result["served"]["after_deploy"] = served
        s["detail"] = f"GET http://{story.env.front}/version → commit {served[:10]}"
        if served != merge:
            raise DemoFailed(f"the front serves {served}, not the merge commit {merge}")
    with timeline.step("/rollback: the previous release serves again") as s:
        story.comment("/rollback")
        run = story.deploy_run(2)
        served = story.front_serves()
        result["served"]["after_rollback"] = served
        s["detail"] = f"{run['output']['title']}; the front serves {served[:10]}"
        if served != sample.base:
            raise DemoFailed(f"the front serves {served}, not main's release {sample.base}")
    with timeline.step("GET /metrics: what the receiver and the worker counted") as s:
        found = story.counted()
        flips = found.get("deploybot_flips_total", 0)
        s["detail"] = (
            f"{found.get('deploybot_webhook_deliveries_total', 0):.0f} deliveries, "
            f"{found.get('deploybot_jobs_total', 0):.0f} jobs, "
            f"{found.get('deploybot_stage_seconds_count', 0):.0f} stage runs, {flips:.0f} flips; "
            f"7-day deploys {found.get('deploybot_dora_deploys', 0):.0f}, change failure rate "
            f"{found.get('deploybot_dora_change_failure_ratio', 0):.0%}"
        )
        if flips < 2:
            raise DemoFailed(f"/metrics counted {flips:.0f} flips, not the deploy's and rollback's")
    result["deployed"], result["previous"] = merge, sample.base
    timeline.say("\nThe on-call summary on pull request #1:\n")
    timeline.say(
        "\n".join("    " + line for line in story.summary().splitlines() if "<!--" not in line)
    )


@contextmanager
def _switch(sample: Sample, settings: Settings, root: Path) -> Iterator[str]:
    """HAProxy run by `deploybot proxy` when it is installed, else the embedded switch."""
    env = sample.config.environments[ENVIRONMENT]
    if env.switch == "embedded":
        from deploy.switch import embedded

        with embedded.serving(sample.config):
            yield f"the embedded switch serves {env.front} (HAProxy is not installed)"
        return
    config = root / "deploy.yaml"
    config.write_text((sample.repo.path / "data/deploy.yaml").read_text())
    log = root / "proxy.log"
    environ = settings.child_environ()
    with log.open("w") as out:
        proxy = subprocess.Popen(  # noqa: S603 - this interpreter's deploybot
            [sys.executable, "-m", "deploybot", "proxy", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environ,
        )
    try:
        wait_for(
            "deploybot proxy",
            lambda: "deploybot proxy: HAProxy" in log.read_text() or proxy.poll() is not None,
        )
        if proxy.poll() is not None:
            raise DemoFailed(f"deploybot proxy exited: {log.read_text()}")
        yield f"HAProxy serves {env.front} (deploybot proxy, pid {proxy.pid})"
    finally:
        proxy.terminate()
        proxy.wait(timeout=30)


def _first_release(sample: Sample, settings: Settings, root: Path) -> str:
    """main's release staged with the process runtime and put live, as an operator would with
    `deploybot release --accept-inconclusive` and `deploybot deploy` (a first release has nothing
    to be compared with, so its gate is inconclusive and accepted on record)."""
    staging = Staging(settings.data_dir)
    source = root / "checkout"
    subprocess.run(["git", "clone", "--quiet", str(sample.repo.path), str(source)], check=True)  # noqa: S603, S607
    override = Override("demo", "the demo's first release: nothing to compare with")
    release(
        staging,
        ReleaseRequest(REPO, sample.base, source, "cli", "demo", override=override),
        lambda _: None,
    )
    env = sample.config.environments[ENVIRONMENT]
    place = places.place(settings.data_dir, env, REPO)
    with (
        places.locks(settings.redis_url, settings.deploy_lease_s) as locks,
        locks.acquire(env.name, holder_now("demo", "deploy", sample.base), "queue") as lease,
    ):
        done = Engine(place, lambda _: None, "demo", lease).deploy(sample.base)
    if not done.ok:
        raise DemoFailed(f"main's release did not go live: {done.step}: {done.detail}")
    return f"{sample.base[:10]} serves on {env.front}"


def _stop_colours(settings: Settings, env: Environment) -> None:
    """Both colours' tutors stopped: the demo leaves nothing running."""
    place = places.place(settings.data_dir, env, REPO)
    for colour in env.colours:
        place.backend.stop(place.name(colour))


def _sandboxed(timeline: Timeline) -> bool:
    """Stages run in the sandbox when this host has one; the demo's own sample code may run
    without it (a real worker refuses instead)."""
    from workers.ci import sandbox

    problem = sandbox.unavailable()
    if problem is not None:
        timeline.say(
            f"  note: no stage sandbox here ({problem}); the sample's stages run without one"
        )
    return problem is None


def _settled(github: FakeGitHub, sha: str, count: int) -> bool:
    runs = [r for r in github.check_runs() if r["head_sha"] == sha]
    return len(runs) >= count and all(r["status"] == "completed" for r in runs)


if __name__ == "__main__":
    sys.exit(run())
