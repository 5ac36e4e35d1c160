"""deploybot's exception tree: one root, a branch per way of failing, retries decided by type.

Every error deploybot raises on purpose is below; where one carries a type of the module that
raises it, it is declared there (the module is named), and tests/test_errors.py keeps this tree
whole. A TransientError is retried by the worker (later, or at once where it says when); any
other error ends the run and says why. The tutor is a service of its own and shares none of it.

DeploybotError
├── ConfigError              a setting or a configuration file is wrong (the message says the fix)
│   └── ConfigFileError      ... at a file and line
│       ├── MatrixError      data/ci-matrix.yaml (workers/ci/matrix.py)
│       └── DeployConfigError  data/deploy.yaml (deploy/config.py)
├── PayloadError             a webhook payload lacks a field or has the wrong shape
├── Rejected                 a webhook request refused with an HTTP status (bot/verify.py)
│   └── OutOfBudget          503: too many bytes of deliveries in flight (bot/intake.py)
├── GitHubError
│   ├── GitHubUnavailable    5xx, unreachable, secondary rate limit: TransientError too
│   └── GitHubRefused        a 4xx that asking again will not change
├── TransientError           trying again later can succeed; `retry_after` says when
│   ├── LeaseHeld            another live worker is doing this run
│   ├── WaitingTurn          a queued deploy: another run holds the environment
│   └── RedisUnavailable     Redis did not answer (a restart, a blip)
│       ├── QueueUnavailable   ... as the broker: nothing was claimed or queued
│       └── LockUnavailable    ... as the deploy lock: no deploy starts without it
├── CheckoutError            git could not fetch or check out a commit
├── EnvError                 a checkout's dependencies could not be installed
├── NoEngine                 a stage needs Docker and the worker has none (workers/ci/stages.py)
├── LockBusy                 another run holds the environment, and this one is not to wait
│                            (deploy/lock.py)
├── Withdrawn                a queued deploy withdrawn by /cancel: it never takes its turn
│                            (deploy/lock.py)
├── LeaseLost                a run's lock was taken over or lapsed: it acts no more
│                            (deploy/engine.py)
├── StepFailed               a step of a deploy failed; the engine says which (deploy/engine.py)
├── ReleaseFailed            a step of a release failed (deploy/release.py)
├── Blocked                  the gate did not accept a release (deploy/release.py)
├── ManifestError            a release's manifest is missing or malformed (deploy/manifest.py)
├── LedgerError              the ledger cannot be read or written (deploy/ledger.py)
├── SwitchError              the traffic switch refused or did not answer (deploy/switch/base.py)
├── BackendError             a colour's runtime could not start or stop it
│                            (deploy/backends/base.py)
├── ImageError               a release's image could not be built (deploy/images.py)
├── RegistryError            the OCI registry refused or did not answer (deploy/registry.py)
├── BlobError                a release's blob is missing or corrupt (deploy/blobs.py)
└── DemoFailed               the embedded demo's own check failed (deploybot/demo.py)
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


class RedisUnavailable(TransientError):
    """Redis did not answer: restarted, unreachable or still loading its data. Redis comes back
    from a restart in seconds, so a retry is soon."""

    RETRY_S = 2.0

    def __init__(self, message: str, retry_after: float | None = RETRY_S) -> None:
        super().__init__(message, retry_after)


class QueueUnavailable(RedisUnavailable):
    """Redis (the broker) did not answer: nothing was claimed or queued; GitHub may redeliver."""


class LockUnavailable(RedisUnavailable):
    """Redis did not answer as the deploy lock: no deploy may start without the lock."""


class CheckoutError(DeploybotError):
    """git could not fetch or check out; the message never holds the token."""


class EnvError(DeploybotError):
    """The dependencies of a checkout could not be installed; the message holds pip's output."""


class NoEngine(DeploybotError):
    """A stage needs the Docker engine and there is none to give it."""


class LeaseLost(DeploybotError):
    """Another holder took the environment's lock over (or its lease lapsed while Redis was away):
    this run stopped where it was, for the next holder to settle."""


class StepFailed(DeploybotError):
    """A step did not succeed; the message says what was found."""


class ManifestError(DeploybotError):
    """A manifest cannot be read or would be rewritten."""


class LedgerError(DeploybotError):
    """The ledger could not be written (a full disk, say): the step that wanted it stops."""


class SwitchError(DeploybotError):
    """The switch could not be reached or refused a command; the message says which and how to
    bring it back."""


class BackendError(DeploybotError):
    """What serves a release could not be started or stopped."""


class ImageError(DeploybotError):
    """An image could not be built; the message says which step and why."""


class RegistryError(DeploybotError):
    """The registry refused or could not be reached."""


class BlobError(DeploybotError):
    """A blob is missing, or its bytes no longer hash to its name."""


class DemoFailed(DeploybotError):
    """A step of the story did not happen; the message says which and what was seen."""
