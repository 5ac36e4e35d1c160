"""The HAProxy configuration for the environments of deploy.yaml (pure: text from data).

Per environment a frontend on `front` and a backend holding both colours, health-checked on the
environment's health path. Which colour is routed is runtime state, never configuration: it is set
through the admin socket and kept across restarts in the server-state file, so a flip is never a
reload. Why these options:

- `option redispatch 1` + `retries 3` + `retry-on conn-failure empty-response`: a request whose
  connection to a colour fails, or whose colour closes without answering (a server that stopped
  between the health check and the request), is sent again, to another server when one is up.
- `http-request disable-l7-retry if METH_POST`: a POST is never sent twice once it reached a
  server (/check is safe to repeat, the next app's writes may not be); connection failures, where
  nothing reached a server, are still retried.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from deploy.config import COLOURS, DeployConfig

# A failing check is repeated every 250 ms: a dead colour is down (and failed over) in ~1.5 s.
CHECK: Final = "check inter 1s fastinter 250ms fall 2 rise 2"


def backend_name(environment: str) -> str:
    return f"env_{environment}"


def render(config: DeployConfig, socket: Path, state_file: Path, health: str | None = None) -> str:
    """The whole configuration; with `health` (host:port), a frontend there answering 200 to
    anything (what a container's health check asks: HAProxy itself serves)."""
    lines = [
        "# Rendered by deploybot from deploy.yaml; every run of `deploybot proxy` writes it again.",
        "global",
        # expose-fd listeners: a reloaded worker takes the listening sockets over from this one.
        f"    stats socket {socket} mode 600 level admin expose-fd listeners",
        f"    server-state-file {state_file}",
        "    maxconn 4096",
        "",
        "defaults",
        "    mode http",
        "    timeout connect 2s",
        "    timeout client 60s",
        "    timeout server 60s",
        "    timeout http-keep-alive 10s",
        # On a reload the old worker answers the next request of each idle keep-alive
        # connection (with Connection: close) rather than closing it under a client about to
        # write: that request is served, never cut.
        "    option idle-close-on-response",
        "    option redispatch 1",
        "    retries 3",
        "    retry-on conn-failure empty-response",
        "    load-server-state-from-file global",
    ]
    if health is not None:
        lines += [
            "",
            "frontend deploybot_health",
            f"    bind {health}",
            '    http-request return status 200 content-type text/plain string "ok"',
        ]
    for env in config.switched_by("haproxy"):
        backend = backend_name(env.name)
        lines += [
            "",
            f"frontend front_{env.name}",
            f"    bind {env.front}",
            "    http-request disable-l7-retry if METH_POST",
            f"    default_backend {backend}",
            "",
            f"backend {backend}",
            "    balance roundrobin",
            f"    option httpchk GET {env.health.path}",
            "    http-check expect status 200",
        ]
        lines += [f"    server {c} {env.colours[c]} {CHECK}" for c in COLOURS]
    return "\n".join(lines) + "\n"
