"""The product apart from its test kit: a plain install runs the receiver, without the fake GitHub
or its dependencies."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.loopback import free_port

ROOT = Path(__file__).resolve().parents[2]


def run(*argv: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy: setuptools leaves a build/ directory beside the sources it builds.
    source = tmp_path_factory.mktemp("source") / "deploybot"
    ignored = shutil.ignore_patterns(".git", "build", "*.egg-info", ".*_cache", ".deploybot")
    shutil.copytree(ROOT, source, ignore=ignored)
    out = tmp_path_factory.mktemp("wheel")
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, source)
    assert built.returncode == 0, built.stderr
    (found,) = out.glob("deploybot-*.whl")
    return found


@pytest.fixture(scope="module")
def plain_install(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with `pip install <wheel>`, no extras: its python."""
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=True)
    python = home / "bin" / "python"
    done = run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel)
    assert done.returncode == 0, done.stderr[-2000:]
    return python


def test_the_wheel_holds_the_product_and_no_test_kit(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    packages = {name.split("/", 1)[0] for name in names if "/" in name}
    assert {"core", "bot", "workers", "deploy", "tutor", "deploybot"} <= packages
    assert not any(name.startswith("testkit/") or "fakegithub" in name for name in names)
    assert not any(name.endswith("rest-api-subset.json") for name in names)


@pytest.mark.slow
def test_a_plain_install_has_no_jsonschema_and_names_the_demo_install(plain_install: Path) -> None:
    away = plain_install.parent  # not the checkout, whose directory would be importable
    assert run(plain_install, "-c", "import jsonschema", cwd=away).returncode != 0
    assert run(plain_install, "-c", "import testkit", cwd=away).returncode != 0
    demo = run(away / "deploybot", "demo", cwd=away)
    assert demo.returncode == 1
    assert "pip install -e '.[demo]'" in demo.stderr


@pytest.fixture
def served(plain_install: Path, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {"DEPLOYBOT_WEBHOOK_SECRET": "s", "PATH": str(plain_install.parent)}
    argv = [str(plain_install.parent / "deploybot"), "serve", "--port", str(port)]
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.slow
def test_a_plain_install_serves_the_receiver(served: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{served}/healthz", timeout=2) as answer:  # noqa: S310
                assert (answer.status, answer.read()) == (200, b"ok\n")
                return
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail("deploybot serve from a plain install did not answer /healthz")
            time.sleep(0.2)
