"""`deploybot release <sha>` and `deploybot releases`: stage one release from a repository on this
machine (build, stage, gate, record, each step shown with its duration), and list the index."""

from __future__ import annotations

import argparse
import getpass
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Final

from rich.table import Table
from rich.text import Text

from core.errors import ConfigError, DeploybotError
from core.settings import Settings
from deploy import places
from deploy.manifest import Manifest, Override, ReleaseIndex
from deploy.progress import Step
from deploy.release import Blocked, ReleaseRequest, release
from deploybot import terminal
from workers.checkout import Workspace

NO_IMAGE: Final = "(none: staged without Docker; the process runtime serves its tree)"
EXIT_FAILED: Final = 1
EXIT_BLOCKED: Final = 3
_REMOTE = re.compile(r"[:/]([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)(?:\.git)?/?$")


def _git(repo_dir: Path, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - fixed argv
        ["git", "-C", str(repo_dir), *args],  # noqa: S607 - git from PATH
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ConfigError(f"git {args[0]} in {repo_dir}: {done.stderr.strip()}")
    return done.stdout.strip()


def repository_of(repo_dir: Path) -> str:
    """owner/name from the repository's origin remote, else local/<directory>."""
    try:
        match = _REMOTE.search(_git(repo_dir, "config", "remote.origin.url"))
    except ConfigError:
        match = None
    return match.group(1) if match else f"local/{repo_dir.resolve().name}"


def show_step(step: Step) -> None:
    """A step as it happens: started, then done with its duration (or failed, and why)."""
    if step.state == "started":
        line = Text(f"▶ {step.name} …", style="cyan")
    elif step.state == "done":
        extra = f" ({step.detail})" if step.detail else ""
        line = Text(f"✓ {step.name} in {step.seconds:.1f} s{extra}", style="green")
    else:
        line = Text(f"✗ {step.name} failed after {step.seconds:.1f} s:\n{step.detail}", style="red")
    terminal.show(line)


def commit_of(repo_dir: Path, sha: str) -> str:
    return _git(repo_dir, "rev-parse", "--verify", f"{sha}^{{commit}}")


def stage(
    settings: Settings,
    repo_dir: Path,
    commit: str,
    repository: str,
    override: Override | None,
    docker: bool = True,
) -> Manifest:
    """The commit's release, staged from a fresh checkout of repo_dir (each step shown);
    Blocked, ReleaseFailed or another DeploybotError when it cannot be."""
    where = places.release_staging(settings, docker)
    workspace = Workspace(settings.data_dir / "workspaces", repo_dir.resolve().as_uri())
    with tempfile.TemporaryDirectory(prefix="deploybot-release-") as tmp:
        source = workspace.checkout(commit, Path(tmp) / "checkout")
        wanted = ReleaseRequest(
            repository, commit, source, "cli", getpass.getuser(), override=override
        )
        return release(where, wanted, show_step)


def report_blocked(command: str, blocked: Blocked) -> None:
    print(blocked.report)
    hint = (
        "; if that is expected (a first release), stage it again with --accept-inconclusive REASON"
        if blocked.decision.verdict == "inconclusive"
        else ""
    )
    print(f"deploybot {command}: blocked: {blocked}{hint}", file=sys.stderr)


def run_release(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    repo_dir = Path(args.repo_dir)
    override = (
        Override(getpass.getuser(), args.accept_inconclusive) if args.accept_inconclusive else None
    )
    try:
        commit = commit_of(repo_dir, args.sha)
        repository = args.repository or repository_of(repo_dir)
        manifest = stage(settings, repo_dir, commit, repository, override, not args.no_docker)
    except Blocked as blocked:
        report_blocked("release", blocked)
        return EXIT_BLOCKED
    except (DeploybotError, ImportError) as exc:
        print(f"deploybot release: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(manifest.to_json(), indent=2))
    else:
        terminal.show(describe([manifest], f"{manifest.commit[:12]} staged"))
    return 0


def describe(found: list[Manifest], title: str) -> Table:
    rows = []
    for m in found:
        aggregate = f"{m.aggregate:.4f}" if m.aggregate is not None else "-"
        suites = ", ".join(f"{n} {s.score:.4f}" for n, s in m.suites.items())
        gate = m.verdict + (f", overridden by {m.override.by}" if m.override else "")
        rows.append(
            (
                m.commit[:12],
                m.created_at,
                gate,
                f"aggregate {aggregate}; {suites}",
                f"{m.image or NO_IMAGE}\nmodel {m.model_digest}\ntable {m.table_digest}",
            )
        )
    return terminal.table(title, ("commit", "staged", "gate", "eval", "artifacts"), rows)


def run_releases(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    repository = args.repository or repository_of(Path(args.repo_dir))
    found = ReleaseIndex(settings.data_dir / "releases", repository).all()
    if args.json:
        print(json.dumps([m.to_json() for m in found], indent=2))
    elif not found:
        print(f"no release of {repository} is staged yet (deploybot release <sha>)")
    else:
        terminal.show(describe(found, f"releases of {repository}"))
    return 0


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    staged = commands.add_parser(
        "release", help="build, stage and gate one commit's release (the deploy flow's steps 1-3)"
    )
    staged.add_argument("sha", help="the commit (any name git knows in --repo-dir)")
    staged.add_argument("--repo-dir", default=".", help="the repository (default: here)")
    staged.add_argument("--repository", help="owner/name (default: from the origin remote)")
    staged.add_argument(
        "--accept-inconclusive",
        metavar="REASON",
        help="accept an inconclusive gate (a first release, an eval that errored), on record",
    )
    staged.add_argument(
        "--no-docker",
        action="store_true",
        help="stage without a Docker engine: the release is its tree and model blob, served by "
        "the process runtime (the gate runs it as a local process)",
    )
    staged.add_argument("--json", action="store_true", help="print the manifest as JSON")
    staged.set_defaults(run=run_release)
    listed = commands.add_parser("releases", help="list the staged releases, oldest first")
    listed.add_argument("--repo-dir", default=".", help="the repository (default: here)")
    listed.add_argument("--repository", help="owner/name (default: from the origin remote)")
    listed.add_argument("--json", action="store_true", help="one JSON object per manifest")
    listed.set_defaults(run=run_releases)
