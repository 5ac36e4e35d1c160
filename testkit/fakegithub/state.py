"""The fake GitHub's memory: repos, pulls, check runs, comments, deployments (no HTTP)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Json = dict[str, Any]

# Rules GitHub enforces that its OpenAPI description does not express.
MAX_DEPLOYMENT_STATUS_DESCRIPTION = 140


class NotFound(LookupError):
    pass


class Unprocessable(ValueError):
    pass


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Pull:
    number: int
    head_sha: str
    head_ref: str = "feature"
    base_ref: str = "main"
    title: str = "A change"
    user: str = "contributor"
    state: str = "open"
    merged: bool = False
    merge_commit_sha: str | None = None
    merged_by: str | None = None
    merged_at: str | None = None
    draft: bool = False
    head_repo: str | None = None  # "owner/name" of a fork; None means the same repository
    files: list[Json] = field(default_factory=list)


@dataclass
class Repo:
    full_name: str
    installation_id: int
    default_branch: str = "main"
    permissions: dict[str, str] = field(default_factory=dict)
    pulls: dict[int, Pull] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # "heads/main" -> sha
    compares: dict[str, Json] = field(default_factory=dict)  # "base...head" -> body
    issues: dict[int, str] = field(default_factory=dict)  # plain issues: number -> title


class GitHubState:
    """What a test seeds and then asserts on. Access it under the server's lock."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._ids = itertools.count(1000)
        self.repos: dict[str, Repo] = {}
        self.check_runs: dict[int, Json] = {}
        self.annotations: dict[int, list[Json]] = {}
        self.comments: dict[int, Json] = {}
        self.reactions: dict[int, list[Json]] = {}
        self.deployments: dict[int, Json] = {}
        self.deployment_statuses: dict[int, list[Json]] = {}
        self.commit_statuses: list[Json] = []
        self.releases: list[Json] = []
        self.labels: dict[tuple[str, int], list[str]] = {}
        self.rerequested_suites: list[int] = []

    # -- seeding ---------------------------------------------------------------------------
    def repo(self, full_name: str) -> Repo:
        try:
            return self.repos[full_name]
        except KeyError:
            raise NotFound(f"repository {full_name} is not known to the fake") from None

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    # -- check runs ------------------------------------------------------------------------
    def check_run_json(self, run: Json) -> Json:
        return {
            **run,
            "output": {**run["output"], "annotations_count": len(self.annotations[run["id"]])},
        }

    def create_check_run(self, repo: str, body: Json) -> tuple[int, Json]:
        self.repo(repo)
        if "conclusion" not in body and (
            body.get("status") == "completed" or "completed_at" in body
        ):
            raise Unprocessable(
                "conclusion is required when status is completed or completed_at is set"
            )
        run_id = next(self._ids)
        output = dict(body.get("output") or {})
        annotations = output.pop("annotations", [])
        status = "completed" if "conclusion" in body else body.get("status", "queued")
        run = {
            "id": run_id,
            "node_id": f"CR_{run_id}",
            "name": body["name"],
            "head_sha": body["head_sha"],
            "status": status,
            "conclusion": body.get("conclusion"),
            "started_at": body.get("started_at"),
            "completed_at": body.get("completed_at")
            or (now_iso() if status == "completed" else None),
            "details_url": body.get("details_url"),
            "external_id": body.get("external_id", ""),
            "url": self._url(f"/repos/{repo}/check-runs/{run_id}"),
            "html_url": f"https://github.example/{repo}/runs/{run_id}",
            "output": {
                "title": output.get("title"),
                "summary": output.get("summary"),
                "text": output.get("text"),
            },
            "actions": body.get("actions", []),
            "check_suite": {"id": 1},
            "app": {"id": 1, "slug": "deploybot"},
            "pull_requests": [],
            "repository": repo,
            "history": [status],
        }
        self.check_runs[run_id] = run
        self.annotations[run_id] = list(annotations)
        return 201, self.check_run_json(run)

    def update_check_run(self, repo: str, run_id: int, body: Json) -> tuple[int, Json]:
        run = self.get_run(repo, run_id)
        if run["status"] == "completed" and body.get("status") in {"queued", "in_progress"}:
            # GitHub keeps a completed run completed; re-running means a new check run.
            raise Unprocessable("a completed check run cannot go back to " + body["status"])
        output = dict(body.get("output") or {})
        self.annotations[run_id].extend(output.pop("annotations", []))
        if output:
            run["output"] = {
                "title": output.get("title", run["output"]["title"]),
                "summary": output.get("summary", run["output"]["summary"]),
                "text": output.get("text", run["output"]["text"]),
            }
        for key in ("name", "details_url", "external_id", "started_at", "actions"):
            if key in body:
                run[key] = body[key]
        if "conclusion" in body:
            run["conclusion"] = body["conclusion"]
            run["status"] = "completed"
            run["completed_at"] = body.get("completed_at") or now_iso()
        elif "status" in body:
            run["status"] = body["status"]
        if run["history"][-1] != run["status"]:
            run["history"].append(run["status"])
        return 200, self.check_run_json(run)

    def get_run(self, repo: str, run_id: int) -> Json:
        run = self.check_runs.get(run_id)
        if run is None or run["repository"] != repo:
            raise NotFound(f"check run {run_id}")
        return run

    def list_check_runs_for_ref(
        self, repo: str, ref: str, query: Mapping[str, str]
    ) -> tuple[int, Json]:
        runs = [
            self.check_run_json(r)
            for r in self.check_runs.values()
            if r["repository"] == repo
            and r["head_sha"] == ref
            and ("check_name" not in query or r["name"] == query["check_name"])
            and ("status" not in query or r["status"] == query["status"])
        ]
        return 200, {"total_count": len(runs), "check_runs": runs}

    # -- issue comments and reactions --------------------------------------------------------
    def create_comment(self, repo: str, number: int, body: Json, author: str) -> tuple[int, Json]:
        self.repo(repo)
        comment_id = next(self._ids)
        comment = {
            "id": comment_id,
            "node_id": f"IC_{comment_id}",
            "body": body["body"],
            "user": {"login": author, "type": "Bot" if author.endswith("[bot]") else "User"},
            "issue_number": number,
            "repository": repo,
            "url": self._url(f"/repos/{repo}/issues/comments/{comment_id}"),
            "html_url": f"https://github.example/{repo}/pull/{number}#issuecomment-{comment_id}",
            "created_at": now_iso(),
            "updated_at": now_iso(),
            "edits": 0,
        }
        self.comments[comment_id] = comment
        return 201, comment

    def get_comment(self, repo: str, comment_id: int) -> Json:
        comment = self.comments.get(comment_id)
        if comment is None or comment["repository"] != repo:
            raise NotFound(f"comment {comment_id}")
        return comment

    def update_comment(self, repo: str, comment_id: int, body: Json) -> tuple[int, Json]:
        comment = self.get_comment(repo, comment_id)
        comment["body"] = body["body"]
        comment["updated_at"] = now_iso()
        comment["edits"] += 1
        return 200, comment

    def add_reaction(self, repo: str, comment_id: int, content: str, user: str) -> tuple[int, Json]:
        self.get_comment(repo, comment_id)
        existing = self.reactions.setdefault(comment_id, [])
        for reaction in existing:
            if reaction["content"] == content and reaction["user"]["login"] == user:
                return 200, reaction
        reaction = {
            "id": next(self._ids),
            "content": content,
            "user": {"login": user},
            "created_at": now_iso(),
        }
        existing.append(reaction)
        return 201, reaction

    # -- pulls ------------------------------------------------------------------------------
    def pull_json(self, repo: str, pull: Pull) -> Json:
        head_repo = pull.head_repo or repo
        return {
            "number": pull.number,
            "state": pull.state,
            "title": pull.title,
            "draft": pull.draft,
            "merged": pull.merged,
            "merge_commit_sha": pull.merge_commit_sha,
            "merged_by": {"login": pull.merged_by} if pull.merged_by else None,
            "merged_at": pull.merged_at,
            "user": {"login": pull.user},
            "head": {
                "sha": pull.head_sha,
                "ref": pull.head_ref,
                "repo": {"full_name": head_repo, "fork": pull.head_repo is not None},
            },
            "base": {
                "ref": pull.base_ref,
                "repo": {"full_name": repo, "default_branch": self.repo(repo).default_branch},
            },
            "html_url": f"https://github.example/{repo}/pull/{pull.number}",
        }

    def require_issue(self, repo: str, number: int) -> None:
        """A pull request or plain issue numbered `number` exists (both take comments)."""
        known = self.repo(repo)
        if number not in known.pulls and number not in known.issues:
            raise NotFound(f"issue #{number}")

    def get_pull(self, repo: str, number: int) -> Pull:
        pull = self.repo(repo).pulls.get(number)
        if pull is None:
            raise NotFound(f"pull request #{number}")
        return pull

    # -- deployments ------------------------------------------------------------------------
    def create_deployment(self, repo: str, body: Json, creator: str) -> tuple[int, Json]:
        self.repo(repo)
        deployment_id = next(self._ids)
        deployment = {
            "id": deployment_id,
            "ref": body["ref"],
            "sha": body["ref"],
            "task": body.get("task", "deploy"),
            "environment": body.get("environment", "production"),
            "description": body.get("description", ""),
            "payload": body.get("payload", {}),
            "auto_merge": body.get("auto_merge", True),
            "required_contexts": body.get("required_contexts"),
            "creator": {"login": creator},
            "created_at": now_iso(),
            "url": self._url(f"/repos/{repo}/deployments/{deployment_id}"),
            "repository": repo,
        }
        self.deployments[deployment_id] = deployment
        self.deployment_statuses[deployment_id] = []
        return 201, deployment

    def get_deployment(self, repo: str, deployment_id: int) -> Json:
        deployment = self.deployments.get(deployment_id)
        if deployment is None or deployment["repository"] != repo:
            raise NotFound(f"deployment {deployment_id}")
        return deployment

    def create_deployment_status(
        self, repo: str, deployment_id: int, body: Json
    ) -> tuple[int, Json]:
        deployment = self.get_deployment(repo, deployment_id)
        if len(body.get("description", "")) > MAX_DEPLOYMENT_STATUS_DESCRIPTION:
            raise Unprocessable(
                f"description is longer than {MAX_DEPLOYMENT_STATUS_DESCRIPTION} characters"
            )
        status = {
            "id": next(self._ids),
            "state": body["state"],
            "description": body.get("description", ""),
            "environment": body.get("environment", deployment["environment"]),
            "log_url": body.get("log_url", body.get("target_url", "")),
            "environment_url": body.get("environment_url", ""),
            "created_at": now_iso(),
        }
        self.deployment_statuses[deployment_id].append(status)
        if body["state"] == "success" and body.get("auto_inactive", True):
            for other_id, other in self.deployments.items():
                statuses = self.deployment_statuses[other_id]
                if (
                    other_id != deployment_id
                    and other["repository"] == repo
                    and other["environment"] == status["environment"]
                    and statuses
                    and statuses[-1]["state"] == "success"
                ):
                    statuses.append({**statuses[-1], "id": next(self._ids), "state": "inactive"})
        return 201, status

    def list_deployments(self, repo: str, query: Mapping[str, str]) -> tuple[int, list[Json]]:
        found = [
            d
            for d in self.deployments.values()
            if d["repository"] == repo
            and all(
                d.get(k) == v
                for k, v in query.items()
                if k in {"sha", "ref", "task", "environment"}
            )
        ]
        return 200, sorted(found, key=lambda d: -int(d["id"]))
