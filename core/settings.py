"""One typed configuration object, read once from DEPLOYBOT_* environment variables."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from core.errors import ConfigError

PREFIX = "DEPLOYBOT_"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_GITHUB_API_URL = "https://api.github.com"
DEFAULT_DATA_DIR = ".deploybot"
DEFAULT_DEPLOY_LEASE_S = 30.0
# The image a release's tutor is built on; OFFLINE_BASE builds a Debian one with mmdebstrap from
# this machine's apt sources instead (for hosts that cannot pull from Docker Hub).
DEFAULT_BASE_IMAGE = "python:3.11-slim"
OFFLINE_BASE = "offline"
# The status page, /api/status and /metrics: never on the webhook's (internet-facing) port.
DEFAULT_STATUS_ADDR = "127.0.0.1:8001"
# Shorter fragments of a secret (e.g. the last line of a PEM) are too likely to be ordinary text.
MIN_SECRET_PART = 16
# Scheduled matrix triggers (cron: minute hour day-of-month month day-of-week, UTC).
DEFAULT_NIGHTLY_CRON = "0 3 * * *"
DEFAULT_WEEKLY_CRON = "0 4 * * 0"
_REGISTRY = re.compile(r"[A-Za-z0-9.-]+(?::[0-9]{1,5})?")
_IMAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@-]*")
_ADDRESS = re.compile(r"(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(?P<port>[0-9]{1,5})")
_BOOLEANS = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}


def unconfigured(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` without any DEPLOYBOT_* variable: a child started with it reads only the
    configuration it is then given."""
    return {k: v for k, v in environ.items() if not k.startswith(PREFIX)}


@dataclass(frozen=True)
class Settings:
    """Everything deploybot reads from its environment. Secrets stay out of repr()."""

    webhook_secret: str | None = field(default=None, repr=False)
    redis_url: str = field(default=DEFAULT_REDIS_URL, repr=False)  # may carry a password
    github_app_id: int | None = None
    github_private_key: str | None = field(default=None, repr=False)
    # Where the key was read from: hidden from stages, whatever its permissions.
    github_private_key_path: Path | None = None
    github_api_url: str = DEFAULT_GITHUB_API_URL
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    # Whether draft pull requests get CI runs (the receiver's pipeline decision).
    run_on_draft: bool = True
    # Where workers fetch a repository from, with "{repo}" for owner/name; None derives it from
    # GITHUB_API_URL (github.com or the GHES host). Tests point it at file:// repositories.
    git_url: str | None = None
    nightly_cron: str = DEFAULT_NIGHTLY_CRON
    weekly_cron: str = DEFAULT_WEEKLY_CRON
    # The issue number (in each repository) where failed nightly/weekly runs are reported;
    # None reports them only as check runs on the default branch's commit.
    oncall_issue: int | None = None
    # Stages run in the bubblewrap sandbox; false runs them with no sandbox at all, which only
    # code you trust may have (the embedded demo's own sample on a host without bwrap).
    stage_sandbox: bool = True
    # The OCI registry releases are pushed to (host:port); None: no release can be staged.
    registry: str | None = None
    # How long a deploy's lock outlives its holder; a rollback waits at most this long for a
    # stuck deploy before taking the lock over.
    deploy_lease_s: float = DEFAULT_DEPLOY_LEASE_S
    # What a release's tutor image is built on (an image the engine can pull, or OFFLINE_BASE).
    base_image: str = DEFAULT_BASE_IMAGE
    # host:port of the status listener (the page, /api/status, /metrics).
    status_addr: str = DEFAULT_STATUS_ADDR

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(PREFIX + name, "").strip()
            return value or None

        _retired(
            "ENVIRONMENTS",
            get("ENVIRONMENTS"),
            "environments are the ones data/deploy.yaml names on the default branch",
        )
        redis_url = get("REDIS_URL") or DEFAULT_REDIS_URL
        if urlparse(redis_url).scheme not in {"redis", "rediss", "unix"}:
            raise ConfigError(
                f"{PREFIX}REDIS_URL={redis_url!r} is not a Redis URL; "
                "expected redis://host:port/db, rediss://… or unix://…"
            )
        api_url = (get("GITHUB_API_URL") or DEFAULT_GITHUB_API_URL).rstrip("/")
        if urlparse(api_url).scheme not in {"http", "https"}:
            raise ConfigError(
                f"{PREFIX}GITHUB_API_URL={api_url!r} must be an http(s) URL, "
                "e.g. https://api.github.com or https://ghes.example.com/api/v3"
            )
        app_id_text = get("GITHUB_APP_ID")
        app_id: int | None = None
        if app_id_text is not None:
            if not app_id_text.isdigit():
                raise ConfigError(
                    f"{PREFIX}GITHUB_APP_ID must be the App's numeric id (App settings → About)"
                )
            app_id = int(app_id_text)
        status_addr = get("STATUS_ADDR") or DEFAULT_STATUS_ADDR
        _bind("STATUS_ADDR", status_addr)
        return cls(
            webhook_secret=get("WEBHOOK_SECRET"),
            redis_url=redis_url,
            github_app_id=app_id,
            github_private_key=_private_key(
                get("GITHUB_PRIVATE_KEY"), get("GITHUB_PRIVATE_KEY_PATH")
            ),
            github_private_key_path=(
                Path(key_path) if (key_path := get("GITHUB_PRIVATE_KEY_PATH")) else None
            ),
            github_api_url=api_url,
            data_dir=Path(get("DATA_DIR") or DEFAULT_DATA_DIR),
            run_on_draft=_boolean("RUN_ON_DRAFT", get("RUN_ON_DRAFT"), default=True),
            git_url=_git_url(get("GIT_URL")),
            nightly_cron=_cron("NIGHTLY_CRON", get("NIGHTLY_CRON") or DEFAULT_NIGHTLY_CRON),
            weekly_cron=_cron("WEEKLY_CRON", get("WEEKLY_CRON") or DEFAULT_WEEKLY_CRON),
            oncall_issue=_issue_number(get("ONCALL_ISSUE")),
            stage_sandbox=_boolean("STAGE_SANDBOX", get("STAGE_SANDBOX"), default=True),
            registry=_registry(get("REGISTRY")),
            deploy_lease_s=_seconds(
                "DEPLOY_LEASE_S", get("DEPLOY_LEASE_S"), DEFAULT_DEPLOY_LEASE_S
            ),
            base_image=_base_image(get("BASE_IMAGE") or DEFAULT_BASE_IMAGE),
            status_addr=status_addr,
        )

    @property
    def status_bind(self) -> tuple[str, int]:
        """(host, port) of the status listener."""
        return _bind("STATUS_ADDR", self.status_addr)

    def require_registry(self) -> str:
        if self.registry is None:
            raise ConfigError(
                f"{PREFIX}REGISTRY is not set: releases are pushed to an OCI registry; set it to "
                "its host:port, e.g. 127.0.0.1:5000"
            )
        return self.registry

    def require_webhook_secret(self) -> str:
        if self.webhook_secret is None:
            raise ConfigError(
                f"{PREFIX}WEBHOOK_SECRET is not set: refusing to accept unsigned webhooks. "
                "Set it to the secret configured on the GitHub App's webhook."
            )
        return self.webhook_secret

    def require_app_credentials(self) -> tuple[int, str]:
        if self.github_app_id is None or self.github_private_key is None:
            missing = [
                name
                for name, value in (
                    ("GITHUB_APP_ID", self.github_app_id),
                    ("GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH", self.github_private_key),
                )
                if value is None
            ]
            raise ConfigError(
                "cannot talk to GitHub as the App: set " + " and ".join(PREFIX + m for m in missing)
            )
        return self.github_app_id, self.github_private_key

    def secret_values(self) -> list[str]:
        """Every secret value deploybot holds, for scrubbing what leaves it: the webhook secret,
        the App key (whole and each line of it) and the Redis password."""
        found = [self.webhook_secret, self.github_private_key, urlparse(self.redis_url).password]
        if self.github_private_key:
            found += [
                line.strip()
                for line in self.github_private_key.splitlines()
                if len(line.strip()) >= MIN_SECRET_PART and "PRIVATE KEY" not in line
            ]
        return [value for value in found if value]

    def child_environ(self) -> dict[str, str]:
        """The environment of a process this one starts: this one's, with its DEPLOYBOT_*
        variables replaced by exactly this configuration."""
        return {**unconfigured(os.environ), **self.environ()}

    def environ(self) -> dict[str, str]:
        """The DEPLOYBOT_* variables that configure a child process exactly as this one is
        (secrets included: for the processes this one starts, never for any output)."""
        given: dict[str, str | None] = {
            "WEBHOOK_SECRET": self.webhook_secret,
            "REDIS_URL": self.redis_url,
            "GITHUB_APP_ID": str(self.github_app_id) if self.github_app_id is not None else None,
            "GITHUB_PRIVATE_KEY": self.github_private_key,
            "GITHUB_API_URL": self.github_api_url,
            "DATA_DIR": str(self.data_dir),
            "RUN_ON_DRAFT": str(self.run_on_draft).lower(),
            "GIT_URL": self.git_url,
            "NIGHTLY_CRON": self.nightly_cron,
            "WEEKLY_CRON": self.weekly_cron,
            "ONCALL_ISSUE": str(self.oncall_issue) if self.oncall_issue is not None else None,
            "STAGE_SANDBOX": str(self.stage_sandbox).lower(),
            "REGISTRY": self.registry,
            "DEPLOY_LEASE_S": repr(self.deploy_lease_s),
            "BASE_IMAGE": self.base_image,
            "STATUS_ADDR": self.status_addr,
        }
        return {PREFIX + name: value for name, value in given.items() if value is not None}

    def describe(self) -> list[tuple[str, str]]:
        """(variable, shown value) pairs for `deploybot doctor`; secrets show only set/unset."""

        def secret(value: str | None) -> str:
            return "set (hidden)" if value else "MISSING"

        return [
            (PREFIX + "WEBHOOK_SECRET", secret(self.webhook_secret)),
            (PREFIX + "REDIS_URL", _redact_url(self.redis_url)),
            (PREFIX + "GITHUB_APP_ID", str(self.github_app_id or "MISSING")),
            (PREFIX + "GITHUB_PRIVATE_KEY", secret(self.github_private_key)),
            (PREFIX + "GITHUB_API_URL", self.github_api_url),
            (PREFIX + "DATA_DIR", str(self.data_dir)),
            (PREFIX + "RUN_ON_DRAFT", str(self.run_on_draft).lower()),
            (PREFIX + "GIT_URL", self.git_url or "derived from GITHUB_API_URL"),
            (PREFIX + "NIGHTLY_CRON", self.nightly_cron),
            (PREFIX + "WEEKLY_CRON", self.weekly_cron),
            (PREFIX + "ONCALL_ISSUE", str(self.oncall_issue or "unset (check runs only)")),
            (PREFIX + "REGISTRY", self.registry or "MISSING (no release can be staged)"),
            (PREFIX + "DEPLOY_LEASE_S", f"{self.deploy_lease_s:g}"),
            (PREFIX + "BASE_IMAGE", self.base_image),
            (PREFIX + "STATUS_ADDR", self.status_addr),
            (
                PREFIX + "STAGE_SANDBOX",
                "bwrap" if self.stage_sandbox else "OFF (trusted code only)",
            ),
        ]


def _private_key(inline: str | None, path: str | None) -> str | None:
    if inline is not None and path is not None:
        raise ConfigError(
            f"set only one of {PREFIX}GITHUB_PRIVATE_KEY and {PREFIX}GITHUB_PRIVATE_KEY_PATH"
        )
    if path is not None:
        try:
            inline = Path(path).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"{PREFIX}GITHUB_PRIVATE_KEY_PATH={path!r} cannot be read: {exc.__class__.__name__}"
            ) from None
    if inline is None:
        return None
    # Env files often carry the PEM with literal "\n" escapes.
    key = inline.replace("\\n", "\n").strip() + "\n"
    if "PRIVATE KEY-----" not in key:
        raise ConfigError(
            "the GitHub App private key is not a PEM key (expected '-----BEGIN … PRIVATE "
            "KEY-----'); download it from the App settings page"
        )
    return key


def _boolean(name: str, text: str | None, *, default: bool) -> bool:
    if text is None:
        return default
    try:
        return _BOOLEANS[text.lower()]
    except KeyError:
        raise ConfigError(f"{PREFIX}{name}={text!r} must be true or false") from None


def _retired(name: str, text: str | None, instead: str) -> None:
    """A setting an older version read: refused, so that nobody relies on it in vain."""
    if text is not None:
        raise ConfigError(f"{PREFIX}{name} is no longer read: {instead}; unset it")


def _git_url(text: str | None) -> str | None:
    if text is not None and "{repo}" not in text:
        raise ConfigError(
            f"{PREFIX}GIT_URL={text!r} must contain {{repo}}, e.g. https://git.example.com/{{repo}}.git"
        )
    return text


def _cron(name: str, text: str) -> str:
    if len(text.split()) != 5:
        raise ConfigError(
            f"{PREFIX}{name}={text!r} must be a cron expression of 5 fields "
            "(minute hour day-of-month month day-of-week), e.g. '0 3 * * *'"
        )
    return text


def _seconds(name: str, text: str | None, default: float) -> float:
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 1 <= value <= 3600:
        raise ConfigError(f"{PREFIX}{name}={text!r} must be a number of seconds from 1 to 3600")
    return value


def _issue_number(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or int(text) == 0:
        raise ConfigError(f"{PREFIX}ONCALL_ISSUE={text!r} must be an issue number, e.g. 42")
    return int(text)


def _registry(text: str | None) -> str | None:
    if text is not None and not _REGISTRY.fullmatch(text):
        raise ConfigError(
            f"{PREFIX}REGISTRY={text!r} must be a registry's host:port, e.g. 127.0.0.1:5000 "
            "(no scheme, no path)"
        )
    return text


def _base_image(text: str) -> str:
    if not _IMAGE.fullmatch(text):
        raise ConfigError(
            f"{PREFIX}BASE_IMAGE={text!r} must be an image reference with Python 3.11 (e.g. "
            f"{DEFAULT_BASE_IMAGE}) or {OFFLINE_BASE!r} (a Debian base built here by mmdebstrap)"
        )
    return text


def _bind(name: str, text: str) -> tuple[str, int]:
    found = _ADDRESS.fullmatch(text)
    if found is None or not 0 < int(found["port"]) < 65536:
        raise ConfigError(f"{PREFIX}{name}={text!r} must be host:port, e.g. {DEFAULT_STATUS_ADDR}")
    return found["host"].strip("[]"), int(found["port"])


def _redact_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@", 1)
    return url
