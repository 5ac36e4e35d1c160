"""A pull request attacks the worker from inside its stages, through the real worker, a real
Redis that asks for a password, real git and the fake GitHub; canary secrets are everywhere the
worker keeps its own: its environment, its key file, its Redis, its data dir."""

from __future__ import annotations

import ast
import base64
import os
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import redis
from celery import Celery

from core.settings import Settings
from testkit.fakegithub.server import FakeGitHub
from testkit.loopback import private_redis
from tests.conftest import WorkerFactory
from tests.workers.harness import (
    REPO,
    Remote,
    add_pull,
    connected,
    matrix,
    runs_for,
    send_pipeline,
    settled,
    stage,
    wait_for,
)
from workers.checkout import Workspace, clone_url, workspace_root
from workers.ci import sandbox

pytestmark = pytest.mark.skipif(
    sandbox.unavailable() is not None and os.environ.get("CI") != "true",
    reason=f"no stage sandbox here: {sandbox.unavailable()}",
)

CANARY_WEBHOOK = "canary-webhook-secret-7f3a9c"
CANARY_REDIS = "canary-redis-password-91bd2e"

ATTACK = '''\
"""Everything a hostile test suite would try; it prints what it finds, as a leak would."""
import glob, os, pathlib, socket, sys

def show(label, value):
    print(f"EVIDENCE {label}={value}")

show("uid", os.getuid())
show("env", sorted(os.environ))
for path in sorted(glob.glob("/proc/[0-9]*/environ")):
    try:
        show("environ", (path, pathlib.Path(path).read_bytes().replace(b"\\0", b" ")))
    except OSError as exc:
        show("environ", (path, type(exc).__name__))
try:
    show("key", pathlib.Path(sys.argv[1]).read_text())
except OSError as exc:
    show("key", type(exc).__name__)
data = pathlib.Path(sys.argv[2])
show("data", sorted(str(p) for p in data.rglob("*")) if data.exists() else "missing")
try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[3])), timeout=3) as bot_redis:
        bot_redis.sendall(b"KEYS *\\r\\n")
        show("redis", bot_redis.recv(200))
except OSError as exc:
    show("redis", type(exc).__name__)
planted = []
targets = [
    pathlib.Path(sys.prefix) / "lib" / "evil.pth",
    pathlib.Path(os.environ["HOME"]) / ".planted",
    pathlib.Path("/tmp/planted"),
    pathlib.Path(sys.argv[4]),
    pathlib.Path(".git/hooks/post-checkout"),
]
for target in targets:
    try:
        target.write_text(f"#!/bin/sh\\ntouch {sys.argv[5]}\\n")
        target.chmod(0o755)
        planted.append(str(target))
    except OSError as exc:
        show("plant", (str(target), type(exc).__name__))
show("planted", planted)
print("a leak, as is:", sys.argv[6])
print("reversed:", sys.argv[6][::-1])
'''
INSPECT = """\
import os, pathlib, sys
targets = [
    pathlib.Path(sys.prefix) / "lib" / "evil.pth",
    pathlib.Path(os.environ["HOME"]) / ".planted",
    pathlib.Path("/tmp/planted"),
    pathlib.Path(".git/hooks/post-checkout"),
]
found = [str(t) for t in targets if t.exists()]
print("EVIDENCE found=" + repr(found))
"""


@dataclass
class Target:
    github: FakeGitHub
    remote: Remote
    redis: redis.Redis
    app: Celery
    settings: Settings
    shared: Path
    key: Path
    port: int


@pytest.fixture
def target(
    github: FakeGitHub,
    settings: Settings,
    tmp_path: Path,
    shared_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Target]:
    key = shared_dir / "app-key.pem"  # a careless operator's world-readable key file
    key.write_text(settings.github_private_key or "")
    key.chmod(0o644)
    # The worker's own environment holds the secrets, as a real worker's does.
    monkeypatch.setenv("DEPLOYBOT_WEBHOOK_SECRET", CANARY_WEBHOOK)
    monkeypatch.setenv("DEPLOYBOT_GITHUB_PRIVATE_KEY", settings.github_private_key or "")
    with private_redis(password=CANARY_REDIS) as url:
        monkeypatch.setenv("DEPLOYBOT_REDIS_URL", url)
        worker = replace(
            settings,
            webhook_secret=CANARY_WEBHOOK,
            redis_url=url,
            github_private_key_path=key,
            data_dir=shared_dir / "data",  # outside /tmp: hidden by the sandbox itself
        )
        remote, app = connected(github, worker, tmp_path)
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        yield Target(github, remote, redis.Redis.from_url(url), app, worker, shared_dir, key, port)


def secrets_of(t: Target) -> list[str]:
    pem = t.settings.github_private_key or ""
    lines = [line for line in pem.splitlines() if len(line) > 16 and "PRIVATE KEY" not in line]
    tokens = [str(tok) for tok in t.github.tokens]
    values = [CANARY_WEBHOOK, CANARY_REDIS, *lines, *tokens]
    encoded = [base64.b64encode(v.encode()).decode().rstrip("=") for v in values]
    return [*values, *[v[::-1] for v in values], *[urllib.parse.quote(v) for v in values], *encoded]


def posted(t: Target) -> str:
    """Everything the bot sent to GitHub."""
    return repr([r.body for r in t.github.requests])


def logs(t: Target) -> str:
    return "\n".join(
        p.read_text(errors="replace") for p in (t.settings.data_dir / "logs").rglob("*.log")
    )


def evidence(text: str) -> dict[str, str]:
    lines = [line.split("EVIDENCE ", 1)[1] for line in text.splitlines() if "EVIDENCE " in line]
    found: dict[str, str] = {}
    for line in lines:
        label, _, value = line.partition("=")
        found[label] = found.get(label, "") + value + "\n"
    return found


@pytest.mark.slow
def test_a_pull_request_reads_no_secret_reaches_no_redis_and_leaves_nothing_behind(
    target: Target, start_worker: WorkerFactory
) -> None:
    t = target
    hook_ran = t.shared / "hook-ran"
    store = Workspace(workspace_root(t.settings), clone_url(t.settings, REPO)).git_dir
    arguments = [
        str(t.key),
        str(t.settings.data_dir),
        str(t.port),
        str(store / "hooks" / "post-checkout"),
        str(hook_ran),
        CANARY_WEBHOOK,  # as if the attacker had learnt one secret some other way
    ]
    attack = matrix(stage("attack", ["python", "attack.py", *arguments], 0))
    inspect = matrix(stage("attack", ["python", "inspect.py"], 0))
    first = t.remote.commit({"data/ci-matrix.yaml": attack, "attack.py": ATTACK}, "main")
    add_pull(t.github, 1, first, ["attack.py"])
    with start_worker(t.app):
        send_pipeline(t.app, 1, first)
        wait_for("the attack", settled(t.github, t.redis, first, 1))
        second = t.remote.commit({"data/ci-matrix.yaml": inspect, "inspect.py": INSPECT}, "main")
        add_pull(t.github, 2, second, ["inspect.py"])
        send_pipeline(t.app, 2, second)
        wait_for("the inspection", settled(t.github, t.redis, second, 1))

    [attacked] = runs_for(t.github, first).values()
    seen = evidence(attacked["output"]["summary"])
    assert seen["uid"].strip() == "65534"
    assert "DEPLOYBOT" not in seen["env"]
    assert "DEPLOYBOT" not in seen.get("environ", "")  # only the sandbox's own processes
    assert seen["key"].strip() == "PermissionError"  # /dev/null in its place
    # Of the data dir it sees only what it was given: its environment and its own checkout.
    data = t.settings.data_dir
    shown = {Path(p) for p in ast.literal_eval(seen["data"].strip())}
    assert shown
    assert all(
        p.is_relative_to(data / "envs") or p.is_relative_to(data / "sandboxes") for p in shown
    )
    assert len([p for p in shown if p.parent == data / "envs"]) == 1  # no other commit's
    assert seen["redis"].strip() in {"ConnectionRefusedError", "OSError"}
    # What it could write is its own: a fresh /tmp and its copy of the checkout, both discarded.
    assert (
        seen["planted"].strip() == "['/tmp/.planted', '/tmp/planted', '.git/hooks/post-checkout']"
    )
    assert "evil.pth', 'OSError'" in seen["plant"]  # the frozen environment: read-only
    assert f"{store}/hooks/post-checkout', 'FileNotFoundError'" in seen["plant"]  # not there
    # Nothing of the bot's leaves: not to GitHub, not into the logs on disk.
    for leak in (posted(t), logs(t)):
        for secret in secrets_of(t):
            assert secret not in leak
    assert "a leak, as is: ***" in attacked["output"]["summary"]
    # The second pull request finds nothing the first planted, and no hook ran in the worker.
    [inspected] = runs_for(t.github, second).values()
    assert evidence(inspected["output"]["summary"])["found"].strip() == "[]"
    assert not hook_ran.exists()
