"""`deploybot replay`: a stored delivery, signed with the secret and sent to a running receiver,
is queued like GitHub's; sent again with its delivery id it is a redelivery; a wrong secret is
refused by the receiver and the command says so."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import redis
from celery import Celery

from bot.app import create_app
from core.settings import Settings, unconfigured
from tests.bot.conftest import WEBHOOKS, queued_messages, serve
from tests.conftest import WEBHOOK_SECRET, run_deploybot

PAYLOAD = WEBHOOKS / "pull_request" / "opened.payload.json"


def _replay(url: str, *args: str, secret: str = WEBHOOK_SECRET) -> subprocess.CompletedProcess[str]:
    env = unconfigured(os.environ)
    env["DEPLOYBOT_WEBHOOK_SECRET"] = secret
    return run_deploybot("replay", *args, "--url", url, env=env)


def test_a_stored_delivery_is_signed_sent_and_queued(
    settings: Settings, celery_app: Celery, redis_client: redis.Redis, tmp_path: Path
) -> None:
    with serve(create_app(settings, celery=celery_app)) as url:
        first = _replay(url, str(PAYLOAD), "--event", "pull_request", "--delivery", "replay-1")
        assert first.returncode == 0, first.stderr
        assert first.stdout.startswith("202 queued workers.pipeline.run")
        assert [m.task for m in queued_messages(redis_client)] == ["workers.pipeline.run"]

        again = _replay(url, str(PAYLOAD), "--event", "pull_request", "--delivery", "replay-1")
        assert again.stdout.strip() == "200 duplicate delivery"
        assert len(queued_messages(redis_client)) == 1

        forged = _replay(url, str(PAYLOAD), "--event", "pull_request", secret="not-the-secret-x1")
        assert forged.returncode == 1
        assert forged.stdout.startswith("401")

        broken = tmp_path / "broken.json"
        broken.write_text("{not json")
        refused = _replay(url, str(broken), "--event", "pull_request")
        assert refused.returncode == 1
        assert "deploybot replay:" in refused.stderr
