"""Dependency environments: built once per hash of what declares them, in a sandbox that holds
only those files, frozen afterwards; requirements that are options or local paths are refused."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from core.errors import EnvError
from core.settings import Settings
from testkit.loopback import private_redis
from workers.ci.envcache import activate, ensure_env, env_key, read_inputs, requirements
from workers.ci.sandbox import Host
from workers.ci.stage_env import sandbox_host

PYPROJECT = """\
[project]
name = "tiny"
version = "0.1.0"
dependencies = {deps}

[project.optional-dependencies]
dev = ["tinydep"]
"""


def inputs(deps: str = "[]", **files: str) -> dict[str, bytes]:
    found = {"pyproject.toml": PYPROJECT.format(deps=deps).encode()}
    return {
        **found,
        **{name.replace("_", "-") + ".txt": text.encode() for name, text in files.items()},
    }


@pytest.fixture
def host(settings: Settings) -> Host:
    return sandbox_host(settings)


def _wheel(directory: Path) -> Path:
    """A real (minimal) wheel of a package `tinydep`, so pip can install it with no index."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "tinydep-1.0-py3-none-any.whl"
    files = {
        "tinydep/__init__.py": "ANSWER = 42\n",
        "tinydep-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: tinydep\nVersion: 1.0\n",
        "tinydep-1.0.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = "".join(f"{name},,\n" for name in files) + "tinydep-1.0.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in {**files, "tinydep-1.0.dist-info/RECORD": record}.items():
            wheel.writestr(name, text)
    return path


def _python(venv: Path, code: str) -> str:
    env = activate(venv, {"PATH": os.environ["PATH"]})
    return subprocess.run(
        ["python", "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_a_project_without_dependencies_gets_an_empty_frozen_env_once(
    tmp_path: Path, host: Host
) -> None:
    venv = ensure_env(inputs(), tmp_path / "envs", host)
    assert _python(venv, "import sys; print(sys.prefix)") == str(venv)
    assert not any(p.stat().st_mode & 0o022 for p in [venv, *venv.rglob("*")] if not p.is_symlink())
    (venv / "marker").write_text("built once")
    # Another commit with the same inputs reuses the environment instead of building one.
    again = ensure_env(inputs(), tmp_path / "envs", host)
    assert again == venv
    assert (again / "marker").read_text() == "built once"


def test_dependencies_and_extras_are_installed_offline(tmp_path: Path, host: Host) -> None:
    wheels = _wheel(tmp_path / "wheels").parent
    offline = ["--no-index", "--find-links", str(wheels)]
    venv = ensure_env(
        inputs('["tinydep==1.0"]'), tmp_path / "envs", host, pip_args=offline, visible=[wheels]
    )
    assert _python(venv, "import tinydep; print(tinydep.ANSWER)") == "42"
    assert (venv / "lib").stat().st_uid == (0 if host.as_root else os.getuid())
    # The project itself is not installed: stages import it from their own checkout.
    with pytest.raises(subprocess.CalledProcessError):
        _python(venv, "import tiny")


def test_changed_inputs_make_a_new_environment(tmp_path: Path) -> None:
    before = env_key(inputs())
    assert env_key(inputs(requirements_dev="tinydep\n")) != before
    assert env_key(inputs(), extras=["dev"]) != before
    assert requirements(inputs(requirements_dev="tinydep\n"), ["dev"]) == {
        "pyproject.toml": ["tinydep"],
        "requirements-dev.txt": ["tinydep"],
    }
    (tmp_path / "pyproject.toml").write_bytes(inputs()["pyproject.toml"])
    (tmp_path / "tiny.py").write_text("VALUE = 2\n")  # source files are not inputs
    assert read_inputs(tmp_path) == inputs()


def test_a_failed_install_raises_and_leaves_nothing_that_looks_ready(
    tmp_path: Path, host: Host
) -> None:
    wanted = inputs('["not-available-anywhere==9"]')
    envs = tmp_path / "envs"
    with pytest.raises(EnvError, match="pip failed"):
        ensure_env(wanted, envs, host, pip_args=["--no-index"])
    with pytest.raises(EnvError, match="pip failed"):  # tried again, not taken from the cache
        ensure_env(wanted, envs, host, pip_args=["--no-index"])


def test_an_unknown_extra_is_refused() -> None:
    with pytest.raises(EnvError, match="no optional dependencies named 'docs'"):
        requirements(inputs(), ["docs"])


@pytest.mark.parametrize(
    ("wanted", "problem"),
    [
        (inputs('["--log=/tmp/x"]'), r"pyproject.toml: '--log=/tmp/x' is a pip option"),
        (inputs(requirements="ok\n-e ../evil\n"), r"requirements.txt:2: '-e' is a pip option"),
        (inputs(requirements="--index-url https://evil/\n"), "carries an option"),
        (inputs(requirements="ok --log=/tmp/x\n"), r"requirements.txt:1: .* carries an option"),
        (inputs(requirements='ok --hash=sha256:aa "--index-url=x"\n'), "carries an option"),
        (inputs('["./evil"]'), r"'./evil' is not a requirement"),
        (inputs('["."]'), r"'.' is not a requirement"),
        (inputs(requirements="..\n"), r"'..' is not a requirement"),
        (inputs(requirements="evil @ file:///srv/evil\n"), "names a URL"),
        (inputs('["evil @ git+file:///work/main"]'), "names a URL"),
        (inputs('["evil @ https://attacker.example/evil.tar.gz"]'), "names a URL"),
    ],
)
def test_a_requirement_that_is_an_option_or_a_local_path_is_refused_before_pip_runs(
    wanted: dict[str, bytes], problem: str, tmp_path: Path, host: Host
) -> None:
    with pytest.raises(EnvError, match=problem):
        ensure_env(wanted, tmp_path / "envs", host)
    assert not (tmp_path / "envs").exists() or not list((tmp_path / "envs").iterdir())


def test_hashes_are_the_one_option_a_requirements_line_may_carry() -> None:
    line = "tinydep==1.0 --hash=sha256:" + "a" * 64
    assert requirements(inputs(requirements=line))["requirements.txt"] == [line]


EVIL_SETUP = """\
import os, pathlib, socket, sys
found = ["ENV-NAMES=" + ",".join(sorted(os.environ))]
proc1 = pathlib.Path("/proc/1/environ")
try:
    found.append("PROC1-DEPLOYBOT=" + str(b"DEPLOYBOT" in proc1.read_bytes()))
except OSError as exc:
    found.append("PROC1=" + type(exc).__name__)
try:
    found.append("KEY=" + pathlib.Path({key!r}).read_text()[:5])
except OSError as exc:
    found.append("KEY=" + type(exc).__name__)
try:
    with socket.create_connection(("127.0.0.1", {port}), timeout=3) as redis:
        redis.sendall(b"KEYS *\\r\\n")
        found.append("REDIS=" + redis.recv(100).decode().split()[0])
except OSError as exc:
    found.append("REDIS=" + type(exc).__name__)
print("EVIDENCE " + " ".join(found), file=sys.stderr)
sys.exit(1)
"""


def _sdist(directory: Path, setup: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "evil-1.0.tar.gz"
    files = {
        "evil-1.0/setup.py": setup,
        "evil-1.0/PKG-INFO": "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n",
    }
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def canary_redis() -> Iterator[str]:
    with private_redis(password="canary-redis-password") as url:
        yield url


def test_a_build_backend_sees_no_secret_no_key_and_only_a_refusing_redis(
    tmp_path: Path,
    shared_dir: Path,
    settings: Settings,
    canary_redis: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = shared_dir / "app-key.pem"  # outside /tmp, which the sandbox replaces anyway
    key.write_text(settings.github_private_key or "")
    key.chmod(0o644)  # even a careless operator's world-readable key stays hidden
    monkeypatch.setenv("DEPLOYBOT_WEBHOOK_SECRET", "canary-webhook-secret")
    worker = replace(settings, redis_url=canary_redis, github_private_key_path=key)
    port = int(canary_redis.rsplit(":", 1)[1].split("/")[0])
    packages = _sdist(tmp_path / "packages", EVIL_SETUP.format(key=str(key), port=port)).parent
    with pytest.raises(EnvError) as failed:
        ensure_env(
            inputs('["evil==1.0"]'),
            tmp_path / "envs",
            sandbox_host(worker),
            pip_args=["--find-links", str(packages)],
            visible=[packages],
        )
    evidence = next(line for line in str(failed.value).splitlines() if "EVIDENCE" in line)
    assert "DEPLOYBOT" not in evidence.split("ENV-NAMES=")[1].split()[0]
    assert "PROC1-DEPLOYBOT=False" in evidence or "PROC1=PermissionError" in evidence
    assert "KEY=PermissionError" in evidence  # /dev/null (unopenable: nodev) in its place
    # The install reaches the package index over the host's network, and so the bot's Redis:
    # which answers nothing without the password the sandbox cannot read.
    assert "REDIS=-NOAUTH" in evidence


PLANTER = """\
import pathlib, sys
target = pathlib.Path({target!r})
for name in (".deploybot-ready", "bin/activate", "lib/marker"):
    link = target / name
    link.parent.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to({victim!r})
print("PLANTED", file=sys.stderr)
sys.exit(1)
"""


def test_the_worker_writes_nothing_through_links_an_install_left_in_its_environment(
    tmp_path: Path, shared_dir: Path, host: Host
) -> None:
    victim = shared_dir / "victim.txt"
    victim.write_text("the worker's own file\n")
    wanted = inputs('["evil==1.0"]')
    packages = tmp_path / "packages"
    pip_args = ["--find-links", str(packages)]
    target = tmp_path / "envs" / env_key(wanted, (), pip_args)
    _sdist(packages, PLANTER.format(target=str(target), victim=str(victim)))
    with pytest.raises(EnvError, match="pip failed") as failed:
        ensure_env(wanted, tmp_path / "envs", host, pip_args=pip_args, visible=[packages])
    assert "PLANTED" in str(failed.value)  # the install did leave its links
    assert victim.read_text() == "the worker's own file\n"
    assert not target.exists()  # a failed build leaves nothing, links included
    assert not (tmp_path / "envs" / f"{target.name}.ready").exists()
