"""The fake GitHub answers like GitHub: real auth, schema-checked bodies, recorded state, faults."""

from __future__ import annotations

import httpx2
import pytest
from gidgethub import BadRequest, GitHubBroken, apps
from gidgethub.httpx import GitHubAPI

from testkit.fakegithub.server import FakeGitHub

REPO = "octo/tutor"
SHA = "a" * 40


async def _client(github: FakeGitHub, http: httpx2.AsyncClient) -> GitHubAPI:
    github.add_repo(REPO, installation_id=7)
    jwt_gh = GitHubAPI(http, "deploybot-tests", base_url=github.url)
    token = await apps.get_installation_access_token(
        jwt_gh, installation_id="7", app_id=str(github.app_id), private_key=github.private_key_pem
    )
    return GitHubAPI(http, "deploybot-tests", oauth_token=token["token"], base_url=github.url)


async def test_check_run_lifecycle_is_recorded(github: FakeGitHub) -> None:
    async with httpx2.AsyncClient() as http:
        gh = await _client(github, http)
        run = await gh.post(
            f"/repos/{REPO}/check-runs",
            data={"name": "deploybot/lint", "head_sha": SHA, "status": "queued"},
        )
        annotation = {
            "path": "bot/app.py",
            "start_line": 3,
            "end_line": 3,
            "annotation_level": "failure",
            "message": "E501 line too long",
        }
        await gh.patch(
            f"/repos/{REPO}/check-runs/{run['id']}",
            data={
                "status": "completed",
                "conclusion": "failure",
                "output": {"title": "1 problem", "summary": "ruff", "annotations": [annotation]},
            },
        )
    (recorded,) = github.check_runs()
    assert recorded["history"] == ["queued", "completed"]
    assert recorded["conclusion"] == "failure"
    assert recorded["annotations"] == [annotation]


async def test_invalid_conclusion_is_refused_with_the_reason(github: FakeGitHub) -> None:
    async with httpx2.AsyncClient() as http:
        gh = await _client(github, http)
        with pytest.raises(BadRequest) as refused:
            await gh.post(
                f"/repos/{REPO}/check-runs",
                data={"name": "deploybot/test", "head_sha": SHA, "conclusion": "passed"},
            )
    assert refused.value.status_code == 422
    (violation,) = github.take_violations()
    print("fake GitHub refused:", violation)
    assert "checks/create" in violation
    assert "conclusion" in violation
    assert "'passed' is not one of" in violation
    assert github.check_runs() == []


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        # GitHub caps annotations at 50 per request.
        (
            f"/repos/{REPO}/check-runs",
            {
                "name": "deploybot/lint",
                "head_sha": SHA,
                "output": {
                    "title": "t",
                    "summary": "s",
                    "annotations": [
                        {
                            "path": "a",
                            "start_line": 1,
                            "end_line": 1,
                            "annotation_level": "notice",
                            "message": "m",
                        }
                    ]
                    * 51,
                },
            },
            "is too long",
        ),
        # A completed check run needs a conclusion.
        (
            f"/repos/{REPO}/check-runs",
            {"name": "deploybot/lint", "head_sha": SHA, "status": "completed"},
            "conclusion",
        ),
        # Action labels are at most 20 characters.
        (
            f"/repos/{REPO}/check-runs",
            {
                "name": "deploybot/deploy",
                "head_sha": SHA,
                "actions": [
                    {
                        "label": "Roll back to the previous one",
                        "description": "d",
                        "identifier": "rb",
                    }
                ],
            },
            "is too long",
        ),
        (f"/repos/{REPO}/issues/1/comments", {"text": "hello"}, "'body' is a required property"),
    ],
)
async def test_bodies_github_would_reject_fail(
    github: FakeGitHub, path: str, body: dict[str, object], expected: str
) -> None:
    async with httpx2.AsyncClient() as http:
        gh = await _client(github, http)
        with pytest.raises(BadRequest):
            await gh.post(path, data=body)
    (violation,) = github.take_violations()
    assert expected in violation


async def test_unknown_endpoint_and_bad_credentials(github: FakeGitHub) -> None:
    async with httpx2.AsyncClient() as http:
        gh = await _client(github, http)
        with pytest.raises(BadRequest) as unknown:
            await gh.getitem(f"/repos/{REPO}/no-such-thing")
        assert unknown.value.status_code == 404
        assert "no GitHub REST operation" in github.take_violations()[0]

        stranger = GitHubAPI(http, "deploybot-tests", oauth_token="ghs_forged", base_url=github.url)
        with pytest.raises(BadRequest) as denied:
            await stranger.post(f"/repos/{REPO}/check-runs", data={"name": "x", "head_sha": SHA})
        assert denied.value.status_code == 401
    assert github.check_runs() == []


async def test_injected_server_error_surfaces_as_github_broken(github: FakeGitHub) -> None:
    github.fail_next("POST", r"/check-runs$", status=502)
    async with httpx2.AsyncClient() as http:
        gh = await _client(github, http)
        with pytest.raises(GitHubBroken):
            await gh.post(
                f"/repos/{REPO}/check-runs", data={"name": "deploybot/lint", "head_sha": SHA}
            )
        # The fault was one-shot: the retry lands.
        await gh.post(f"/repos/{REPO}/check-runs", data={"name": "deploybot/lint", "head_sha": SHA})
    assert [r["name"] for r in github.check_runs()] == ["deploybot/lint"]


async def test_deployment_status_description_limit_and_auto_inactive(github: FakeGitHub) -> None:
    async with httpx2.AsyncClient() as http:
        gh = await _client(github, http)
        first = await gh.post(
            f"/repos/{REPO}/deployments",
            data={
                "ref": SHA,
                "environment": "production",
                "auto_merge": False,
                "required_contexts": [],
            },
        )
        await gh.post(
            f"/repos/{REPO}/deployments/{first['id']}/statuses", data={"state": "success"}
        )
        second = await gh.post(
            f"/repos/{REPO}/deployments",
            data={
                "ref": "b" * 40,
                "environment": "production",
                "auto_merge": False,
                "required_contexts": [],
            },
        )
        with pytest.raises(BadRequest):
            await gh.post(
                f"/repos/{REPO}/deployments/{second['id']}/statuses",
                data={"state": "success", "description": "x" * 141},
            )
        assert "140" in github.take_violations()[0]
        await gh.post(
            f"/repos/{REPO}/deployments/{second['id']}/statuses", data={"state": "success"}
        )
        statuses = await gh.getitem(f"/repos/{REPO}/deployments/{first['id']}/statuses")
    assert [s["state"] for s in statuses] == ["inactive", "success"]
