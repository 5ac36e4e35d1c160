"""The production install started for real: `docker-compose up -d` (offline images) runs the whole
bot; a pull request's stages run in the sandbox inside the worker container; a merged pull
request's `/deploy` builds, stages, gates and serves the tutor through the proxy container;
`/rollback` serves the previous release; and the faults an operator meets (a worker restarted
mid-deploy, `down` and `up`, an upgrade of deploybot, Redis killed) lose nothing and fail no
user's request."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.names import DEPLOY_CHECK, DEPLOY_SUMMARY_MARKER
from deploy import health, images
from testkit.compose import Stack, docker, make_stack
from testkit.fakegithub import webhooks
from testkit.fakegithub.server import FakeGitHub
from testkit.fakegithub.state import Pull
from testkit.gitrepo import GitRepo
from testkit.load import Load
from testkit.loopback import free_ports
from testkit.maintainer import Maintainer
from testkit.tutor import tutor_repository
from tests.conftest import WEBHOOK_SECRET

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.install]

REPO = "octo/tutor"
INSTALLATION = 77
MAINTAINER = "maintainer"
ENV = "install"
WAIT_S = 900.0


def _deploy_yaml(front: int, blue: int, green: int) -> str:
    return (
        "environments:\n"
        f"  {ENV}:\n"
        f"    front: 127.0.0.1:{front}\n"
        f"    colours: {{blue: 127.0.0.1:{blue}, green: 127.0.0.1:{green}}}\n"
        "    runtime: docker\n"
        "    image: tutor\n"
        "    health: {path: /healthz, successes: 3, timeout_s: 60}\n"
        '    smoke: {sentence: "Yo hablo español.", expect_verdict: correct}\n'
        "    bake_s: 3\n"
        "    lock: queue\n"
    )


MATRIX = (
    "stages:\n"
    "  - name: lint\n"
    # Passes only as the sandbox's user, never as the worker's root.
    '    command: [python3, -c, "import os, sys; sys.exit(os.getuid() != 65534)"]\n'
    "    triggers: [pr]\n"
    "    timeout_s: 120\n"
    "    order: 0\n"
)


class Install:
    """The stack, the repository it deploys (served by `git daemon` on loopback) and GitHub."""

    def __init__(self, stack: Stack, github: FakeGitHub, repo: GitRepo, front: int) -> None:
        self.stack = stack
        self.github = github
        self.repo = repo
        self.front = front
        receiver = f"http://127.0.0.1:{stack.ports['WEB_PORT']}"
        self.people = Maintainer(
            github, REPO, WEBHOOK_SECRET, DEPLOY_CHECK, DEPLOY_SUMMARY_MARKER, receiver
        )

    def serves(self) -> str | None:
        try:
            return health.version(f"http://127.0.0.1:{self.front}").get("commit")
        except OSError:
            return None

    def deploy(self, number: int, command: str, count: int) -> dict[str, Any]:
        self.people.comment(number, command, MAINTAINER)
        run = self.people.wait_for_run(count, WAIT_S)
        assert run["conclusion"] == "success", run["output"]
        return run


@pytest.fixture
def install(github: FakeGitHub, tmp_path: Path, docker_client: Any) -> Iterator[Install]:
    images.build_base(docker_client)  # what the offline images and releases build on
    repo = tutor_repository(tmp_path / "remotes" / REPO)
    front, blue, green, git_port = free_ports(4)
    deploy_yaml = _deploy_yaml(front, blue, green)
    repo.commit({"data/deploy.yaml": deploy_yaml, "data/ci-matrix.yaml": MATRIX}, "install")
    daemon = subprocess.Popen(
        [
            "git",
            "daemon",
            "--export-all",
            "--reuseaddr",
            "--listen=127.0.0.1",
            f"--port={git_port}",
            f"--base-path={tmp_path / 'remotes'}",
            str(tmp_path / "remotes"),
        ],
    )
    github.add_repo(REPO, INSTALLATION)
    github.set_permission(REPO, MAINTAINER, "admin")
    name = f"dbinstall{uuid.uuid4().hex[:6]}"
    stack = make_stack(
        tmp_path / "install",
        name,
        {
            "DEPLOYBOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "DEPLOYBOT_GITHUB_APP_ID": str(github.app_id),
            "DEPLOYBOT_GITHUB_API_URL": github.url,
            "DEPLOYBOT_GIT_URL": f"git://127.0.0.1:{git_port}/{{repo}}",
            "DEPLOYBOT_DEPLOY_LEASE_S": "10",
        },
        deploy_yaml,
        github.private_key_pem,
    )
    try:
        yield Install(stack, github, repo, front)
    finally:
        stack.down()
        for colour in ("blue", "green"):
            subprocess.run(
                ["docker", "rm", "-f", f"deploybot-{ENV}-{colour}"],
                capture_output=True,
                check=False,
            )
        daemon.terminate()
        daemon.wait()


def test_the_compose_install_runs_ci_deploys_and_rolls_back(install: Install) -> None:
    stack = install.stack
    stack.must("build", timeout_s=1800)
    stack.must("up", "-d")
    took = stack.wait_healthy()
    print(f"up -d to all healthy: {took:.1f} s")

    # The worker's powers, checked where they are used.
    doctor = json.loads(stack.exec("worker", "deploybot", "doctor", "--json"))
    checks = {c["name"]: c for c in doctor["checks"]}
    assert checks["stage sandbox"]["ok"], checks["stage sandbox"]
    assert checks["docker"]["ok"], checks["docker"]
    assert checks["release base"]["ok"], checks["release base"]

    # A pull request: its stage runs in the bubblewrap sandbox inside the worker container.
    head = install.repo.commit({"tutor/NOTES.md": "a change\n"}, "a change")
    install.github.add_pull(
        REPO,
        Pull(
            number=1,
            head_sha=head,
            user=MAINTAINER,
            files=[{"filename": "tutor/NOTES.md", "status": "added"}],
        ),
    )
    install.people.deliver("pull_request", _opened(install.github, 1, head))
    lint = _wait_check(install.github, head, "deploybot/lint")
    assert lint["conclusion"] == "success", lint["output"]  # it ran as uid 65534

    # The first release is staged by the operator (its gate has nothing to compare with).
    first = install.repo.git("rev-parse", "HEAD")
    stack.exec(
        "worker",
        "sh",
        "-c",
        f"git clone --quiet {stack.env['DEPLOYBOT_GIT_URL'].format(repo=REPO)} /tmp/tutor && "
        f"deploybot release {first} --repository {REPO} --repo-dir /tmp/tutor "
        "--accept-inconclusive 'the first release'",
    )
    install.people.merged(1, first, MAINTAINER)
    install.deploy(1, "/deploy", 1)
    assert install.serves() == first

    # A second merged pull request: the worker stages and gates it itself, then deploys it.
    second = install.repo.commit({"tutor/NOTES.md": "another change\n"}, "another change")
    install.people.merged(2, second, MAINTAINER)
    install.deploy(2, "/deploy", 2)
    assert install.serves() == second

    back = install.deploy(2, "/rollback", 3)
    assert back["head_sha"] == first
    assert install.serves() == first


def _opened(github: FakeGitHub, number: int, head: str) -> dict[str, Any]:
    return {
        "action": "opened",
        "number": number,
        "pull_request": {
            "number": number,
            "draft": False,
            "head": {"sha": head, "ref": "change"},
            "base": {"ref": "main"},
            "user": {"login": MAINTAINER},
        },
        "repository": webhooks.repository(github, REPO),
        "installation": {"id": INSTALLATION},
        "sender": {"login": MAINTAINER, "type": "User"},
    }


def _wait_check(github: FakeGitHub, sha: str, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while True:
        runs = [r for r in github.check_runs() if r["head_sha"] == sha and r["name"] == name]
        if runs and runs[-1]["status"] == "completed":
            return runs[-1]
        assert time.monotonic() < deadline, f"{name} on {sha[:10]} never completed"
        time.sleep(0.5)


def _stage_two(install: Install) -> tuple[str, str]:
    """Two releases staged by the operator in the worker container (the first accepted, the
    second gated against it), each the merge commit of a merged pull request."""
    first = install.repo.git("rev-parse", "HEAD")
    second = install.repo.commit({"tutor/NOTES.md": "a change\n"}, "a change")
    url = install.stack.env["DEPLOYBOT_GIT_URL"].format(repo=REPO)
    install.stack.exec(
        "worker",
        "sh",
        "-c",
        f"git clone --quiet {url} /tmp/tutor && "
        f"deploybot release {first} --repository {REPO} --repo-dir /tmp/tutor "
        "--accept-inconclusive 'the first release' && "
        f"deploybot release {second} --repository {REPO} --repo-dir /tmp/tutor",
    )
    install.people.merged(1, first, MAINTAINER)
    install.people.merged(2, second, MAINTAINER)
    return first, second


def _live(install: Install, field: str = "commit") -> str:
    """What the status listener reports live (the ledger's word): its commit, or its colour."""
    status = f"http://127.0.0.1:{install.stack.ports['STATUS_PORT']}/api/status"
    with urllib.request.urlopen(status, timeout=10) as answer:
        [env] = [e for e in json.load(answer)["environments"] if e["name"] == ENV]
    return str(env["live"][field])


def _started(install: Install, count: int) -> None:
    """Until the `count`th deploy check run is in progress."""
    deadline = time.monotonic() + WAIT_S
    while True:
        runs = install.people.deploy_runs()
        if len(runs) >= count and runs[count - 1]["status"] == "in_progress":
            return
        assert time.monotonic() < deadline, f"deploy run {count} never started"
        time.sleep(0.1)


def _said(what: str, load: Load) -> None:
    print(
        f"{what}: requests sent {len(load.answers) + len(load.failures)}, "
        f"failed {len(load.failures)}"
    )


def test_faults_through_compose_lose_nothing_and_fail_no_request(install: Install) -> None:
    stack = install.stack
    stack.must("build", timeout_s=1800)
    stack.must("up", "-d")
    stack.wait_healthy()
    first, second = _stage_two(install)
    install.deploy(1, "/deploy", 1)
    assert install.serves() == first

    # An upgrade of deploybot while the tutor takes traffic: a rebuilt image, `up -d`.
    proxy = stack.containers()["proxy"]
    web = stack.containers()["web"]
    readme = stack.root / "README.md"
    readme.write_text(readme.read_text() + "\n<!-- the next release of deploybot -->\n")
    load = Load(install.front)
    with load.running():
        stack.must("build", timeout_s=1800)
        stack.must("up", "-d")
        stack.wait_healthy()
        time.sleep(1)
    _said("upgrade of deploybot", load)
    assert load.answers
    assert load.failures == []
    assert stack.containers()["web"] != web  # upgraded
    assert stack.containers()["proxy"] == proxy  # HAProxy was not touched
    assert install.serves() == first

    # The worker restarted in the middle of a deploy: the next one carries it to its end.
    load = Load(install.front)
    with load.running():
        install.people.comment(2, "/deploy", MAINTAINER)
        _started(install, 2)
        stack.must("restart", "worker")
        run = install.people.wait_for_run(2, WAIT_S)
    _said("worker restarted mid-deploy", load)
    after = install.serves() or "nothing"
    print(f"worker restarted mid-deploy: served {first[:12]} before, {after[:12]} after")
    assert load.failures == []
    assert run["conclusion"] == "success", run["output"]
    assert install.serves() == second == _live(install)

    # down and up with the tutor live: the volumes keep ledger, releases and Redis; the live
    # colour is re-asserted by the new HAProxy's keeper.
    load = Load(install.front)
    with load.running():
        stack.must("down")
        stack.must("up", "-d")
        stack.wait_healthy()
        _wait(lambda: install.serves() == second, "the front to serve the same release again")
    _said("down and up", load)  # HAProxy is down meanwhile: those requests fail
    print(f"down and up: served {second[:12]} before, {(install.serves() or 'nothing')[:12]} after")
    assert _live(install) == second

    # The next /rollback goes to the right release, with Redis killed in the middle of it
    # (compose restarts it; its data is on its volume).
    load = Load(install.front)
    with load.running():
        install.people.comment(2, "/rollback", MAINTAINER)
        _started(install, 3)
        redis = stack.containers()["redis"]
        os.kill(int(docker("inspect", "--format", "{{.State.Pid}}", redis)), signal.SIGKILL)
        run = install.people.wait_for_run(3, WAIT_S)
    _said("Redis killed mid-rollback", load)
    assert load.failures == []
    assert (run["head_sha"], run["conclusion"]) == (first, "success"), run["output"]
    assert install.serves() == first == _live(install)
    restarts = docker("inspect", "--format", "{{.RestartCount}}", redis).strip()
    assert int(restarts) >= 1  # a crash, which compose's restart policy answered
    _wait(lambda: stack.health()["redis"] == "healthy", "Redis healthy again")

    # The live colour's container killed outside any run: the switch fails over to the spare.
    load = Load(install.front)
    with load.running():
        docker("kill", f"deploybot-{ENV}-{_live(install, 'colour')}")
        _wait(lambda: install.serves() == second, "the front to serve the warm spare")
        time.sleep(1)
    _said("the live colour killed", load)  # those in flight when it died may fail
    assert _live(install) == second
    assert "failover done" in stack.logs("switch")


def _wait(ready: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 120
    while not ready():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
