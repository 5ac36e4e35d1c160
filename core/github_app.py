"""GitHub App auth for jobs: App JWTs, installation tokens cached in Redis, and the one client.

Every GitHub call deploybot makes goes through `Client`: it waits out secondary rate limits that
say when to come back, retries a 5xx of anything but a POST with backoff, and turns what is left
into the exception tree (GitHubUnavailable: try again later; GitHubRefused: asking again will not
help), so callers decide by type.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Final

import httpx2
from gidgethub import GitHubBroken, HTTPException, apps
from gidgethub.httpx import GitHubAPI
from redis.asyncio import Redis

from core.errors import GitHubRefused, GitHubUnavailable
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
# A 5xx is retried in place this many times (0.5 s, 1 s, 2 s, 4 s apart) before the task's own
# retry (minutes apart) takes over.
MAX_5XX_ATTEMPTS: Final = 5
BACKOFF_BASE_S: Final = 0.5
BACKOFF_MAX_S: Final = 600.0
HTTP_TIMEOUT_S: Final = 30.0


def backoff_s(attempt: int, base: float = BACKOFF_BASE_S, cap: float = BACKOFF_MAX_S) -> float:
    """Exponential backoff: `base` after the first failed attempt, doubling, at most `cap`."""
    return float(min(base * 2 ** max(attempt - 1, 0), cap))


def retry_after(exception: HTTPException) -> float | None:
    """Seconds GitHub asked us to wait, for a 403/429 that says so and within our patience."""
    if int(exception.status_code) not in {403, 429}:
        return None
    value = exception.headers.get("retry-after", "")
    if not value.isdigit() or int(value) > MAX_RETRY_AFTER_S:
        return None
    return float(value)


def translate(exc: HTTPException | httpx2.TransportError, method: str, url: str) -> Exception:
    """The exception-tree error for what GitHub answered (or that it could not be reached)."""
    where = f"{method} {url.split('?', 1)[0]}"
    if isinstance(exc, httpx2.TransportError):
        return GitHubUnavailable(f"GitHub unreachable on {where} ({exc.__class__.__name__})")
    status = int(exc.status_code)
    if isinstance(exc, GitHubBroken):
        return GitHubUnavailable(f"GitHub answered {status} to {where}")
    wait = retry_after(exc)
    if wait is not None or status == 429:
        return GitHubUnavailable(f"GitHub rate-limited {where}", retry_after=wait)
    return GitHubRefused(f"GitHub refused {where}: {status} {exc}", status)


class Client(GitHubAPI):
    """gidgethub over httpx2 with deploybot's retries and exception tree.

    A POST is not repeated after a 5xx: GitHub may have applied it before answering, so the
    caller decides (workers.github.RepoGitHub.create_once looks for what the first try made).
    """

    async def handle_rate_limit_error(
        self, *, method: str, url: str, exception: HTTPException, attempt: int
    ) -> bool:
        wait = retry_after(exception)
        if wait is not None and attempt < MAX_ATTEMPTS:
            log.warning("GitHub rate limit on %s %s; retrying in %s s", method, url, wait)
            await self.sleep(wait)
            return True
        if not isinstance(exception, GitHubBroken) or attempt >= MAX_5XX_ATTEMPTS:
            return False
        if method.upper() == "POST":
            return False
        wait = backoff_s(attempt)
        log.warning("GitHub answered %s to %s %s; retrying in %s s", exception, method, url, wait)
        await self.sleep(wait)
        return True

    async def _make_request(
        self, method: str, url: str, *args: Any, **kwargs: Any
    ) -> tuple[bytes, str | None, int]:
        try:
            return await super()._make_request(method, url, *args, **kwargs)
        except (HTTPException, httpx2.TransportError) as exc:
            raise translate(exc, method, url) from exc


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
