"""What a stage may see of the worker: its paths, its environment, pip's settings."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from core.settings import Settings
from workers.ci.sandbox import SANDBOX_HOME, Host, interpreter_paths

MATRIX_PATH: Final = "data/ci-matrix.yaml"
# The worker's own pip configuration (index, mirrors, find-links), which a dependency install in
# the sandbox uses too; its home is hidden, so the file is shown on its own.
# What of the worker's environment a dependency install gets: pip's own settings for where
# packages come from. The code the install runs can read them: they must hold no credential a
# pull request may not have.
PIP_SETTINGS: Final = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_TRUSTED_HOST",
    "PIP_CERT",
    "PIP_CONSTRAINT",
    "PIP_DEFAULT_TIMEOUT",
    "PIP_DISABLE_PIP_VERSION_CHECK",
)


def pip_user_configs() -> tuple[Path, ...]:
    """The worker's own pip configuration files (index, mirrors, find-links)."""
    home = Path.home()
    return (home / ".config" / "pip" / "pip.conf", home / ".pip" / "pip.conf")


# Optional dependency groups a project's CI stages need (linters, type checker, test runner).
CI_EXTRAS: Final = ("dev", "test")
# The only parts of the worker's environment a stage inherits: the code under test is not trusted
# with the App's private key, the webhook secret or the Redis URL. Its home and temporary files
# are the sandbox's fresh /tmp.
INHERITED_ENV: Final = ("PATH", "LANG", "LC_ALL", "TZ")


def _safe(repo: str) -> str:
    return repo.replace("/", "__")


def env_cache_root(settings: Settings) -> Path:
    """Where the virtualenvs with checkouts' dependencies are cached."""
    return settings.data_dir / "envs"


def ci_extras(inputs: Mapping[str, bytes]) -> tuple[str, ...]:
    """The optional dependency groups CI installs: the project's own list under
    `[tool.deploybot] ci-extras`, else those of CI_EXTRAS it declares."""
    pyproject = inputs.get("pyproject.toml")
    if pyproject is None:
        return ()
    try:
        parsed = tomllib.loads(pyproject.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ()  # the install names the problem
    declared = parsed.get("project", {}).get("optional-dependencies", {})
    wanted = parsed.get("tool", {}).get("deploybot", {}).get("ci-extras", CI_EXTRAS)
    return tuple(str(e) for e in wanted if e in declared)


def log_dir(settings: Settings, repo: str, sha: str, run: str) -> Path:
    """Stage logs of one run, kept under DEPLOYBOT_DATA_DIR."""
    return settings.data_dir / "logs" / _safe(repo) / sha / run


def stage_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a stage runs with: a few harmless variables, and CI=true."""
    env = os.environ if environ is None else environ
    inherited = {k: env[k] for k in INHERITED_ENV if k in env}
    return {**inherited, "HOME": SANDBOX_HOME, "TMPDIR": SANDBOX_HOME, "CI": "true"}


def sandbox_root(settings: Settings) -> Path:
    """Where each stage's own copy of the checkout is made (and removed after the stage)."""
    return settings.data_dir / "sandboxes"


def sandbox_host(settings: Settings) -> Host:
    """What this worker's sandboxes hide: its data dir and home (and so its workspaces, caches,
    logs and whatever it keeps at home), the key file; and what they show read-only again."""
    # Made now if missing: a data dir created later would otherwise be in plain view.
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    hidden = [settings.data_dir, Path.home()]
    key = settings.github_private_key_path
    pip_files = [p for p in pip_user_configs() if p.is_file()]
    pip_env = {k: os.environ[k] for k in PIP_SETTINGS if k in os.environ}
    if pip_files:
        pip_env["PIP_CONFIG_FILE"] = str(pip_files[0])
    return Host(
        hidden=tuple(dict.fromkeys(p.resolve() for p in hidden if p.resolve().is_dir())),
        hidden_files=(key.resolve(),) if key is not None and key.exists() else (),
        read_only=interpreter_paths(),
        env=stage_env(),
        as_root=os.geteuid() == 0,
        install_env=pip_env,
        install_files=tuple(pip_files[:1]),
    )
