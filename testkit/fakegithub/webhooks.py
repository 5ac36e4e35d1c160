"""Deliveries the fake GitHub sends: what it knows (a comment, a check run) as the webhook payload
GitHub would send for it, signed with the App's webhook secret and POSTed to a receiver on
loopback, as GitHub's hookshot does."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import urllib.parse
import uuid
import zlib
from typing import Any

from testkit.fakegithub.server import FakeGitHub

Json = dict[str, Any]


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def repository(github: FakeGitHub, repo: str) -> Json:
    known = github.state.repo(repo)
    owner, name = repo.split("/")
    return {
        "id": zlib.crc32(repo.encode()),
        "name": name,
        "full_name": repo,
        "owner": {"login": owner, "type": "Organization"},
        "default_branch": known.default_branch,
    }


def _user(login: str) -> Json:
    return {"login": login, "id": zlib.crc32(login.encode()), "type": "User"}


def comment_created(github: FakeGitHub, repo: str, comment_id: int) -> Json:
    """issue_comment.created for a comment the fake holds, on a pull request."""
    with github.lock:
        comment = github.state.get_comment(repo, comment_id)
        number = int(comment["issue_number"])
        return {
            "action": "created",
            "issue": {
                "number": number,
                "pull_request": {"url": f"{github.url}/repos/{repo}/pulls/{number}"},
            },
            "comment": {
                "id": comment_id,
                "body": comment["body"],
                "user": comment["user"],
                "created_at": comment["created_at"],
                "updated_at": comment["updated_at"],
                "html_url": comment["html_url"],
            },
            "repository": repository(github, repo),
            "sender": _user(comment["user"]["login"]),
            "installation": {"id": github.state.repo(repo).installation_id},
        }


def requested_action(
    github: FakeGitHub, repo: str, check_run_id: int, sender: str, identifier: str
) -> Json:
    """check_run.requested_action: someone pressed one of the check run's buttons."""
    with github.lock:
        run = github.state.check_run_json(github.state.get_run(repo, check_run_id))
        body = {k: v for k, v in run.items() if k not in {"repository", "history", "actions"}}
        return {
            "action": "requested_action",
            "check_run": body,
            "requested_action": {"identifier": identifier},
            "repository": repository(github, repo),
            "sender": _user(sender),
            "installation": {"id": github.state.repo(repo).installation_id},
        }


def deliver(url: str, secret: str, event: str, payload: Json) -> tuple[int, str]:
    """POST the delivery, signed, to the receiver at `url` (loopback); (status, body) whatever
    the status."""
    body = json.dumps(payload).encode()
    address = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(
        address.hostname or "127.0.0.1", address.port, timeout=10
    )
    try:
        connection.request(
            "POST",
            "/webhook",
            body=body,
            headers={
                "Content-Type": "application/json",
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": sign(body, secret),
                "User-Agent": "GitHub-Hookshot/fake",
            },
        )
        answer = connection.getresponse()
        return answer.status, answer.read().decode().strip()
    finally:
        connection.close()
