"""GitHub App auth for jobs: App JWTs, installation tokens cached in Redis, and a typed client."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Final

import httpx2
from gidgethub import HTTPException, apps
from gidgethub.httpx import GitHubAPI
from redis.asyncio import Redis

from core.settings import Settings

log = logging.getLogger(__name__)

# GitHub asks for a User-Agent naming the App.
REQUESTER: Final = "deploybot"
# Tokens live an hour; stop using a cached one this long before it expires, so a job that
# starts with it still has minutes of validity left.
TOKEN_MARGIN_S: Final = 300
# Secondary rate limits answer 403/429 with retry-after; wait that long at most, this often.
MAX_RETRY_AFTER_S: Final = 60
MAX_ATTEMPTS: Final = 3
HTTP_TIMEOUT_S: Final = 30.0


class Client(GitHubAPI):
    """gidgethub over httpx2, retrying secondary rate limits that say when to come back."""

    async def handle_rate_limit_error(
        self, *, method: str, url: str, exception: HTTPException, attempt: int
    ) -> bool:
        wait = retry_after(exception)
        if wait is None or attempt >= MAX_ATTEMPTS:
            return False
        log.warning("GitHub rate limit on %s %s; retrying in %s s", method, url, wait)
        await self.sleep(wait)
        return True


def retry_after(exception: HTTPException) -> float | None:
    """Seconds GitHub asked us to wait, for a 403/429 that says so and within our patience."""
    if int(exception.status_code) not in {403, 429}:
        return None
    value = exception.headers.get("retry-after", "")
    if not value.isdigit() or int(value) > MAX_RETRY_AFTER_S:
        return None
    return float(value)


class GitHubApp:
    """The App's identity: JWTs for App endpoints and clients acting as one installation."""

    def __init__(self, settings: Settings, redis: Redis, http: httpx2.AsyncClient) -> None:
        self._app_id, self._private_key = settings.require_app_credentials()
        self._base_url = settings.github_api_url
        self._redis = redis
        self._http = http

    def app_client(self) -> Client:
        """Authenticated as the App itself (JWT), e.g. for /app or installation tokens."""
        return Client(
            self._http,
            REQUESTER,
            app_id=str(self._app_id),
            private_key=self._private_key,
            base_url=self._base_url,
        )

    async def installation_token(self, installation_id: int) -> str:
        """A token for the installation: from the Redis cache, or minted and cached."""
        key = self._token_key(installation_id)
        cached = await self._redis.get(key)
        if cached is not None:
            return cached.decode() if isinstance(cached, bytes) else str(cached)
        answer = await apps.get_installation_access_token(
            self.app_client(),
            installation_id=str(installation_id),
            app_id=str(self._app_id),
            private_key=self._private_key,
        )
        token = str(answer["token"])
        expires_at = datetime.fromisoformat(str(answer["expires_at"]).replace("Z", "+00:00"))
        ttl = int((expires_at - datetime.now(UTC)).total_seconds()) - TOKEN_MARGIN_S
        if ttl > 0:
            await self._redis.set(key, token, ex=ttl)
        return token

    async def forget_token(self, installation_id: int) -> None:
        """Drop the cached token, e.g. after GitHub answered 401 (the App was reinstalled)."""
        await self._redis.delete(self._token_key(installation_id))

    def _token_key(self, installation_id: int) -> str:
        return f"deploybot:github-token:{self._app_id}:{installation_id}"

    async def installation_client(self, installation_id: int) -> Client:
        """A client acting as the installation (what jobs use for checks, comments, deploys)."""
        token = await self.installation_token(installation_id)
        return Client(self._http, REQUESTER, oauth_token=token, base_url=self._base_url)


@asynccontextmanager
async def github_app(settings: Settings) -> AsyncIterator[GitHubApp]:
    """The App with its HTTP and Redis connections, closed when the block ends."""
    redis = Redis.from_url(settings.redis_url)
    async with httpx2.AsyncClient(timeout=HTTP_TIMEOUT_S) as http:
        try:
            yield GitHubApp(settings, redis, http)
        finally:
            await redis.aclose()
