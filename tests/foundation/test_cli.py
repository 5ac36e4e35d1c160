"""The `deploybot` command: its help lists every operator subcommand the README names."""

from __future__ import annotations

import os

from core.settings import unconfigured
from tests.conftest import run_deploybot

OPERATOR_COMMANDS = (
    "doctor",
    "demo",
    "serve",
    "worker",
    "beat",
    "proxy",
    "prune",
    "release",
    "releases",
    "deploy",
    "rollback",
    "lock",
    "unlock",
    "status",
    "history",
    "metrics",
    "replay",
)


def test_help_lists_the_operator_subcommands() -> None:
    done = run_deploybot("--help")
    assert done.returncode == 0
    for name in OPERATOR_COMMANDS:
        assert f"    {name}" in done.stdout


def test_the_deploy_controls_are_in_the_help() -> None:
    deploy = run_deploybot("deploy", "--help")
    assert "--dry-run" in deploy.stdout
    assert "--break-glass REASON" in deploy.stdout
    lock = run_deploybot("lock", "--help")
    assert "--reason REASON" in lock.stdout
    assert "--env ENV" in lock.stdout


def test_version() -> None:
    done = run_deploybot("--version")
    assert done.returncode == 0
    assert done.stdout.startswith("deploybot ")


def test_doctor_reports_missing_secret_without_leaking_set_ones(redis_url: str) -> None:
    env = unconfigured(os.environ)
    env["DEPLOYBOT_REDIS_URL"] = redis_url
    env["DEPLOYBOT_GITHUB_PRIVATE_KEY"] = (
        "-----BEGIN RSA PRIVATE KEY-----\\nsecret-material\\n-----END RSA PRIVATE KEY-----"
    )
    done = run_deploybot("doctor", env=env)
    assert done.returncode == 1
    assert "DEPLOYBOT_WEBHOOK_SECRET" in done.stdout
    assert "MISSING" in done.stdout
    assert "refuses to start" in done.stdout
    assert "cannot run without: webhook secret" in done.stderr
    assert "secret-material" not in done.stdout + done.stderr
    assert "answers PING" in done.stdout


def test_serve_refuses_to_start_without_the_webhook_secret() -> None:
    env = unconfigured(os.environ)
    done = run_deploybot("serve", "--port", "1", env=env)
    assert done.returncode == 1
    assert "DEPLOYBOT_WEBHOOK_SECRET is not set" in done.stderr
