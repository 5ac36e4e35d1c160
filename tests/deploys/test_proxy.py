"""`deploybot proxy`: HAProxy with the configuration deploy.yaml renders, and the ledger's colour
re-asserted whenever it starts, whatever HAProxy's own state file says."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from core.errors import ConfigError
from deploy.config import load_config
from deploy.proxy import Proxy, haproxy_argv, haproxy_binary, write_config
from deploy.switch.haproxy import Paths
from deploy.switch.render import render
from testkit.load import Load
from testkit.loopback import free_port
from testkit.tutor import ROOT
from tests.deploys.conftest import Deployment, Staged
from tests.workers.harness import wait_for


def test_a_configuration_haproxy_refuses_is_never_put_where_it_reads_it(
    haproxy: str, tmp_path: Path
) -> None:
    config = load_config((ROOT / "data" / "deploy.yaml").read_text(), "data/deploy.yaml")
    paths = Paths(tmp_path / "haproxy")
    assert write_config(Proxy(config, paths, tmp_path / "ledger"))
    good = paths.config.read_text()
    with pytest.raises(ConfigError, match="HAProxy refuses the configuration"):
        write_config(Proxy(config, paths, tmp_path / "ledger", health="127.0.0.1:99999"))
    assert paths.config.read_text() == good  # what a start or a reload reads is still sound
    assert not write_config(Proxy(config, paths, tmp_path / "ledger"))  # nothing changed


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


def _attached(env: Deployment, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    """`deploybot proxy --attach`, as the compose file's `switch` service runs it."""
    with log.open("a") as out:
        return subprocess.Popen(
            [*env.argv("proxy")[:4], "--attach", "--config", str(env.config), *extra],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env.env,
        )


def _said(log: Path, text: str, count: int = 1) -> None:
    deadline = time.monotonic() + 30
    while log.read_text().count(text) < count:
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


@pytest.mark.slow
def test_haproxy_on_its_own_outlives_the_bot_and_reloads_without_failing_a_request(
    process_releases: Staged, deployment: Callable[..., Deployment], tmp_path: Path
) -> None:
    first, _ = process_releases.commits
    env = deployment(process_releases, "process")
    env.stop_proxy()  # from here on HAProxy runs on its own, as the compose file's proxy service
    paths = env.switch.paths
    log = tmp_path / "switch.log"
    switch = _attached(env, log)
    haproxy = None
    try:
        # Written before HAProxy starts, for it to start on.
        wait_for("the keeper to write HAProxy's configuration", paths.config.is_file, 30)
        haproxy = subprocess.Popen(haproxy_argv(paths), stdin=subprocess.DEVNULL)
        _said(log, "deploybot proxy: HAProxy worker")
        env.deploy(first)
        assert env.front_serves() == first
        worker = env.haproxy_pid()
        assert env.switch.servers(env.name)["blue"].admin == "ready"

        load = Load(env.front)
        with load.running():
            # An upgrade of the bot: its switch stops (killed outright) and a new one starts,
            # with a configuration that differs (a health frontend): HAProxy reloads.
            switch.kill()
            switch.wait()
            time.sleep(0.5)
            assert env.front_serves() == first  # HAProxy did not go with the bot
            health = free_port()
            switch = _attached(env, log, "--health-addr", f"127.0.0.1:{health}")
            _said(log, "HAProxy reloaded (configuration changed)")
            _said(log, "deploybot proxy: HAProxy worker", 2)
            time.sleep(0.5)
        sent = len(load.answers) + len(load.failures)
        print(f"requests sent {sent}, failed {len(load.failures)}")
        assert load.answers
        assert load.failures == []
        assert haproxy.poll() is None  # the same master
        assert env.haproxy_pid() != worker  # a new worker, on the new configuration
        assert health_answers(health)
        assert env.front_serves() == first
        # The new worker routes where the ledger says (its state file, then the re-assert).
        servers = env.switch.servers(env.name)
        assert (servers["blue"].admin, servers["green"].admin) == ("ready", "maint")

        # HAProxy itself dies and its supervisor starts it again with its state file lost:
        # the attached keeper sees the new worker and routes where the ledger says.
        haproxy.kill()
        haproxy.wait()
        paths.state.write_text("1\n")
        haproxy = subprocess.Popen(haproxy_argv(paths), stdin=subprocess.DEVNULL)
        _said(log, "deploybot proxy: HAProxy worker", 3)
        _said(log, f"routed to blue ({first})", 2)
        assert env.front_serves() == first
    finally:
        switch.terminate()
        switch.wait(timeout=30)
        if haproxy is not None:
            haproxy.terminate()
            haproxy.wait(timeout=30)


def health_answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    finally:
        connection.close()
