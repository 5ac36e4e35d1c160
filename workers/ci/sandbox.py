"""The stage sandbox: code under test runs in bubblewrap, never with the worker's view of the host.

Each stage and each dependency install gets its own mount, PID, IPC and UTS namespaces (and, but
for an install, its own network namespace with loopback only), a read-only view of the system, a
fresh /tmp, the writable paths it is given and nothing of the worker: not its processes, its
environment, its home, its data dir (workspaces, caches, logs, other runs), /run (the Docker and
HAProxy sockets) or the App's key file. It runs as uid 65534 (nobody): a worker running as root
starts bwrap without a user namespace and drops to 65534 with setpriv, so the host itself sees an
unprivileged uid; a worker that is not root uses an unprivileged user namespace instead, where
the stage's 65534 is the worker's own uid outside (only the hidden paths protect its files then).

`argv` is pure: it turns a Sandbox (what to show, what to hide) into the command line.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

NOBODY: Final = 65534
# What a stage may write to outside its own copy of the checkout: a fresh /tmp of its own (its
# HOME too), not the host's.
TMP_BYTES: Final = 2 * 1024**3
# An empty directory standing for a hidden one holds nothing; it may not grow either.
PLACEHOLDER_BYTES: Final = 64 * 1024
SANDBOX_HOME: Final = "/tmp"  # noqa: S108  # nosec B108 - the sandbox's own fresh tmpfs
DOCKER_SOCKET: Final = "/run/docker.sock"
BWRAP: Final = "bwrap"
SETPRIV: Final = "setpriv"
# Limits set as the stage starts (it may only lower them): processes of uid 65534 (every sandbox
# together: a fork bomb stops there), the largest file it may write, no core dumps.
LIMITS: Final = ("prlimit", "--nproc=4096", f"--fsize={8 * 1024**3}", "--core=0", "--")
INSTALL_HINT: Final = "apt-get install bubblewrap"


@dataclass(frozen=True)
class Sandbox:
    """What one sandboxed command sees of the host."""

    workdir: Path  # writable, and where the command starts
    hidden: tuple[Path, ...]  # directories replaced by an empty tmpfs
    hidden_files: tuple[Path, ...] = ()  # files replaced by /dev/null
    read_only: tuple[Path, ...] = ()  # shown again, read-only, inside a hidden directory
    writable: tuple[Path, ...] = ()  # shown again, writable, inside a hidden directory
    network: bool = False  # the host's network (a dependency install); else loopback only
    docker_socket: Path | None = None  # bound at /run/docker.sock (root-equivalent)
    groups: tuple[int, ...] = field(default=())  # supplementary groups (the socket's)
    as_root: bool = True  # the worker is root: no user namespace, setpriv to 65534


def argv(sandbox: Sandbox, command: Sequence[str]) -> list[str]:
    """The bwrap command line that runs `command` in `sandbox` (pure)."""
    args = [BWRAP, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    args += ["--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", SANDBOX_HOME]
    args += ["--size", str(PLACEHOLDER_BYTES), "--tmpfs", "/run"]
    fresh = [Path(SANDBOX_HOME), Path("/run")]
    for path, op in _mounts(sandbox):
        args += _parents(path, fresh)
        if op == "--tmpfs":
            args += ["--size", str(PLACEHOLDER_BYTES), "--tmpfs", str(path)]
            fresh.append(path)
        else:
            args += [op, str(path), str(path)]
    # Last, so that no directory shown again (the interpreter's, say) can uncover them.
    for path in sandbox.hidden_files:
        args += [*_parents(path, fresh), "--ro-bind", "/dev/null", str(path)]
    if sandbox.docker_socket is not None:
        args += ["--bind", str(sandbox.docker_socket), DOCKER_SOCKET]
    args += ["--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try"]
    if not sandbox.network:
        args.append("--unshare-net")
    if not sandbox.as_root:
        args += ["--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY)]
    args += ["--die-with-parent", "--new-session", "--chdir", str(sandbox.workdir), "--"]
    if sandbox.as_root:
        groups = ",".join(str(g) for g in sandbox.groups)
        args += [SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}"]
        args += [f"--groups={groups}"] if groups else ["--clear-groups"]
        args += ["--inh-caps=-all", "--bounding-set=-all", "--"]
    return [*args, *LIMITS, *command]


def _mounts(sandbox: Sandbox) -> list[tuple[Path, str]]:
    """Every directory hidden or shown, outermost first: a directory shown again inside a hidden
    one is bound after it, and one hidden inside a shown one (a data dir inside the worker's
    install, say) is hidden after it, never uncovered by it."""
    found = [(p, "--tmpfs") for p in sandbox.hidden]
    found += [(p, "--ro-bind") for p in sandbox.read_only]
    found += [(p, "--bind") for p in (*sandbox.writable, sandbox.workdir)]
    return sorted(found, key=lambda item: len(item[0].parts))


def _parents(path: Path, fresh: Sequence[Path]) -> list[str]:
    """Directories to make, traversable, between the innermost fresh tmpfs holding `path` and
    `path` itself (bwrap would copy the host's modes, and a 0700 parent would lock uid 65534
    out of what is shown to it)."""
    roots = [root for root in fresh if path.is_relative_to(root) and path != root]
    if not roots:
        return []
    root = max(roots, key=lambda r: len(r.parts))
    between = list(path.relative_to(root).parents)[::-1][1:]
    return [a for p in between for a in ("--perms", "0755", "--dir", str(root / p))]


@dataclass(frozen=True)
class Host:
    """What every sandbox of this worker hides and shows, and how it starts commands."""

    hidden: tuple[Path, ...]  # the data dir, the worker's home
    hidden_files: tuple[Path, ...]  # the App's key file
    read_only: tuple[Path, ...]  # the Python installations virtualenvs point at
    env: dict[str, str]  # the stage's environment, which bwrap itself is started with
    as_root: bool
    python: tuple[str, ...] = (sys.executable,)
    # What a dependency install adds: pip's own configuration (where the index is), shown to
    # the code the install runs too, so it must hold no credential the PR may not have.
    install_env: dict[str, str] = field(default_factory=dict)
    install_files: tuple[Path, ...] = ()

    def stage(
        self, workdir: Path, venv: Path, docker: Path | None = None, groups: tuple[int, ...] = ()
    ) -> Sandbox:
        """A stage: its copy of the checkout, its environment read-only, loopback only."""
        return Sandbox(
            workdir=workdir,
            hidden=self.hidden,
            hidden_files=self.hidden_files,
            read_only=(*self.read_only, venv),
            docker_socket=docker,
            groups=groups,
            as_root=self.as_root,
        )

    def install(self, workdir: Path, target: Path, visible: Sequence[Path] = ()) -> Sandbox:
        """A dependency install: the declaring files and the environment it builds, and the
        host's network to reach the package index (never the bot's Redis: it asks for a
        password this sandbox cannot read)."""
        return Sandbox(
            workdir=workdir,
            hidden=self.hidden,
            hidden_files=self.hidden_files,
            read_only=(*self.read_only, *self.install_files, *visible),
            writable=(target,),
            network=True,
            as_root=self.as_root,
        )


def interpreter_paths() -> tuple[Path, ...]:
    """The Python installations the worker and the virtualenvs it makes run on; shown read-only
    even when they lie under a hidden directory (pyenv under the worker's home, a venv in /tmp)."""
    return tuple(dict.fromkeys(Path(p).resolve() for p in (sys.prefix, sys.base_prefix)))


def give(path: Path, host: Host) -> None:
    """Let the sandbox's uid write the tree at `path` (it is the stage's or the install's)."""
    if host.as_root:
        _chown_tree(path, NOBODY)


def freeze(path: Path, host: Host) -> None:
    """Make the tree at `path` the worker's again and nobody else's to write."""
    if host.as_root:
        _chown_tree(path, 0)
    for entry in _tree(path):
        if not entry.is_symlink():
            mode = entry.lstat().st_mode & 0o7777
            os.chmod(entry, mode & ~0o022)


def _tree(path: Path) -> list[Path]:
    found = [path]
    for root, dirs, files in os.walk(path, followlinks=False):
        found += [Path(root, name) for name in (*dirs, *files)]
    return found


def _chown_tree(path: Path, uid: int) -> None:
    for entry in _tree(path):
        os.lchown(entry, uid, uid)


def docker_socket(docker_host: str | None) -> Path:
    """The Docker engine socket a `needs: [docker]` stage is given: DOCKER_HOST's unix socket,
    else the default one. ValueError for an engine reached over TCP (the sandbox has no
    network)."""
    host = docker_host or "unix:///var/run/docker.sock"
    if not host.startswith("unix://"):
        raise ValueError(
            f"DOCKER_HOST={host!r}: a stage can be given a Docker engine over a unix socket only"
        )
    return Path(host.removeprefix("unix://"))


@functools.cache
def unavailable() -> str | None:
    """Why stages cannot be sandboxed on this host, or None when bwrap works here."""
    if shutil.which(BWRAP) is None:
        return f"bwrap is not on PATH ({INSTALL_HINT})"
    probe = Sandbox(workdir=Path("/"), hidden=(), as_root=os.geteuid() == 0)
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv
            argv(probe, ["true"]), capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not start ({exc})"
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        return (
            f"bwrap cannot create namespaces here ({detail[0]}); run the worker as root, or "
            "allow unprivileged user namespaces (a container needs CAP_SYS_ADMIN)"
        )
    return None
