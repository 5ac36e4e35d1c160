"""Where a repository's code comes from and what a stage may see of the worker (paths, env)."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Final
from urllib.parse import urlparse

from core.settings import Settings

MATRIX_PATH: Final = "data/ci-matrix.yaml"
# Optional dependency groups a project's CI stages need (linters, type checker, test runner).
CI_EXTRAS: Final = ("dev", "test")
# The only parts of the worker's environment a stage inherits: the code under test is not trusted
# with the App's private key, the webhook secret or the Redis URL.
INHERITED_ENV: Final = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "PYENV_ROOT")


def clone_url(settings: Settings, repo: str) -> str:
    """The git URL of `repo` ("owner/name"): DEPLOYBOT_GIT_URL, else the API host's web host."""
    if settings.git_url is not None:
        return settings.git_url.format(repo=repo)
    api = urlparse(settings.github_api_url)
    if api.hostname == "api.github.com":
        return f"https://github.com/{repo}.git"
    # GitHub Enterprise Server serves the API under /api/v3 and git at the host's root.
    return f"{api.scheme}://{api.netloc}/{repo}.git"


def _safe(repo: str) -> str:
    return repo.replace("/", "__")


def workspace_root(settings: Settings) -> Path:
    """Where every repository's git workspace lives (one directory each)."""
    return settings.data_dir / "workspaces"


def env_cache_root(settings: Settings) -> Path:
    """Where the virtualenvs with checkouts' dependencies are cached."""
    return settings.data_dir / "envs"


def ci_extras(checkout: Path) -> tuple[str, ...]:
    """The optional dependency groups CI installs: the project's own list under
    `[tool.deploybot] ci-extras`, else those of CI_EXTRAS it declares."""
    pyproject = checkout / "pyproject.toml"
    if not pyproject.is_file():
        return ()
    parsed = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    declared = parsed.get("project", {}).get("optional-dependencies", {})
    wanted = parsed.get("tool", {}).get("deploybot", {}).get("ci-extras", CI_EXTRAS)
    return tuple(str(e) for e in wanted if e in declared)


def log_dir(settings: Settings, repo: str, sha: str, run: str) -> Path:
    """Stage logs of one run, kept under DEPLOYBOT_DATA_DIR."""
    return settings.data_dir / "logs" / _safe(repo) / sha / run


def stage_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a stage runs with: a few harmless variables, and CI=true."""
    env = os.environ if environ is None else environ
    return {**{k: env[k] for k in INHERITED_ENV if k in env}, "CI": "true"}
