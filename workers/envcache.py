"""Virtual environments with a checkout's dependencies, built once per hash of their inputs."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

from core.errors import EnvError
from workers.scrub import scrub

# The files that decide what gets installed; a change to any of them means a new environment.
_INPUT_GLOBS = ("pyproject.toml", "requirements*.txt")
_READY = ".deploybot-ready"


def _inputs(checkout: Path) -> list[Path]:
    return sorted({p for pattern in _INPUT_GLOBS for p in checkout.glob(pattern) if p.is_file()})


def env_key(checkout: Path, extras: Sequence[str] = (), pip_args: Sequence[str] = ()) -> str:
    """A hash of the dependency inputs, the extras and this interpreter's version."""
    digest = hashlib.sha256()
    for part in (sys.version, *sorted(extras), *pip_args):
        digest.update(part.encode() + b"\0")
    for path in _inputs(checkout):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def requirements(checkout: Path, extras: Sequence[str] = ()) -> list[str]:
    """pip arguments for the dependencies the checkout declares, not the project itself.

    The environment is shared by every commit with the same inputs, so it must not hold one
    commit's copy of the project: stages import the project from the checkout they run in.
    """
    args: list[str] = []
    pyproject = checkout / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if "dependencies" in project.get("dynamic", []):
            raise EnvError("pyproject.toml declares its dependencies as dynamic; list them instead")
        args.extend(project.get("dependencies", []))
        optional = project.get("optional-dependencies", {})
        for extra in extras:
            if extra not in optional:
                raise EnvError(f"pyproject.toml has no optional dependencies named {extra!r}")
            args.extend(optional[extra])
    for path in _inputs(checkout):
        if path.name.startswith("requirements"):
            args.extend(["--requirement", str(path)])
    return args


def ensure_env(
    checkout: Path,
    cache_root: Path,
    extras: Sequence[str] = (),
    pip_args: Sequence[str] = (),
) -> Path:
    """The venv with the checkout's dependencies: reused when the inputs hash matches, else built.

    pip_args go to `pip install` (e.g. an index URL, or --no-index --find-links DIR offline).
    """
    key = env_key(checkout, extras, pip_args)
    target = cache_root / key
    ready = target / _READY
    cache_root.mkdir(parents=True, exist_ok=True)
    with (cache_root / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ready.exists():
            return target
        # A venv's scripts hold its own path, so it is built in place; the marker written last
        # tells a complete environment from one a dying worker left half-built.
        shutil.rmtree(target, ignore_errors=True)
        _run([sys.executable, "-m", "venv", "--without-pip", str(target)])
        wanted = requirements(checkout, extras)
        if wanted:
            python = str(target / "bin" / "python")
            quiet = ["--quiet", "--disable-pip-version-check"]
            _run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "--python",
                    python,
                    "install",
                    *quiet,
                    *pip_args,
                    *wanted,
                ]
            )
        ready.write_text(key + "\n", encoding="utf-8")
    return target


def activate(venv: Path, env: Mapping[str, str]) -> dict[str, str]:
    """env with venv first on PATH, as `source venv/bin/activate` would leave it."""
    result = {k: v for k, v in env.items() if k != "PYTHONHOME"}
    result["VIRTUAL_ENV"] = str(venv)
    result["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", os.defpath)])
    return result


def _run(argv: list[str]) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    if proc.returncode != 0:
        # An index URL in pip_args may carry credentials; pip repeats it in its errors.
        detail = scrub(proc.stderr.strip()[-4000:])
        raise EnvError(f"{argv[2]} failed (exit {proc.returncode}): {detail}")
