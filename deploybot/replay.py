"""`deploybot replay <payload.json>`: sign a stored delivery with the webhook secret and send it to
a receiver, as GitHub would (to reproduce a bug, or to resend what GitHub never retries). A new
`X-GitHub-Delivery` id makes it a new delivery; `--delivery` reuses one, as GitHub's own
"Redeliver" does, and the receiver then answers that it has seen it."""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from core.errors import DeploybotError
from core.settings import Settings


def signature(secret: str, body: bytes) -> str:
    """X-Hub-Signature-256 of body, as GitHub computes it."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send(url: str, secret: str, event: str, body: bytes, delivery: str) -> tuple[int, str]:
    """POST the signed delivery to url's /webhook; (status, the receiver's one-line answer)."""
    address = urlsplit(url)
    if address.scheme not in {"http", "https"} or not address.hostname:
        raise DeploybotError(f"{url!r} is not a receiver's URL (e.g. http://127.0.0.1:8000)")
    kind = http.client.HTTPSConnection if address.scheme == "https" else http.client.HTTPConnection
    connection = kind(address.hostname, address.port, timeout=15)
    try:
        connection.request(
            "POST",
            address.path.rstrip("/") + "/webhook",
            body=body,
            headers={
                "Content-Type": "application/json",
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": delivery,
                "X-Hub-Signature-256": signature(secret, body),
                "User-Agent": "GitHub-Hookshot/deploybot-replay",
            },
        )
        answer = connection.getresponse()
        return answer.status, answer.read().decode(errors="replace").strip()
    finally:
        connection.close()


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
        secret = settings.require_webhook_secret()
        body = Path(args.payload).read_bytes()
        json.loads(body)  # a stored delivery is JSON; say so here rather than as the receiver's 400
        status, said = send(args.url, secret, args.event, body, args.delivery or str(uuid.uuid4()))
    except (DeploybotError, OSError, ValueError) as exc:
        print(f"deploybot replay: {exc}", file=sys.stderr)
        return 1
    print(f"{status} {said}")
    return 0 if 200 <= status < 300 else 1


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    replay = commands.add_parser(
        "replay", help="sign a stored delivery with the webhook secret and send it to a receiver"
    )
    replay.add_argument("payload", help="the delivery's JSON body (a file)")
    replay.add_argument("--event", required=True, help="its X-GitHub-Event, e.g. issue_comment")
    replay.add_argument(
        "--url", default="http://127.0.0.1:8000", help="the receiver (default: %(default)s)"
    )
    replay.add_argument("--delivery", help="reuse this X-GitHub-Delivery id (a redelivery)")
    replay.set_defaults(run=run)
