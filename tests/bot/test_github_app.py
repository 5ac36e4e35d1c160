"""GitHub App auth against the fake GitHub: JWTs, cached installation tokens, rate-limit retries."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
import redis

from core.errors import ConfigError, GitHubRefused
from core.github_app import TOKEN_MARGIN_S, github_app
from core.settings import Settings
from testkit.fakegithub.server import FakeGitHub

REPO = "octo/tutor"


def token_requests(github: FakeGitHub) -> int:
    return sum(r.operation_id == "apps/create-installation-access-token" for r in github.requests)


async def test_the_app_authenticates_with_a_jwt(settings: Settings, github: FakeGitHub) -> None:
    async with github_app(settings) as app:
        me = await app.app_client().getitem("/app")
    assert me["id"] == github.app_id


async def test_installation_tokens_are_minted_once_and_cached_in_redis(
    settings: Settings, github: FakeGitHub, redis_client: redis.Redis
) -> None:
    github.add_repo(REPO, installation_id=7)
    github.set_permission(REPO, "maintainer", "write")
    async with github_app(settings) as app:
        first = await app.installation_client(7)
        second = await app.installation_client(7)
        answer = await second.getitem(
            "/repos/{+repo}/collaborators/{user}/permission", {"repo": REPO, "user": "maintainer"}
        )
    assert answer["permission"] == "write"
    assert first.oauth_token == second.oauth_token
    assert token_requests(github) == 1
    (key,) = redis_client.keys("deploybot:github-token:*")
    assert 0 < redis_client.ttl(key) <= 3600 - TOKEN_MARGIN_S


async def test_each_installation_gets_its_own_token(
    settings: Settings, github: FakeGitHub, redis_client: redis.Redis
) -> None:
    github.add_repo(REPO, installation_id=7)
    github.add_repo("octo/other", installation_id=8)
    async with github_app(settings) as app:
        assert await app.installation_token(7) != await app.installation_token(8)
    assert token_requests(github) == 2


async def test_a_revoked_token_is_forgotten_and_a_new_one_minted(
    settings: Settings, github: FakeGitHub, redis_client: redis.Redis
) -> None:
    github.add_repo(REPO, installation_id=7)
    async with github_app(settings) as app:
        first = await app.installation_token(7)
        github.tokens.clear()  # GitHub revoked every token
        with pytest.raises(GitHubRefused):
            await (await app.installation_client(7)).getitem(f"/repos/{REPO}/pulls/1")
        await app.forget_token(7)
        second = await app.installation_token(7)
    assert second != first
    assert token_requests(github) == 2


async def test_a_secondary_rate_limit_is_waited_out_and_retried(
    settings: Settings,
    github: FakeGitHub,
    redis_client: redis.Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    github.add_repo(REPO, installation_id=7)
    github.fail_next("GET", "/permission$", 429, headers={"retry-after": "0"}, message="slow down")
    async with github_app(settings) as app:
        gh = await app.installation_client(7)
        with caplog.at_level(logging.WARNING, logger="core.github_app"):
            answer = await gh.getitem(f"/repos/{REPO}/collaborators/someone/permission")
    assert answer["permission"] == "none"
    assert "rate limit" in caplog.text
    assert gh.oauth_token is not None
    assert gh.oauth_token not in caplog.text


async def test_a_refusal_without_retry_after_is_raised(
    settings: Settings, github: FakeGitHub, redis_client: redis.Redis
) -> None:
    github.add_repo(REPO, installation_id=7)
    github.fail_next("GET", "/permission$", 403, message="Forbidden")
    async with github_app(settings) as app:
        gh = await app.installation_client(7)
        with pytest.raises(GitHubRefused):
            await gh.getitem(f"/repos/{REPO}/collaborators/someone/permission")


async def test_no_credentials_no_client(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="GITHUB_APP_ID"):
        async with github_app(replace(settings, github_app_id=None)):
            pass
