"""deploybot's exception tree: one root, a branch per way of failing, retries decided by type.

DeploybotError
├── ConfigError            a setting or a configuration file is wrong (the message says the fix)
│   └── ConfigFileError    ... at a file and line (ci-matrix.yaml, deploy.yaml)
├── PayloadError           a webhook payload lacks a field or has the wrong shape
├── GitHubError
│   ├── GitHubUnavailable  5xx, unreachable, secondary rate limit: TransientError too
│   └── GitHubRefused      a 4xx that asking again will not change
├── TransientError         trying again later can succeed; `retry_after` says when
│   ├── LeaseHeld          another live worker is doing this run
│   ├── WaitingTurn        a queued deploy: another run holds the environment
│   └── QueueUnavailable   the broker did not answer
├── CheckoutError          git could not fetch or check out a commit
└── EnvError               a checkout's dependencies could not be installed
"""

from __future__ import annotations


class DeploybotError(Exception):
    """Every error deploybot raises on purpose; anything else is a bug."""


class ConfigError(DeploybotError, ValueError):
    """A setting or configuration is missing or malformed; the message names it and the fix."""


class ConfigFileError(ConfigError):
    """A malformed configuration file; str(error) is "<file>:<line>: <reason>"."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        super().__init__(f"{source}:{line}: {reason}")
        self.source = source
        self.line = line
        self.reason = reason


class PayloadError(DeploybotError, ValueError):
    """The payload lacks a field the handler needs, or the field has the wrong type or shape."""


class TransientError(DeploybotError):
    """Trying again later can succeed; `retry_after` is how long to wait, when someone said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class GitHubError(DeploybotError):
    """GitHub did not do what was asked."""


class GitHubUnavailable(GitHubError, TransientError):
    """GitHub answered 5xx, could not be reached, or asked us to slow down (secondary limit)."""


class GitHubRefused(GitHubError):
    """GitHub refused the request (4xx) for a reason that asking again will not change."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class LeaseHeld(TransientError):
    """Another live worker is running this run already."""


class WaitingTurn(TransientError):
    """A queued deploy whose turn has not come: asked again shortly, holding no worker slot
    meanwhile."""


class QueueUnavailable(TransientError):
    """Redis (the broker) did not answer: nothing was claimed or queued; GitHub may redeliver."""


class CheckoutError(DeploybotError):
    """git could not fetch or check out; the message never holds the token."""


class EnvError(DeploybotError):
    """The dependencies of a checkout could not be installed; the message holds pip's output."""
