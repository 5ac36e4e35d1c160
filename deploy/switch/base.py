"""The traffic switch as the deploy engine sees it: which colour is routed, how busy and how
healthy each is, and the three moves (route to a colour, retire one, wait until one is drained).
HAProxy's runtime API is the first implementation (switch/haproxy.py); a Kubernetes Service or a
cloud load balancer can follow behind the same interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Counters:
    """A server's cumulative counters since the switch started: its responses of any status and
    the errors among them or beside them."""

    responses_5xx: int = 0
    connection_errors: int = 0
    response_errors: int = 0
    responses: int = 0  # every response it sent, 5xx included

    def minus(self, earlier: Counters) -> Counters:
        return Counters(
            self.responses_5xx - earlier.responses_5xx,
            self.connection_errors - earlier.connection_errors,
            self.response_errors - earlier.response_errors,
            self.responses - earlier.responses,
        )

    @property
    def errors(self) -> int:
        return self.responses_5xx + self.connection_errors + self.response_errors

    @property
    def requests(self) -> int:
        """Requests sent its way: those it answered and those that never got an answer."""
        return self.responses + self.connection_errors + self.response_errors


@dataclass(frozen=True)
class Server:
    """One colour as the switch sees it."""

    colour: str
    admin: str  # ready | drain | maint
    up: bool  # its health checks pass (or were forced up)
    sessions: int  # requests and connections in flight to it now
    counters: Counters
    address: str  # host:port the switch sends its requests to


class Switch(Protocol):
    def servers(self, environment: str) -> dict[str, Server]: ...

    def route(self, environment: str, colour: str, spare: str) -> None:
        """Send every new request to `colour` and none to `spare` (which keeps serving what it
        has in flight), in one command: no moment with no colour routed."""
        ...

    def retire(self, environment: str, colour: str) -> None:
        """Take `colour` out of rotation and out of health checks (nothing serves there)."""
        ...

    def wait_drained(self, environment: str, colour: str, timeout_s: float) -> bool:
        """Whether `colour` has nothing in flight within timeout_s."""
        ...
