"""The release's base image is the operator's choice (DEPLOYBOT_BASE_IMAGE): a base that cannot be
had here is a clear error naming the package or the other choice, never a bare errno."""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import uuid
from pathlib import Path
from typing import Any

import pytest

from core.errors import ImageError
from core.settings import OFFLINE_BASE, Settings, unconfigured
from deploy import images
from testkit.loopback import free_port
from tests.conftest import run_deploybot

pytestmark = pytest.mark.docker


def test_the_offline_base_without_mmdebstrap_names_the_package_and_the_other_choice(
    docker_client: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a host where mmdebstrap is not installed
    with pytest.raises(ImageError) as raised:
        images.build_base(docker_client, force=True)
    said = str(raised.value)
    assert "apt-get install mmdebstrap" in said
    assert "set DEPLOYBOT_BASE_IMAGE to a Python 3.11 image" in said
    assert "Errno" not in said


def test_a_base_neither_in_the_engine_nor_pullable_is_refused_with_the_offline_choice(
    docker_client: Any,
) -> None:
    unreachable = f"127.0.0.1:{free_port()}/python:3.11-slim"
    ok, said = images.base_readiness(unreachable, docker_client)
    assert not ok
    assert f"{unreachable} is not in the engine and its registry does not answer" in said
    assert f"DEPLOYBOT_BASE_IMAGE={OFFLINE_BASE}" in said


def test_doctor_says_which_base_a_build_uses_and_whether_it_can(
    settings: Settings, docker_client: Any
) -> None:
    unreachable = f"127.0.0.1:{free_port()}/python:3.11-slim"
    env = {**unconfigured(os.environ), **settings.environ(), "DEPLOYBOT_BASE_IMAGE": unreachable}
    done = run_deploybot("doctor", "--json", env=env)
    [base] = [
        check for check in json.loads(done.stdout)["checks"] if check["name"] == "release base"
    ]
    assert not base["ok"]
    assert base["detail"].startswith(f"{unreachable} is not in the engine"), base


def test_a_base_image_that_is_not_an_image_reference_is_a_configuration_error() -> None:
    done = run_deploybot(
        "doctor", env={**unconfigured(os.environ), "DEPLOYBOT_BASE_IMAGE": "python 3.11"}
    )
    assert done.returncode == 1
    assert "DEPLOYBOT_BASE_IMAGE='python 3.11' must be an image reference" in done.stderr


def test_a_root_file_system_is_imported_through_the_engine_api(
    docker_client: Any, tmp_path: Path
) -> None:
    """What the offline base's last step does (the worker's container has no docker CLI), on a
    root file system of one static busybox."""
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.fail("busybox (a static build: apt-get install busybox-static) is needed")
    rootfs = tmp_path / "rootfs.tar"
    with tarfile.open(rootfs, "w") as tar:
        tar.add(busybox, arcname="bin/busybox")
    tag = f"deploybot-test/rootfs:{uuid.uuid4().hex[:8]}"
    try:
        built = images.import_rootfs(docker_client, rootfs, tag)
        said = docker_client.containers.run(
            tag, ["/bin/busybox", "echo", "imported"], network_mode="none", remove=True
        )
        assert said.strip() == b"imported"
        assert built.tag == tag
    finally:
        docker_client.images.remove(tag, force=True)
