"""What the fake GitHub does for each REST operation it models, by GitHub's operation id.

Each handler takes the state, the call (repository, path parameters, query, validated body) and
answers (status, JSON). An operation of the schema without a handler is answered 422 and recorded
as a violation, so a test never passes by talking to something the fake does not model.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from testkit.fakegithub.state import GitHubState, NotFound

TOKEN_LIFETIME = timedelta(hours=1)
BOT_LOGIN = "deploybot[bot]"


@dataclass(frozen=True)
class Call:
    app_id: int
    tokens: dict[str, tuple[int, datetime]]
    repo: str
    params: dict[str, Any]
    query: dict[str, str]
    body: Any


Answer = tuple[int, Any]
Handler = Callable[[GitHubState, Call], Answer]
OPERATIONS: dict[str, Handler] = {}


def operation(op_id: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        OPERATIONS[op_id] = handler
        return handler

    return register


# -- the App -------------------------------------------------------------------------------------
@operation("apps/get-authenticated")
def _get_app(s: GitHubState, c: Call) -> Answer:
    return 200, {"id": c.app_id, "slug": "deploybot", "name": "deploybot"}


@operation("apps/create-installation-access-token")
def _create_token(s: GitHubState, c: Call) -> Answer:
    installation = c.params["installation_id"]
    if not any(r.installation_id == installation for r in s.repos.values()):
        raise NotFound(f"installation {installation}")
    # Real tokens are "ghs_" plus 36 characters today and documented as possibly longer.
    token = "ghs_" + secrets.token_urlsafe(40)
    expires = datetime.now(UTC) + TOKEN_LIFETIME
    c.tokens[token] = (installation, expires)
    return 201, {
        "token": token,
        "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "permissions": {},
    }


# -- check runs ----------------------------------------------------------------------------------
@operation("checks/create")
def _create_check_run(s: GitHubState, c: Call) -> Answer:
    return s.create_check_run(c.repo, c.body)


@operation("checks/update")
def _update_check_run(s: GitHubState, c: Call) -> Answer:
    return s.update_check_run(c.repo, c.params["check_run_id"], c.body)


@operation("checks/get")
def _get_check_run(s: GitHubState, c: Call) -> Answer:
    return 200, s.check_run_json(s.get_run(c.repo, c.params["check_run_id"]))


@operation("checks/list-annotations")
def _list_annotations(s: GitHubState, c: Call) -> Answer:
    s.get_run(c.repo, c.params["check_run_id"])
    return 200, s.annotations[c.params["check_run_id"]]


@operation("checks/list-for-ref")
def _list_check_runs(s: GitHubState, c: Call) -> Answer:
    return s.list_check_runs_for_ref(c.repo, c.params["ref"], c.query)


@operation("checks/rerequest-suite")
def _rerequest_suite(s: GitHubState, c: Call) -> Answer:
    s.rerequested_suites.append(c.params["check_suite_id"])
    return 201, {}


# -- comments and reactions ----------------------------------------------------------------------
@operation("issues/create-comment")
def _create_comment(s: GitHubState, c: Call) -> Answer:
    s.require_issue(c.repo, c.params["issue_number"])
    return s.create_comment(c.repo, c.params["issue_number"], c.body, BOT_LOGIN)


@operation("issues/list-comments")
def _list_comments(s: GitHubState, c: Call) -> Answer:
    number = c.params["issue_number"]
    return 200, [
        comment
        for comment in s.comments.values()
        if comment["repository"] == c.repo and comment["issue_number"] == number
    ]


@operation("issues/get-comment")
def _get_comment(s: GitHubState, c: Call) -> Answer:
    return 200, s.get_comment(c.repo, c.params["comment_id"])


@operation("issues/update-comment")
def _update_comment(s: GitHubState, c: Call) -> Answer:
    return s.update_comment(c.repo, c.params["comment_id"], c.body)


@operation("issues/delete-comment")
def _delete_comment(s: GitHubState, c: Call) -> Answer:
    s.get_comment(c.repo, c.params["comment_id"])
    del s.comments[c.params["comment_id"]]
    return 204, None


@operation("reactions/create-for-issue-comment")
def _react(s: GitHubState, c: Call) -> Answer:
    return s.add_reaction(c.repo, c.params["comment_id"], c.body["content"], BOT_LOGIN)


@operation("reactions/list-for-issue-comment")
def _list_reactions(s: GitHubState, c: Call) -> Answer:
    s.get_comment(c.repo, c.params["comment_id"])
    return 200, s.reactions.get(c.params["comment_id"], [])


# -- repositories, pull requests, permissions ----------------------------------------------------
@operation("repos/get-collaborator-permission-level")
def _permission(s: GitHubState, c: Call) -> Answer:
    user = c.params["username"]
    permission = s.repo(c.repo).permissions.get(user, "none")
    role = {"admin": "admin", "write": "write", "read": "read"}.get(permission, "none")
    return 200, {"permission": permission, "role_name": role, "user": {"login": user}}


@operation("pulls/get")
def _get_pull(s: GitHubState, c: Call) -> Answer:
    return 200, s.pull_json(c.repo, s.get_pull(c.repo, c.params["pull_number"]))


@operation("pulls/list-files")
def _list_files(s: GitHubState, c: Call) -> Answer:
    files = s.get_pull(c.repo, c.params["pull_number"]).files
    per_page = int(c.query.get("per_page", "30"))
    page = int(c.query.get("page", "1"))
    return 200, files[(page - 1) * per_page : page * per_page]


@operation("repos/compare-commits-with-basehead")
def _compare(s: GitHubState, c: Call) -> Answer:
    found = s.repo(c.repo).compares.get(c.params["basehead"])
    if found is None:
        raise NotFound(f"comparison {c.params['basehead']}")
    return 200, found


@operation("git/get-ref")
def _get_ref(s: GitHubState, c: Call) -> Answer:
    ref = c.params["ref"]
    sha = s.repo(c.repo).refs.get(ref)
    if sha is None:
        raise NotFound(f"ref {ref}")
    return 200, {"ref": f"refs/{ref}", "object": {"sha": sha, "type": "commit"}}


@operation("repos/create-commit-status")
def _create_status(s: GitHubState, c: Call) -> Answer:
    status = {**c.body, "sha": c.params["sha"], "repository": c.repo}
    status["id"] = len(s.commit_statuses) + 1
    s.commit_statuses.append(status)
    return 201, status


@operation("repos/create-release")
def _create_release(s: GitHubState, c: Call) -> Answer:
    release = {**c.body, "id": len(s.releases) + 1, "repository": c.repo}
    s.releases.append(release)
    return 201, release


@operation("repos/list-releases")
def _list_releases(s: GitHubState, c: Call) -> Answer:
    return 200, [r for r in s.releases if r["repository"] == c.repo]


# -- deployments ---------------------------------------------------------------------------------
@operation("repos/create-deployment")
def _create_deployment(s: GitHubState, c: Call) -> Answer:
    return s.create_deployment(c.repo, c.body, BOT_LOGIN)


@operation("repos/list-deployments")
def _list_deployments(s: GitHubState, c: Call) -> Answer:
    return s.list_deployments(c.repo, c.query)


@operation("repos/get-deployment")
def _get_deployment(s: GitHubState, c: Call) -> Answer:
    return 200, s.get_deployment(c.repo, c.params["deployment_id"])


@operation("repos/create-deployment-status")
def _create_deployment_status(s: GitHubState, c: Call) -> Answer:
    return s.create_deployment_status(c.repo, c.params["deployment_id"], c.body)


@operation("repos/list-deployment-statuses")
def _list_deployment_statuses(s: GitHubState, c: Call) -> Answer:
    s.get_deployment(c.repo, c.params["deployment_id"])
    return 200, list(reversed(s.deployment_statuses[c.params["deployment_id"]]))
