"""Traffic stays on a healthy release when the parties of a deploy die, hang or are attacked
during the bake: the spare dead before a flip back, no colour left to go back to, one hostile
request through the front. Real HAProxy, Redis and tutor processes."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from testkit.load import Load, post_check
from testkit.loopback import free_port
from tests.deploys.conftest import Deployment, Staged

pytestmark = pytest.mark.slow

BAKE_S = 30


def begin_of(step: str) -> Callable[[dict[str, object]], bool]:
    return lambda e: e["step"] == step and e["phase"] == "begin"


def hang_for(env: Deployment, colour: str, seconds: float) -> threading.Timer:
    """`colour` stops answering (SIGSTOP) and answers again after `seconds`."""
    env.signal_colour(colour, signal.SIGSTOP)
    timer = threading.Timer(seconds, env.signal_colour, (colour, signal.SIGCONT))
    timer.start()
    return timer


@contextlib.contextmanager
def squatter(port: int) -> Iterator[None]:
    """Something else holds the port: it accepts every connection and closes it at once."""
    deadline = time.monotonic() + 10
    while True:  # the killed colour's socket may take a moment to go
        try:
            listener = socket.create_server(("127.0.0.1", port))
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                listener.accept()[0].close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        listener.close()


def test_a_flip_back_restarts_a_dead_spare_before_routing_to_it(
    process_releases: Staged, deployment: Callable[..., Deployment]
) -> None:
    first, second = process_releases.commits
    env = deployment(process_releases, "process")
    driving = env.baking(first, second, bake_s=BAKE_S)

    env.signal_colour("blue")  # the spare crashes
    timer = hang_for(env, "green", 5)  # then the new colour hangs: the bake alerts
    said, _ = driving.communicate(timeout=120)
    timer.join()

    assert driving.returncode != 0, said
    assert "blue had stopped serving" in said, said
    assert "restarted it there" in said, said
    assert env.front_serves() == first
    assert env.serves("blue") == first
    found = env.status()
    assert (found["live"]["commit"], found["live"]["colour"]) == (first, "blue")
    assert found["bad"] == [second]
    assert env.serves("green") is None  # the release judged bad was stopped


def test_a_flip_back_with_nowhere_to_go_keeps_the_colour_that_serves(
    process_releases: Staged, deployment: Callable[..., Deployment]
) -> None:
    first, second = process_releases.commits
    env = deployment(process_releases, "process")
    driving = env.baking(first, second, bake_s=BAKE_S, health_timeout_s=3)

    env.signal_colour("blue")
    with squatter(env.blue):  # blue's release cannot be started again on its port
        timer = hang_for(env, "green", 5)
        said, _ = driving.communicate(timeout=120)
        timer.join()

    assert driving.returncode != 0, said
    assert "traffic stays on green" in said, said
    # The new colour was never stopped: once it answers again, users are served.
    assert env.front_serves() == second
    found = env.status()
    assert (found["live"]["commit"], found["live"]["colour"]) == (second, "green")
    assert found["bad"] == [second]
    assert env.entries()[-1]["outcome"] == "failed"

    # The ledger still knows the release to go back to; the rollback restarts it.
    rolled = env.cli("rollback")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert env.front_serves() == first


def test_one_hostile_request_during_the_bake_does_not_flip_the_release_back(
    process_releases: Staged, deployment: Callable[..., Deployment]
) -> None:
    first, second = process_releases.commits
    env = deployment(process_releases, "process")
    driving = env.baking(first, second, bake_s=5)

    nested = b"[" * 10_000 + b"]" * 10_000  # under the size limit; decoding it recursed
    assert post_check(env.front, nested) == 400
    said, _ = driving.communicate(timeout=120)

    assert driving.returncode == 0, said
    assert env.entries()[-1]["outcome"] == "done"
    assert env.front_serves() == second


def test_a_switch_started_with_another_deploy_yaml_is_refused_before_anything_starts(
    process_releases: Staged, deployment: Callable[..., Deployment]
) -> None:
    first, second = process_releases.commits
    env = deployment(process_releases, "process")
    env.deploy(first)
    routed_green = env.green
    env.green = free_port()  # deploy.yaml moves green; HAProxy still runs with the old file
    env.write_config()
    before = len(env.entries())

    moved = env.cli("deploy", second)

    assert moved.returncode == 1
    assert "disagrees with deploy.yaml" in moved.stderr, moved.stderr
    assert f"sends green to 127.0.0.1:{routed_green}, deploy.yaml to 127.0.0.1:{env.green}" in (
        moved.stderr
    )
    assert not any(e["step"] == "start" for e in env.entries()[before:])
    assert env.front_serves() == first


FAILED_OVER_WITHIN_S = 5


def test_the_live_colour_dying_outside_a_deploy_fails_over_to_the_warm_spare(
    process_releases: Staged, deployment: Callable[..., Deployment]
) -> None:
    first, second = process_releases.commits
    env = deployment(process_releases, "process")
    env.deploy(first)
    env.deploy(second)
    before = len(env.entries())

    env.signal_colour("green")  # the live colour crashes; no deploy runs
    died = time.monotonic()
    while env.front_serves() != first:
        assert time.monotonic() - died < FAILED_OVER_WITHIN_S, "the front did not serve again"
        time.sleep(0.05)

    finish = env.wait_for_entry(lambda e: e["step"] == "finish", after=before)
    assert (finish["kind"], finish["outcome"]) == ("failover", "done")
    assert "routed to blue" in finish["detail"]
    assert "failover done" in env.proxy_log.read_text()
    found = env.status()
    assert (found["live"]["commit"], found["live"]["colour"]) == (first, "blue")
    assert not found["in_progress"]
    # A failure of the deploy that put it live, restored: in the DORA figures.
    window = env.dora_week()
    assert (window.deploys, window.failures) == (2, 1)
    assert window.time_to_restore_s is not None

    # Fixed: the release deploys again onto the colour that died.
    env.deploy(second)
    assert env.front_serves() == second


def test_a_dead_live_colour_with_no_spare_is_deployed_again_not_called_unchanged(
    process_releases: Staged, deployment: Callable[..., Deployment]
) -> None:
    first, _ = process_releases.commits
    env = deployment(process_releases, "process")
    env.deploy(first)
    env.signal_colour("blue")
    while env.serves("blue") is not None:
        time.sleep(0.05)
    assert env.front_serves() is None  # nothing warm to fail over to

    again = env.deploy(first)

    assert "unchanged" not in again.stdout
    assert env.front_serves() == first


def next_deploy_fails_nothing(env: Deployment, commit: str) -> None:
    load = Load(env.front)
    with load.running():
        time.sleep(0.5)
        env.deploy(commit)
        time.sleep(0.5)
    assert load.answers
    assert load.failures == []
    assert env.front_serves() == commit


def test_haproxy_killed_mid_bake_leaves_the_ledger_and_the_switch_agreeing(
    process_releases: Staged, deployment: Callable[..., Deployment]
) -> None:
    first, second = process_releases.commits
    env = deployment(process_releases, "process")
    driving = env.baking(first, second, bake_s=BAKE_S)

    os.kill(env.haproxy_pid(), signal.SIGKILL)
    said, _ = driving.communicate(timeout=120)
    assert driving.returncode != 0, said
    assert env.proxy is not None
    env.proxy.wait(timeout=30)  # `deploybot proxy` exits with its HAProxy, for a supervisor
    env.start_proxy()  # ... which starts it again

    found = env.status()
    assert found["switch"]["routes"] == found["live"]["colour"] == "blue", found
    assert found["switch"]["disagrees"] is None
    assert found["live"]["commit"] == first
    assert env.front_serves() == first
    # The next deploy replaces the colour that does not serve, failing no request.
    env.write_config()
    next_deploy_fails_nothing(env, second)


def test_a_lost_ledger_never_makes_a_deploy_replace_the_colour_that_serves(
    process_releases: Staged, deployment: Callable[..., Deployment]
) -> None:
    first, second = process_releases.commits
    env = deployment(process_releases, "process")
    env.deploy(first)
    env.deploy(second)  # green serves, blue is the spare
    env.ledger().path.unlink()

    found = env.status()
    assert found["live"] is None
    assert "the switch routes to green, the ledger has nothing live" in found["switch"]["disagrees"]

    next_deploy_fails_nothing(env, first)
    found = env.status()
    assert (found["live"]["colour"], found["switch"]["routes"]) == ("blue", "blue")


@contextlib.contextmanager
def slow_request(port: int) -> Iterator[Callable[[], None]]:
    """A POST through the front whose body is still coming: it keeps a session open on the
    colour it reached (a drain waits for it) until the returned call sends the rest."""
    body = b'{"sentence": "Yo hablo espa\\u00f1ol."}'
    connection = socket.create_connection(("127.0.0.1", port))
    head = (
        b"POST /check HTTP/1.1\r\nHost: front\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    connection.sendall(head + body[:5])

    def finish() -> None:
        connection.sendall(body[5:])
        connection.settimeout(30)
        assert connection.recv(100).startswith(b"HTTP/1.1 200")

    try:
        yield finish
    finally:
        connection.close()


def test_a_holder_whose_lock_was_taken_over_during_its_drain_writes_and_routes_nothing(
    process_releases: Staged, deployment: Callable[..., Deployment]
) -> None:
    first, second = process_releases.commits
    env = deployment(process_releases, "process")
    env.deploy(first)
    with slow_request(env.front) as finish:  # in flight on blue: the flip's drain waits for it
        time.sleep(0.5)
        before = len(env.entries())
        driving = env.popen("deploy", second)
        env.wait_for_entry(begin_of("flip"), after=before)
        rolled = env.cli("rollback")  # takes the lock over after one lease
        assert rolled.returncode == 0, rolled.stdout + rolled.stderr
        assert env.front_serves() == first
        finish()  # the drain ends: the old holder would carry on from here
        said, _ = driving.communicate(timeout=120)

    assert driving.returncode == 1
    assert "taken over" in said
    entries = env.entries()
    finish_at = max(i for i, e in enumerate(entries) if e["step"] == "finish")
    assert entries[finish_at]["kind"] == "deploy"  # the rollback's settling of it, the last word
    assert entries[finish_at + 1 :] == []  # nothing after it: no `flip end` from the old holder
    found = env.status()
    assert (found["live"]["commit"], found["live"]["colour"]) == (first, "blue")
    assert found["switch"]["disagrees"] is None
