"""deploy.yaml: the repository's own file loads, defaults fill what is left out, and every
mistake names its line."""

from __future__ import annotations

import pytest

from deploy.config import DeployConfigError, load_config
from testkit.tutor import ROOT

MINIMAL = """\
environments:
  staging:
    front: 127.0.0.1:9080
    colours: {blue: 127.0.0.1:9081, green: 127.0.0.1:9082}
"""


def test_the_repositorys_deploy_yaml_loads() -> None:
    config = load_config((ROOT / "data" / "deploy.yaml").read_text(), "data/deploy.yaml")
    production = config.environment(None)
    assert production.name == "production"
    assert str(production.front) == "127.0.0.1:8080"
    assert production.runtime == "docker"
    assert production.bake_s == 600
    assert production.gate.max_relative_drop == 0.02


def test_left_out_fields_take_the_documented_defaults() -> None:
    env = load_config(MINIMAL).environment("staging")
    assert (env.runtime, env.image, env.permission, env.lock, env.bake_s, env.switch) == (
        "docker",
        "tutor",
        "write",
        "queue",
        600,
        "haproxy",
    )
    assert (env.health.path, env.health.successes, env.health.timeout_s) == ("/healthz", 3, 30)
    assert env.smoke.expect_verdict == "correct"
    assert (env.bake_alert.error_rate, env.bake_alert.min_requests) == (0.05, 20)
    assert env.other("blue") == "green"
    with pytest.raises(KeyError, match=r"no environment 'prod' in deploy.yaml \(known: staging\)"):
        load_config(MINIMAL).environment("prod")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("environments: [a]\n", 1, "environments must be a mapping"),
        (MINIMAL + "    colour: red\n", 5, "unknown key 'colour'"),
        (MINIMAL + "    runtime: kubernetes\n", 5, "runtime must be one of docker, process"),
        (MINIMAL + "    lock: wait\n", 5, "lock must be one of queue, refuse"),
        (MINIMAL + "    switch: nginx\n", 5, "switch must be one of haproxy, embedded"),
        (MINIMAL + "    bake_s: -1\n", 5, "bake_s must be zero or more"),
        (MINIMAL + "    health: {successes: 0}\n", 5, "health.successes must be at least 1"),
        (MINIMAL + "    health: {path: healthz}\n", 5, "health.path must start with /"),
        # An attacker's (or a careless) path must not write its own HAProxy configuration.
        (
            MINIMAL + '    health: {path: "/healthz\\nlisten evil\\n  bind :1"}\n',
            5,
            "health.path '/healthz\\nlisten evil\\n  bind :1' may hold only",
        ),
        (MINIMAL + '    health: {path: "/a b"}\n', 5, "no spaces"),
        (MINIMAL + '    health: {path: "/a\'b"}\n', 5, "may hold only"),
        (MINIMAL + "    bake_alert: {error_rate: 1}\n", 5, "error_rate must be from 0 to below 1"),
        (MINIMAL + "    bake_alert: {min_requests: 0}\n", 5, "min_requests must be at least 1"),
        (MINIMAL + "    bake_alert: {rate: 0.1}\n", 5, "unknown key 'rate'"),
        (MINIMAL + "    gate: {threshold: 95}\n", 5, "gate.threshold must be between 0 and 1"),
        (MINIMAL + "    smoke: {expect_verdict: fine}\n", 5, "expect_verdict must be one of"),
        (MINIMAL.replace("127.0.0.1:9080", "localhost"), 3, "front must be host:port"),
        (MINIMAL.replace("green: 127.0.0.1:9082", "red: 1:2"), 4, "unknown key 'red'"),
        (MINIMAL.replace("9082", "9081"), 2, "port 9081 is both staging blue and staging green"),
        (MINIMAL.replace("staging:", "Staging:"), 3, "must be lower-case"),
        ("environments: {}\n", 1, "environments is empty"),
        ("nothing: here\n", 1, "unknown key 'nothing'"),
        ("environments:\n  staging: {front: 1:2\n", 3, "invalid YAML"),
    ],
)
def test_every_mistake_names_its_line(text: str, line: int, message: str) -> None:
    with pytest.raises(DeployConfigError) as raised:
        load_config(text, "data/deploy.yaml")
    said = str(raised.value)
    assert said.startswith(f"data/deploy.yaml:{line}:"), said
    assert message in said, said
