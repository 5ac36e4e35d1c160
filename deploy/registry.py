"""An OCI registry (DEPLOYBOT_REGISTRY): images are pushed once and addressed by digest after.

Debian's `docker-registry` on 127.0.0.1 serves tests and CI; the engine treats a loopback
registry as one it may reach over plain HTTP.
"""

from __future__ import annotations

import http.client
from typing import Any, Final

from core.errors import RegistryError

MANIFEST_TYPES: Final = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    ]
)


class Registry:
    def __init__(self, address: str, client: Any) -> None:
        self.address = address
        self.client = client

    def push(self, local: str, repository: str, tag: str) -> str:
        """Push the local image as repository:tag; the reference by digest it is known by now."""
        import docker

        target = f"{self.address}/{repository}"
        try:
            self.client.images.get(local).tag(target, tag=tag)
            for line in self.client.images.push(target, tag=tag, stream=True, decode=True):
                if "error" in line:
                    raise RegistryError(f"push of {target}:{tag} failed: {line['error']}")
            pushed = self.client.images.get(f"{target}:{tag}")
        except docker.errors.DockerException as exc:
            raise RegistryError(f"push of {target}:{tag} failed: {exc}") from exc
        for reference in pushed.attrs.get("RepoDigests", []):
            if str(reference).startswith(f"{target}@sha256:"):
                return str(reference)
        raise RegistryError(f"{target}:{tag} was pushed but the engine knows no digest for it")

    def delete(self, reference: str) -> None:
        """Remove an image from the registry by its digest (a prune of an unpinned release)."""
        repository, digest = reference.removeprefix(f"{self.address}/").split("@", 1)
        host, _, port = self.address.partition(":")
        connection = http.client.HTTPConnection(host, int(port or 80), timeout=30)
        try:
            connection.request(
                "DELETE", f"/v2/{repository}/manifests/{digest}", headers={"Accept": MANIFEST_TYPES}
            )
            status = connection.getresponse().status
        except OSError as exc:
            raise RegistryError(f"registry {self.address} unreachable: {exc}") from exc
        finally:
            connection.close()
        if status not in {202, 404}:
            raise RegistryError(f"registry {self.address} refused to delete {reference}: {status}")
