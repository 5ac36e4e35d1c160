"""`deploybot proxy`: HAProxy with the configuration deploy.yaml renders, and the ledger's colour
re-asserted whenever it starts, whatever HAProxy's own state file says."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from deploy.config import load_config
from deploy.proxy import haproxy_binary
from deploy.switch.render import render
from testkit.tutor import ROOT
from tests.deploys.conftest import Deployment, Staged


def test_the_rendered_configuration_is_valid_haproxy(haproxy: str, tmp_path: Path) -> None:
    config = load_config((ROOT / "data" / "deploy.yaml").read_text(), "data/deploy.yaml")
    path = tmp_path / "haproxy.cfg"
    path.write_text(render(config, tmp_path / "admin.sock", tmp_path / "servers.state"))
    (tmp_path / "servers.state").write_text("1\n")
    checked = subprocess.run(
        [haproxy_binary(), "-c", "-f", str(path)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "WARNING" not in checked.stdout + checked.stderr


@pytest.mark.slow
def test_haproxy_killed_and_restarted_routes_where_the_ledger_says(
    process_releases: Staged, deployment: Callable[..., Deployment]
) -> None:
    first, second = process_releases.commits
    env = deployment(process_releases, "process")
    env.deploy(first)
    env.deploy(second)
    assert env.front_serves() == second

    # HAProxy itself dies: `deploybot proxy` goes with it, for its supervisor to restart.
    os.kill(env.haproxy_pid(), signal.SIGKILL)
    assert env.proxy is not None
    assert env.proxy.wait(timeout=30) != 0
    env.proxy = None
    assert env.front_serves() is None
    # Its state file is stale or lost (a new host, a wiped volume): the ledger decides.
    (env.data / "haproxy" / "servers.state").write_text("1\n")
    said = env.start_proxy()
    assert f"routed to green ({second})" in said
    assert env.front_serves() == second
    servers = env.switch.servers(env.name)
    assert servers["green"].admin == "ready"
    assert servers["blue"].admin == "drain"  # the warm spare: in the backend, given nothing

    back = env.cli("rollback")
    assert back.returncode == 0, back.stdout + back.stderr
    assert env.front_serves() == first

    # `deploybot proxy` SIGKILLed: HAProxy goes too, so the restarted one can bind the front.
    assert env.stop_proxy(signal.SIGKILL) == -signal.SIGKILL
    assert env.front_serves() is None
    env.start_proxy()
    assert env.front_serves() == first
