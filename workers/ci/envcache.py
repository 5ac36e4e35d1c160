"""Virtual environments with a commit's dependencies, built once per hash of what declares them.

The install runs in a sandbox (workers/ci/sandbox.py) that holds only the declaring files
(pyproject.toml, requirements*.txt) and the environment being built, with the stage's environment
variables and the host's network (to reach the package index). What pip builds there is therefore
a function of the key, so two commits with the same inputs may share the result; once built, the
environment is frozen (owned by root, read-only to every stage) and never run by the worker.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from packaging.requirements import InvalidRequirement, Requirement

from core.errors import EnvError
from workers.ci import sandbox
from workers.ci.sandbox import Host
from workers.scrub import scrub

# The files that decide what gets installed; a change to any of them means a new environment.
_INPUT = re.compile(r"pyproject\.toml|requirements[A-Za-z0-9_.-]*\.txt")
INSTALL_TIMEOUT_S: Final = 1800
_TAIL_BYTES: Final = 4000
# The one option a requirements line may carry after its requirement (pip's --hash checking).
_HASH = re.compile(r"--hash=[a-z0-9]+:[0-9a-f]+")

Inputs = Mapping[str, bytes]


def is_input(name: str) -> bool:
    """Whether a top-level file of the commit decides what gets installed."""
    return _INPUT.fullmatch(name) is not None


def read_inputs(checkout: Path) -> dict[str, bytes]:
    """The declaring files of a directory (what a commit's tree holds at its root)."""
    return {p.name: p.read_bytes() for p in sorted(checkout.iterdir()) if is_input(p.name)}


def env_key(inputs: Inputs, extras: Sequence[str] = (), pip_args: Sequence[str] = ()) -> str:
    """A hash of the dependency inputs, the extras and this interpreter's version."""
    digest = hashlib.sha256()
    for part in (sys.version, *sorted(extras), *pip_args):
        digest.update(part.encode() + b"\0")
    for name in sorted(inputs):
        digest.update(name.encode() + b"\0" + inputs[name] + b"\0")
    return digest.hexdigest()[:32]


def _requirement(text: str, where: str) -> str:
    """One requirement as PEP 508 has it (a name, extras, versions, a marker), checked: never a
    pip option, a path or a URL (the sandbox holds only the declaring files, and dependencies come
    from the package index the worker's pip configuration names)."""
    text = text.strip()
    if text.startswith("-"):
        raise EnvError(
            f"{where}: {text.split()[0]!r} is a pip option, not a requirement; deploybot passes "
            "only requirements to pip (index settings belong to the worker's pip configuration)"
        )
    try:
        parsed = Requirement(text)
    except InvalidRequirement:
        raise EnvError(
            f"{where}: {text!r} is not a requirement (a project name with optional extras, "
            "versions and marker; not a path)"
        ) from None
    if parsed.url is not None:
        raise EnvError(
            f"{where}: {text!r} names a URL; dependencies install from the package index only"
        )
    return str(parsed)


def _requirements_file(name: str, text: str) -> list[str]:
    """A requirements file's lines, each checked: a requirement, then optionally --hash=…"""
    lines: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        where = f"{name}:{number}"
        tokens = line.split()
        hashes: list[str] = []
        while tokens and _HASH.fullmatch(tokens[-1]):
            hashes.insert(0, tokens.pop())
        body = " ".join(tokens)
        if "--" in body or '"' in body or "'" in body:
            raise EnvError(f"{where}: {line!r} carries an option deploybot does not pass")
        lines.append(" ".join([_requirement(body, where), *hashes]))
    return lines


def requirements(inputs: Inputs, extras: Sequence[str] = ()) -> dict[str, list[str]]:
    """What to install, checked: "pyproject.toml" -> its dependencies and the extras' (not the
    project itself: stages import it from their own checkout), and each requirements file's
    lines under its name."""
    wanted: dict[str, list[str]] = {}
    if "pyproject.toml" in inputs:
        try:
            parsed = tomllib.loads(inputs["pyproject.toml"].decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise EnvError(f"pyproject.toml cannot be read: {exc}") from None
        project = parsed.get("project", {})
        if "dependencies" in project.get("dynamic", []):
            raise EnvError("pyproject.toml declares its dependencies as dynamic; list them instead")
        declared = list(project.get("dependencies", []))
        optional = project.get("optional-dependencies", {})
        for extra in extras:
            if extra not in optional:
                raise EnvError(f"pyproject.toml has no optional dependencies named {extra!r}")
            declared += optional[extra]
        wanted["pyproject.toml"] = [_requirement(str(d), "pyproject.toml") for d in declared]
    for name in sorted(n for n in inputs if n.startswith("requirements")):
        wanted[name] = _requirements_file(name, inputs[name].decode("utf-8", "replace"))
    return wanted


def ensure_env(
    inputs: Inputs,
    cache_root: Path,
    host: Host,
    extras: Sequence[str] = (),
    pip_args: Sequence[str] = (),
    visible: Sequence[Path] = (),
) -> Path:
    """The venv with the inputs' dependencies: reused when the key matches, else built in a
    sandbox. pip_args go to `pip install` (e.g. --no-index --find-links DIR, with DIR among
    `visible`: paths the install may read)."""
    wanted = requirements(inputs, extras)
    key = env_key(inputs, extras, pip_args)
    target = cache_root / key
    # Beside the environment, never in it: the install had the environment to write in, and
    # could have left a symlink where the worker would write.
    ready = cache_root / f"{key}.ready"
    cache_root.mkdir(parents=True, exist_ok=True)
    with (cache_root / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ready.exists():
            try:
                _build(target, inputs, wanted, host, pip_args, visible)
            except BaseException:
                shutil.rmtree(target, ignore_errors=True)  # nothing half-built stays
                raise
            ready.write_text(key + "\n", encoding="utf-8")
    return target


def _build(
    target: Path,
    inputs: Inputs,
    wanted: dict[str, list[str]],
    host: Host,
    pip_args: Sequence[str],
    visible: Sequence[Path],
) -> None:
    # A venv's scripts hold its own path, so it is built in place; the marker written last
    # (by ensure_env) tells a complete environment from one a dying worker left half-built.
    shutil.rmtree(target, ignore_errors=True)
    _run([sys.executable, "-m", "venv", "--without-pip", str(target)], "venv")
    args = [a for name, lines in wanted.items() for a in _install_args(name, lines)]
    if args:
        with tempfile.TemporaryDirectory(prefix="deploybot-inputs-") as tmp:
            workdir = Path(tmp)
            for name, data in inputs.items():
                (workdir / name).write_bytes(data)
            sandbox.give(workdir, host)
            sandbox.give(target, host)
            _install(target, workdir, host, [*pip_args, *args], visible)
    sandbox.freeze(target, host)


def _install_args(name: str, lines: list[str]) -> list[str]:
    if name == "pyproject.toml":
        return lines
    return ["--requirement", name] if lines else []


def _install(
    target: Path, workdir: Path, host: Host, args: list[str], visible: Sequence[Path]
) -> None:
    # The worker's pip installs into the target, inside the sandbox (pip --python runs only the
    # worker's own pip code; what the dependencies' build backends run stays in the sandbox).
    pip = [*host.python, "-m", "pip", "--python", str(target / "bin" / "python"), "install"]
    command = [*pip, "--quiet", "--no-input", "--disable-pip-version-check", *args]
    box = host.install(workdir, target, visible)
    # Its output goes to a file, of which only the end is read: an install may print gigabytes.
    with tempfile.TemporaryFile() as output:
        try:
            done = subprocess.run(  # noqa: S603 - the sandbox's fixed argv
                sandbox.argv(box, command),
                env={**host.env, **host.install_env},
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=INSTALL_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise EnvError(f"pip took longer than {INSTALL_TIMEOUT_S} s") from None
        if done.returncode != 0:
            size = output.seek(0, os.SEEK_END)
            output.seek(max(0, size - _TAIL_BYTES))
            detail = scrub(output.read().decode("utf-8", "replace").strip())
            raise EnvError(f"pip failed (exit {done.returncode}): {detail}")


def activate(venv: Path, env: Mapping[str, str]) -> dict[str, str]:
    """env with venv first on PATH, as `source venv/bin/activate` would leave it."""
    result = {k: v for k, v in env.items() if k != "PYTHONHOME"}
    result["VIRTUAL_ENV"] = str(venv)
    result["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", os.defpath)])
    return result


def _run(argv: list[str], what: str) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    if proc.returncode != 0:
        raise EnvError(f"{what} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
