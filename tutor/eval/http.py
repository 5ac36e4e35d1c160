"""Judge a running tutor by URL: the eval's checker over HTTP (`python -m tutor.eval --url`), so
the pre-deploy gate scores the staged artifact itself, not the code beside the eval."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Correction:
    original: str
    suggestion: str


@dataclass(frozen=True)
class Answer:
    verdict: str
    corrections: tuple[Correction, ...]


class HttpChecker:
    """POST /check on one keep-alive connection; /version names the model and the table."""

    name = "model"

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"{url!r}: expected http://host:port of a running tutor")
        self.url = url
        self._host, self._port = parts.hostname, parts.port or 80
        self._connection: http.client.HTTPConnection | None = None
        version = self._request("GET", "/version", None)
        self.model_version = str(version["model_digest"])
        self.table_digest = str(version["table_digest"])
        self.commit = str(version.get("commit", "unknown"))

    def _request(self, method: str, path: str, body: dict[str, str] | None) -> Any:
        try:
            return self._send(method, path, body)
        except (ConnectionError, http.client.HTTPException):
            # A kept-alive connection the server closed meanwhile: open a new one, once.
            self._close()
            return self._send(method, path, body)

    def _send(self, method: str, path: str, body: dict[str, str] | None) -> Any:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(self._host, self._port, TIMEOUT_S)
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        self._connection.request(method, path, body=data, headers=headers)
        response = self._connection.getresponse()
        payload = response.read()
        if response.status != 200:
            raise RuntimeError(f"{method} {path} answered {response.status}: {payload[:200]!r}")
        return json.loads(payload)

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection = None

    def check(self, sentence: str) -> Answer:
        found = self._request("POST", "/check", {"sentence": sentence})
        corrections = tuple(
            Correction(str(c["original"]), str(c["suggestion"])) for c in found["corrections"]
        )
        return Answer(str(found["verdict"]), corrections)
