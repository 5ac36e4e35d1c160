"""GitHub calls the workers make (checks, pulls, comments), retried on 5xx and rate limits."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

import httpx2
from gidgethub import GitHubBroken, HTTPException

from core.github_app import HTTP_TIMEOUT_S, REQUESTER, Client, GitHubApp, github_app, retry_after
from core.settings import Settings

log = logging.getLogger(__name__)

# A 5xx is retried in place this many times (0.5 s, 1 s, 2 s, 4 s apart) before the task's own
# retry (minutes apart, see task_retry_delay) takes over.
MAX_5XX_ATTEMPTS: Final = 5
BACKOFF_BASE_S: Final = 0.5
TASK_BACKOFF_BASE_S: Final = 15.0
TASK_BACKOFF_MAX_S: Final = 600.0
# How far GitHub's clock may run behind ours when a comment's created_at is compared with now.
CLOCK_SKEW: Final = timedelta(seconds=60)
# GitHub lists at most this many files of a pull request; beyond it, plan as if everything changed.
MAX_LISTED_FILES: Final = 3000
WRITE_PERMISSIONS: Final = frozenset({"admin", "write"})

Json = dict[str, Any]


def backoff_s(attempt: int, base: float = BACKOFF_BASE_S, cap: float = TASK_BACKOFF_MAX_S) -> float:
    """Exponential backoff: `base` after the first failed attempt, doubling, at most `cap`."""
    return float(min(base * 2 ** max(attempt - 1, 0), cap))


def task_retry_delay(exc: Exception, retries: int) -> float | None:
    """How long a task waits before its next try after `exc`, or None if retrying cannot help:
    GitHub's retry-after for a secondary rate limit, exponential backoff for a 5xx."""
    if isinstance(exc, GitHubBroken):
        return backoff_s(retries + 1, TASK_BACKOFF_BASE_S)
    if isinstance(exc, HTTPException):
        wait = retry_after(exc)
        if wait is not None:
            return wait
        if int(exc.status_code) == 429:
            return backoff_s(retries + 1, TASK_BACKOFF_BASE_S)
    return None


class RetryingClient(Client):
    """The App's client, also retrying GitHub's 5xx answers with exponential backoff.

    A POST is not repeated here: GitHub may have applied it before answering 5xx, so the caller
    decides (Reporter.create_once looks for what the first try made).
    """

    async def handle_rate_limit_error(
        self, *, method: str, url: str, exception: HTTPException, attempt: int
    ) -> bool:
        if await super().handle_rate_limit_error(
            method=method, url=url, exception=exception, attempt=attempt
        ):
            return True
        if not isinstance(exception, GitHubBroken) or attempt >= MAX_5XX_ATTEMPTS:
            return False
        if method.upper() == "POST":
            return False
        wait = backoff_s(attempt)
        log.warning("GitHub answered %s to %s %s; retrying in %s s", exception, method, url, wait)
        await self.sleep(wait)
        return True


@dataclass(frozen=True)
class PullInfo:
    """What the workers need to know about a pull request, read from GitHub (not the webhook)."""

    number: int
    head_sha: str
    author: str
    from_fork: bool
    default_branch: str


class Reporter:
    """One installation's view of one repository. Each call takes a token from the App's Redis
    cache, so a pipeline that outlives one token keeps working."""

    def __init__(
        self,
        app: GitHubApp,
        http: httpx2.AsyncClient,
        settings: Settings,
        installation_id: int,
        repo: str,
    ) -> None:
        self._app = app
        self._http = http
        self._base_url = settings.github_api_url
        self.installation_id = installation_id
        self.repo = repo

    async def client(self) -> RetryingClient:
        token = await self._app.installation_token(self.installation_id)
        return RetryingClient(self._http, REQUESTER, oauth_token=token, base_url=self._base_url)

    async def token(self) -> str:
        return await self._app.installation_token(self.installation_id)

    def _url(self, tail: str) -> str:
        return f"/repos/{self.repo}{tail}"

    async def create_once(
        self, url: str, data: Json, made: Callable[[], Awaitable[Json | None]] | None
    ) -> Json:
        """POST, and after a 5xx ask `made` whether the try took effect before trying again.

        made=None: repeating the POST is harmless (GitHub answers an existing reaction with 200).
        """
        attempt = 1
        while True:
            gh = await self.client()
            try:
                created: Json = await gh.post(url, data=data)
                return created
            except GitHubBroken as error:
                if attempt >= MAX_5XX_ATTEMPTS:
                    raise
                wait = backoff_s(attempt)
                log.warning(
                    "GitHub answered %s to POST %s; checking again in %s s", error, url, wait
                )
                await gh.sleep(wait)
                found = None if made is None else await made()
                if found is not None:
                    return found
                attempt += 1

    # -- check runs ------------------------------------------------------------------------
    async def create_check_run(self, body: Json) -> Json:
        """Create a check run; one whose create GitHub applied but answered 5xx is found by its
        external id instead of being made twice."""

        async def made() -> Json | None:
            return await self.find_check_run(
                str(body["head_sha"]), str(body["name"]), str(body["external_id"])
            )

        return await self.create_once(self._url("/check-runs"), body, made)

    async def update_check_run(self, run_id: int, body: Json) -> Json:
        gh = await self.client()
        updated: Json = await gh.patch(self._url(f"/check-runs/{run_id}"), data=body)
        return updated

    async def check_run(self, run_id: int) -> Json:
        gh = await self.client()
        run: Json = await gh.getitem(self._url(f"/check-runs/{run_id}"))
        return run

    async def find_check_run(self, sha: str, name: str, external_id: str) -> Json | None:
        """The check run this bot created for `external_id`, if a create reached GitHub."""
        gh = await self.client()
        query = urlencode({"check_name": name, "filter": "all", "per_page": 100})
        answer = await gh.getitem(self._url(f"/commits/{sha}/check-runs?{query}"))
        for run in answer["check_runs"]:
            if run.get("external_id") == external_id:
                found: Json = run
                return found
        return None

    # -- pull requests and permissions --------------------------------------------------------
    async def pull(self, number: int) -> PullInfo:
        gh = await self.client()
        data = await gh.getitem(self._url(f"/pulls/{number}"))
        return PullInfo(
            number=number,
            head_sha=str(data["head"]["sha"]),
            author=str(data["user"]["login"]),
            from_fork=(data["head"]["repo"] or {}).get("full_name") != self.repo,
            default_branch=str(data["base"]["repo"]["default_branch"]),
        )

    async def changed_files(self, number: int) -> list[str] | None:
        """Paths the pull request touches; None when GitHub cannot list them all."""
        gh = await self.client()
        paths: list[str] = []
        async for entry in gh.getiter(self._url(f"/pulls/{number}/files?per_page=100")):
            paths.append(str(entry["filename"]))
            if entry.get("previous_filename"):
                paths.append(str(entry["previous_filename"]))
        return None if len(paths) >= MAX_LISTED_FILES else paths

    async def can_write(self, user: str) -> bool:
        gh = await self.client()
        data = await gh.getitem(self._url(f"/collaborators/{user}/permission"))
        return str(data["permission"]) in WRITE_PERMISSIONS

    # -- comments -----------------------------------------------------------------------------
    async def comments(self, number: int) -> AsyncIterator[Json]:
        gh = await self.client()
        async for comment in gh.getiter(self._url(f"/issues/{number}/comments?per_page=100")):
            yield comment

    async def comment(self, number: int, body: str) -> Json:
        """Post a comment; one that GitHub posted but answered 5xx for is found by its text (a
        bot's comment with the same body, posted since this call began) instead of doubled."""
        since = datetime.now(UTC) - CLOCK_SKEW

        async def made() -> Json | None:
            async for comment in self.comments(number):
                posted = datetime.fromisoformat(str(comment["created_at"]).replace("Z", "+00:00"))
                bot = comment.get("user", {}).get("type") == "Bot"
                if bot and comment.get("body") == body and posted >= since:
                    return comment
            return None

        return await self.create_once(self._url(f"/issues/{number}/comments"), {"body": body}, made)

    async def edit_comment(self, comment_id: int, body: str) -> Json:
        gh = await self.client()
        edited: Json = await gh.patch(
            self._url(f"/issues/comments/{comment_id}"), data={"body": body}
        )
        return edited

    async def react(self, comment_id: int, content: str) -> None:
        url = self._url(f"/issues/comments/{comment_id}/reactions")
        await self.create_once(url, {"content": content}, None)


@asynccontextmanager
async def reporter(settings: Settings, installation_id: int, repo: str) -> AsyncIterator[Reporter]:
    """A Reporter with its connections, closed when the block ends."""
    async with (
        github_app(settings) as app,
        httpx2.AsyncClient(timeout=HTTP_TIMEOUT_S) as http,
    ):
        yield Reporter(app, http, settings, installation_id, repo)
