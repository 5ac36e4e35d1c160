"""Serve a release from its image, by digest, as a container on the host network.

Each container is named for its place (a colour of an environment, or the gate's scratch slot),
labelled with the environment, colour and commit, restarted by the engine unless stopped, and
limited in memory and CPU; it serves on 127.0.0.1 at the port it is given.
"""

from __future__ import annotations

from typing import Any, Final

from core.errors import BackendError
from deploy.backends.base import LABEL_PREFIX, Artifact, Served

MEMORY_LIMIT: Final = "512m"
CPUS: Final = 1.0


class DockerBackend:
    def __init__(self, client: Any) -> None:
        self.client = client

    def start(self, name: str, artifact: Artifact, port: int, labels: dict[str, str]) -> Served:
        import docker

        image = artifact.require_image()
        self.stop(name)
        try:
            self._image(image)
            self.client.containers.run(
                image,
                name=name,
                detach=True,
                network_mode="host",
                environment={
                    "HOST": "127.0.0.1",
                    "PORT": str(port),
                    "TUTOR_COMMIT": artifact.commit,
                },
                labels={
                    **{f"{LABEL_PREFIX}.{k}": v for k, v in labels.items()},
                    f"{LABEL_PREFIX}.commit": artifact.commit,
                    f"{LABEL_PREFIX}.port": str(port),
                },
                restart_policy={"Name": "unless-stopped"},
                mem_limit=MEMORY_LIMIT,
                nano_cpus=int(CPUS * 1e9),
            )
        except docker.errors.DockerException as exc:
            raise BackendError(f"cannot start {name} from {image}: {exc}") from exc
        return Served(name, port, artifact.commit)

    def _image(self, reference: str) -> None:
        """The image in the engine, pulled by its digest from the registry when missing."""
        import docker

        try:
            self.client.images.get(reference)
        except docker.errors.ImageNotFound:
            self.client.images.pull(reference)

    def stop(self, name: str) -> None:
        import docker

        try:
            container = self.client.containers.get(name)
        except docker.errors.NotFound:
            return
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass  # removed meanwhile
        except docker.errors.DockerException as exc:
            raise BackendError(f"cannot remove {name}: {exc}") from exc

    def alive(self, name: str) -> bool:
        import docker

        try:
            return bool(self.client.containers.get(name).status == "running")
        except docker.errors.NotFound:
            return False

    def run_module(self, name: str, module: str) -> tuple[int, str]:
        code, output = self.client.containers.get(name).exec_run(["python3", "-m", module])
        return int(code), output.decode("utf-8", "replace")

    def logs(self, name: str, lines: int = 30) -> str:
        import docker

        try:
            data: bytes = self.client.containers.get(name).logs(tail=lines)
        except docker.errors.NotFound:
            return "(no container)"
        return data.decode("utf-8", "replace")
