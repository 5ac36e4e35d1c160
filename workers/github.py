"""The workers' GitHub client: one installation's view of one repository, built on the App.

Every body it sends (check runs, comments) is scrubbed of every secret the bot holds first, so no
caller can post a token by accident. Errors arrive as the exception tree (core.errors).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

from core.errors import GitHubUnavailable
from core.github_app import MAX_5XX_ATTEMPTS, Client, GitHubApp, backoff_s, github_app
from core.settings import Settings
from workers.scrub import scrub_json

log = logging.getLogger(__name__)

# How far GitHub's clock may run behind ours when a comment's created_at is compared with now.
CLOCK_SKEW: Final = timedelta(seconds=60)
# GitHub lists at most this many files of a pull request; beyond it, plan as if everything changed.
MAX_LISTED_FILES: Final = 3000
# The collaborator-permission API's levels, least first (maintain reads as write, triage as read).
PERMISSION_LEVELS: Final = ("none", "read", "write", "admin")

Json = dict[str, Any]


@dataclass(frozen=True)
class PullInfo:
    """What the workers need to know about a pull request, read from GitHub (not the webhook)."""

    number: int
    head_sha: str
    author: str
    from_fork: bool
    default_branch: str
    state: str = "open"  # open | closed
    base_ref: str = ""  # the branch it is (or was) merged into
    merged: bool = False
    merge_commit_sha: str | None = None
    merged_by: str | None = None
    merged_at: str | None = None
    title: str = ""
    html_url: str = ""


class RepoGitHub:
    """One installation's view of one repository. Each call takes a token from the App's Redis
    cache, so a run that outlives one token keeps working."""

    def __init__(self, app: GitHubApp, settings: Settings, installation_id: int, repo: str) -> None:
        self._app = app
        self._settings = settings
        self.installation_id = installation_id
        self.repo = repo

    async def client(self) -> Client:
        return await self._app.installation_client(self.installation_id)

    async def token(self) -> str:
        return await self._app.installation_token(self.installation_id)

    async def secrets(self) -> list[str]:
        """Every secret value that must never leave the worker: this installation's token and
        the bot's own credentials."""
        return [await self.token(), *self._settings.secret_values()]

    def _url(self, tail: str) -> str:
        return f"/repos/{self.repo}{tail}"

    async def _scrubbed(self, body: Json) -> Json:
        cleaned: Json = scrub_json(body, await self.secrets())
        return cleaned

    async def create_once(
        self, url: str, data: Json, made: Callable[[], Awaitable[Json | None]] | None
    ) -> Json:
        """POST, and after GitHub was unavailable ask `made` whether the try took effect before
        trying again. made=None: repeating the POST is harmless (a reaction is answered 200)."""
        data = await self._scrubbed(data)
        attempt = 1
        while True:
            gh = await self.client()
            try:
                created: Json = await gh.post(url, data=data)
                return created
            except GitHubUnavailable as error:
                if attempt >= MAX_5XX_ATTEMPTS:
                    raise
                wait = error.retry_after or backoff_s(attempt)
                log.warning("%s; checking again in %s s", error, wait)
                await gh.sleep(wait)
                found = None if made is None else await made()
                if found is not None:
                    return found
                attempt += 1

    async def _patch(self, tail: str, body: Json) -> Json:
        gh = await self.client()
        updated: Json = await gh.patch(self._url(tail), data=await self._scrubbed(body))
        return updated

    # -- check runs ------------------------------------------------------------------------
    async def create_check_run(self, body: Json) -> Json:
        """Create a check run; one whose create GitHub applied but answered 5xx for is found by
        its external id instead of being made twice."""

        async def made() -> Json | None:
            return await self.find_check_run(
                str(body["head_sha"]), str(body["name"]), str(body["external_id"])
            )

        return await self.create_once(self._url("/check-runs"), body, made)

    async def update_check_run(self, run_id: int, body: Json) -> Json:
        return await self._patch(f"/check-runs/{run_id}", body)

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

    async def create_check_run_once(self, body: Json, made_before: bool) -> Json:
        """The check run `body` describes, created unless an earlier try already made it: when
        one may have (it crashed between the create and the record of it), it is looked for by
        its external id first. The one create-once rule of every check run (stages, releases,
        deploys)."""
        found = None
        if made_before:
            found = await self.find_check_run(
                str(body["head_sha"]), str(body["name"]), str(body["external_id"])
            )
        return found if found is not None else await self.create_check_run(body)

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
            state=str(data.get("state") or "open"),
            base_ref=str(data["base"].get("ref") or ""),
            merged=bool(data.get("merged")),
            merge_commit_sha=data.get("merge_commit_sha"),
            merged_by=(data.get("merged_by") or {}).get("login"),
            merged_at=data.get("merged_at"),
            title=str(data.get("title") or ""),
            html_url=str(data.get("html_url") or ""),
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

    async def permission(self, user: str) -> str:
        """The user's permission on the repository, asked of GitHub now (never a payload's
        author_association): none, read, write or admin."""
        gh = await self.client()
        data = await gh.getitem(self._url(f"/collaborators/{user}/permission"))
        found = str(data["permission"])
        return found if found in PERMISSION_LEVELS else "none"

    async def can_write(self, user: str) -> bool:
        return allows(await self.permission(user), "write")

    # -- deployments --------------------------------------------------------------------------
    async def create_deployment(self, body: Json) -> Json:
        """A deployment; one GitHub made but answered 5xx for is found by ref, environment and
        the run named in its payload instead of being made twice."""

        async def made() -> Json | None:
            gh = await self.client()
            query = urlencode({"sha": body["ref"], "environment": body["environment"]})
            async for found in gh.getiter(self._url(f"/deployments?{query}")):
                if found.get("payload") == body.get("payload"):
                    deployment: Json = found
                    return deployment
            return None

        return await self.create_once(self._url("/deployments"), body, made)

    async def create_deployment_status(self, deployment_id: int, body: Json) -> Json:
        url = self._url(f"/deployments/{deployment_id}/statuses")
        return await self.create_once(url, body, None)

    # -- comments -----------------------------------------------------------------------------
    async def comments(self, number: int) -> AsyncIterator[Json]:
        gh = await self.client()
        async for comment in gh.getiter(self._url(f"/issues/{number}/comments?per_page=100")):
            yield comment

    async def comment(self, number: int, body: str) -> Json:
        """Post a comment; one that GitHub posted but answered 5xx for is found by its text (a
        bot's comment with the same body, posted since this call began) instead of doubled."""
        since = datetime.now(UTC) - CLOCK_SKEW
        data = await self._scrubbed({"body": body})

        async def made() -> Json | None:
            async for comment in self.comments(number):
                posted = datetime.fromisoformat(str(comment["created_at"]).replace("Z", "+00:00"))
                bot = comment.get("user", {}).get("type") == "Bot"
                if bot and comment.get("body") == data["body"] and posted >= since:
                    return comment
            return None

        return await self.create_once(self._url(f"/issues/{number}/comments"), data, made)

    async def edit_comment(self, comment_id: int, body: str) -> Json:
        return await self._patch(f"/issues/comments/{comment_id}", {"body": body})

    async def react(self, comment_id: int, content: str) -> None:
        url = self._url(f"/issues/comments/{comment_id}/reactions")
        await self.create_once(url, {"content": content}, None)


def allows(level: str, needed: str) -> bool:
    """Whether a collaborator with `level` has at least `needed`."""
    known = PERMISSION_LEVELS
    return level in known and needed in known and known.index(level) >= known.index(needed)


@asynccontextmanager
async def repo_github(
    settings: Settings, installation_id: int, repo: str
) -> AsyncIterator[RepoGitHub]:
    """A RepoGitHub with its connections, closed when the block ends."""
    async with github_app(settings) as app:
        yield RepoGitHub(app, settings, installation_id, repo)
