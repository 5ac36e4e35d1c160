"""The tutor image, on the operator's base: an image the engine pulls (DEPLOYBOT_BASE_IMAGE,
python:3.11-slim by default) or, with `offline`, a Debian base built here without Docker Hub.

The offline base comes from `mmdebstrap` reading the machine's own apt sources (so no mirror host
is written here) and `docker import`; the tutor image installs its Python dependencies from a
wheelhouse that the host fills with pip, so `docker build` itself needs no network.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ConfigError, ImageError
from core.settings import DEFAULT_BASE_IMAGE, OFFLINE_BASE, Settings
from deploy.blobs import file_digest

BASE_TAG = "deploybot/base:bookworm"
TUTOR_REPOSITORY = "tutor"
MODEL_PATH = Path("models/tutor.safetensors")
TABLE_PATH = Path("data/verbs.yaml")
MODEL_LABEL = "io.deploybot.model.digest"
TABLE_LABEL = "io.deploybot.table.digest"
ROOT = Path(__file__).resolve().parents[1]
APT_SOURCES = (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list"))
CA_DIR = Path("/usr/local/share/ca-certificates")
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
# Trimmed from the base: documentation, translations and apt's caches nobody reads in a container.
TRIM = (
    "var/lib/apt/lists/*",
    "var/cache/apt/*",
    "usr/share/doc/*",
    "usr/share/man/*",
    "usr/share/locale/*",
    "usr/share/info/*",
)


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    image_id: str
    size_bytes: int


def apt_sources() -> Path:
    for candidate in APT_SOURCES:
        if candidate.is_file():
            return candidate
    raise ImageError(
        "no apt sources file found (looked for " + ", ".join(map(str, APT_SOURCES)) + "); "
        "the base image is built from this machine's own Debian mirror configuration"
    )


def base_rootfs_command(sources: Path, out: Path, ca_certs: Sequence[Path]) -> list[str]:
    """The mmdebstrap call for a minimal bookworm with python3 (pure: builds argv only)."""
    command = [
        "mmdebstrap",
        "--quiet",
        "--variant=minbase",
        "--include=" + ",".join(BASE_PACKAGES),
    ]
    if ca_certs:
        # A machine whose HTTPS is intercepted trusts a local CA; the image must trust it too.
        command += [
            "--customize-hook=copy-in " + " ".join(map(str, ca_certs)) + " " + str(CA_DIR) + "/",
            '--customize-hook=chroot "$1" update-ca-certificates',
        ]
    command.append("--customize-hook=rm -rf " + " ".join(f'"$1"/{path}' for path in TRIM))
    command += ["bookworm", str(out), str(sources)]
    return command


def _docker() -> Any:
    import docker

    try:
        client = docker.from_env(timeout=600)
        client.ping()
    except docker.errors.DockerException as exc:
        raise ImageError(f"no Docker engine reachable: {exc}") from None
    return client


def _image(client: Any, tag: str) -> BuiltImage | None:
    import docker

    try:
        image = client.images.get(tag)
    except docker.errors.ImageNotFound:
        return None
    return BuiltImage(tag, image.id, int(image.attrs.get("Size", 0)))


NO_MMDEBSTRAP = (
    f"DEPLOYBOT_BASE_IMAGE={OFFLINE_BASE} builds the tutor's base with mmdebstrap, which is not "
    "installed: apt-get install mmdebstrap, or set DEPLOYBOT_BASE_IMAGE to a Python 3.11 image "
    f"this engine can pull (the default is {DEFAULT_BASE_IMAGE})"
)


def base_tag(base: str) -> str:
    """The image a tutor is built FROM, for the configured base."""
    return BASE_TAG if base == OFFLINE_BASE else base


def base_readiness(base: str, client: Any) -> tuple[bool, str]:
    """Whether a release can be built on `base` here, and what it will be built on."""
    import docker

    if base == OFFLINE_BASE:
        if _image(client, BASE_TAG) is not None:
            return True, f"{OFFLINE_BASE}: {BASE_TAG}, built here"
        if shutil.which("mmdebstrap") is None:
            return False, NO_MMDEBSTRAP
        return True, f"{OFFLINE_BASE}: {BASE_TAG}, made by mmdebstrap at the first release"
    if _image(client, base) is not None:
        return True, f"{base}: in the engine"
    try:
        client.images.get_registry_data(base)
    except (docker.errors.DockerException, OSError) as exc:  # OSError: the engine timed out
        return False, (
            f"{base} is not in the engine and its registry does not answer "
            f"({exc.__class__.__name__}): pull it, or set DEPLOYBOT_BASE_IMAGE={OFFLINE_BASE} "
            "(a Debian base made here by mmdebstrap)"
        )
    return True, f"{base}: pulled from its registry at the first release"


def build_base(client: Any | None = None, *, force: bool = False) -> BuiltImage:
    """Build (or reuse) the offline Debian base image."""
    client = client or _docker()
    existing = None if force else _image(client, BASE_TAG)
    if existing is not None:
        return existing
    if shutil.which("mmdebstrap") is None:
        raise ImageError(NO_MMDEBSTRAP)
    ca_certs = sorted(CA_DIR.glob("*.crt")) if CA_DIR.is_dir() else []
    with tempfile.TemporaryDirectory(prefix="deploybot-base-") as tmp:
        rootfs = Path(tmp) / "rootfs.tar"
        _run(base_rootfs_command(apt_sources(), rootfs, ca_certs), "mmdebstrap")
        return import_rootfs(client, rootfs, BASE_TAG)


def import_rootfs(client: Any, rootfs: Path, tag: str) -> BuiltImage:
    """A root file system's tar made the image `tag` (`docker import`, through the engine's
    API: the worker's container has no docker CLI)."""
    repository, version = tag.rsplit(":", 1)
    _engine(
        "docker import",
        lambda: client.api.import_image(src=str(rootfs), repository=repository, tag=version),
    )
    built = _image(client, tag)
    if built is None:
        raise ImageError(f"docker import finished but {tag} is not in the engine")
    return built


def fill_wheelhouse(requirements: Path, dest: Path) -> None:
    """Download binary wheels for the image's Python (3.11) so the build needs no network."""
    dest.mkdir(parents=True, exist_ok=True)
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--only-binary=:all:",
            "--python-version",
            "3.11",
            "--dest",
            str(dest),
            "--requirement",
            str(requirements),
        ],
        "pip download",
    )


def tutor_labels(commit: str, source: Path) -> dict[str, str]:
    """The OCI labels of tutor:<commit>: the commit, and the digests of the model and the table
    it carries (what its /version reports)."""
    return {
        "org.opencontainers.image.revision": commit,
        "org.opencontainers.image.title": "tutor",
        MODEL_LABEL: file_digest(source / MODEL_PATH),
        TABLE_LABEL: file_digest(source / TABLE_PATH),
    }


def build_tutor(
    commit: str, source: Path = ROOT, *, base: str, client: Any | None = None
) -> BuiltImage:
    """Build `tutor:<commit>` from the tree at `source` (a checkout of that commit), with the
    model and table inside and labelled, on `base` (OFFLINE_BASE: built first on a new host)."""
    client = client or _docker()
    if base == OFFLINE_BASE:
        build_base(client)
    for needed in (source / MODEL_PATH, source / TABLE_PATH):
        if not needed.is_file():
            raise ImageError(f"{needed.relative_to(source)} is missing: run `just train` first")
    fill_wheelhouse(source / "tutor" / "requirements.txt", source / "build" / "wheelhouse")
    tag = f"{TUTOR_REPOSITORY}:{commit}"
    # Through the engine's API, not a docker CLI (the worker's container has none); the build
    # itself has no network: everything it installs is in the context.
    _engine(
        "docker build",
        lambda: client.images.build(
            path=str(source),
            dockerfile="tutor/Dockerfile",
            tag=tag,
            buildargs={"BASE_IMAGE": base_tag(base), "COMMIT": commit},
            labels=tutor_labels(commit, source),
            network_mode="none",
            rm=True,
            forcerm=True,
        ),
    )
    built = _image(client, tag)
    if built is None:
        raise ImageError(f"docker build finished but {tag} is not in the engine")
    return built


def _engine(step: str, call: Callable[[], object]) -> None:
    """`call` on the Docker engine; an ImageError with the end of its log when it fails."""
    import docker

    try:
        call()
    except docker.errors.BuildError as exc:
        lines = [str(entry.get("stream") or entry.get("error") or "") for entry in exc.build_log]
        tail = "\n".join("".join(lines).strip().splitlines()[-15:])
        raise ImageError(f"{step} failed: {exc.msg}\n{tail}") from None
    except (docker.errors.DockerException, OSError) as exc:
        raise ImageError(f"{step} failed: {exc}") from None


def _run(argv: Sequence[str], step: str) -> str:
    done = subprocess.run(  # noqa: S603 (argv built here, nothing from a webhook)
        list(argv), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise ImageError(f"{step} failed (exit {done.returncode}):\n{tail}")
    return done.stdout.strip()


def current_commit() -> str:
    try:
        return _run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], "git rev-parse")
    except ImageError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.images", description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    base = sub.add_parser("base", help=f"build the offline base image {BASE_TAG}")
    base.add_argument("--force", action="store_true", help="rebuild even if it exists")
    tutor = sub.add_parser("tutor", help="build tutor:<commit> on the base image")
    tutor.add_argument("--commit", default=None, help="tag (default: git HEAD)")
    tutor.add_argument(
        "--base",
        default=None,
        help=f"base image, or {OFFLINE_BASE} (default: DEPLOYBOT_BASE_IMAGE, else "
        f"{DEFAULT_BASE_IMAGE})",
    )
    args = parser.parse_args(argv)
    try:
        if args.what == "base":
            built = build_base(force=args.force)
        else:
            on = args.base or Settings.from_env().base_image
            built = build_tutor(args.commit or current_commit(), base=on)
    except (ImageError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{built.tag} {built.image_id} {built.size_bytes / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
