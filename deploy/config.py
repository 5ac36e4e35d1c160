"""data/deploy.yaml: one entry per environment, validated with file:line errors (unknown keys are
errors). The one source of environment names: the first one is the default of every command.

    environments:
      production:
        front: 127.0.0.1:8080                # where users reach the tutor (HAProxy's frontend)
        colours: {blue: 127.0.0.1:8081, green: 127.0.0.1:8082}
        runtime: docker                      # docker | process
        image: tutor                         # the image repository (tags are commit SHAs)
        health: {path: /healthz, successes: 3, timeout_s: 30}
        smoke: {sentence: "Yo hablo español.", expect_verdict: correct}
        bake_s: 600
        bake_alert: {error_rate: 0.05, min_requests: 20}   # when errors during the bake alert
        gate: {threshold: 0.95, max_relative_drop: 0.02}
        permission: write                    # least repository permission for /deploy, /rollback
        lock: queue                          # queue | refuse a /deploy while another runs
        switch: haproxy                      # haproxy | embedded (the demo's stand-in)
        override_permission: admin           # least permission for --accept-inconclusive and
                                             # --break-glass from a pull request
        freeze:                              # deploys held (rollbacks never are)
          - {cron: "0 17 * * 5", duration: 2d15h, timezone: Europe/Madrid, reason: weekend}
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

from yaml.nodes import Node

from core import commands
from core.errors import ConfigFileError
from core.yamlfile import Reader
from deploy.freeze import Window, problem
from deploy.gate import Policy

DEFAULT_PATH: Final = "data/deploy.yaml"
COLOURS: Final = ("blue", "green")
RUNTIMES: Final = ("docker", "process")
PERMISSIONS: Final = ("read", "write", "admin")
LOCKS: Final = ("queue", "refuse")
# The traffic switch: HAProxy (deploybot proxy), or the embedded demo's in-process stand-in.
SWITCHES: Final = ("haproxy", "embedded")
VERDICTS: Final = ("correct", "incorrect", "no_verb_found")
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}")
_ADDRESS = re.compile(r"([A-Za-z0-9.-]+):([0-9]{1,5})")
# The health path reaches HAProxy's configuration (`option httpchk GET <path>`): URL characters
# only, none that HAProxy's parser reads as a separator, a quote, a comment or a variable.
_PATH = re.compile(r"/[A-Za-z0-9._~/%?=&+,:@-]{0,200}")
_ENV_KEYS: Final = frozenset(
    {
        "front",
        "colours",
        "runtime",
        "image",
        "health",
        "smoke",
        "bake_s",
        "bake_alert",
        "gate",
        "permission",
        "lock",
        "switch",
        "override_permission",
        "freeze",
    }
)


class DeployConfigError(ConfigFileError):
    """A malformed deploy.yaml; str(error) is "<file>:<line>: <reason>"."""


@dataclass(frozen=True)
class Address:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass(frozen=True)
class Health:
    path: str = "/healthz"
    successes: int = 3
    timeout_s: float = 30.0


@dataclass(frozen=True)
class BakeAlert:
    """When the errors the switch counts from the new colour during its bake alert: a share of
    its requests over `error_rate` once it has served `min_requests` (so one bad request, or one
    hostile client, never flips a release back)."""

    error_rate: float = 0.05
    min_requests: int = 20


@dataclass(frozen=True)
class Smoke:
    sentence: str = "Yo hablo español."
    expect_verdict: str = "correct"


@dataclass(frozen=True)
class Environment:
    name: str
    front: Address
    colours: dict[str, Address]
    runtime: str = "docker"
    image: str = "tutor"
    health: Health = field(default_factory=Health)
    smoke: Smoke = field(default_factory=Smoke)
    bake_s: float = 600.0
    bake_alert: BakeAlert = field(default_factory=BakeAlert)
    gate: Policy = field(default_factory=Policy)
    permission: str = "write"
    lock: Literal["queue", "refuse"] = "queue"
    switch: Literal["haproxy", "embedded"] = "haproxy"
    override_permission: str = "admin"
    freeze: tuple[Window, ...] = ()

    def other(self, colour: str) -> str:
        """The colour that is not `colour`."""
        return COLOURS[1 - COLOURS.index(colour)]


@dataclass(frozen=True)
class DeployConfig:
    environments: dict[str, Environment]

    @property
    def default(self) -> Environment:
        return next(iter(self.environments.values()))

    def switched_by(self, switch: str) -> list[Environment]:
        """The environments whose traffic `switch` carries."""
        return [env for env in self.environments.values() if env.switch == switch]

    def environment(self, name: str | None) -> Environment:
        """The named environment (the default for None); KeyError listing the known ones."""
        if name is None:
            return self.default
        try:
            return self.environments[name]
        except KeyError:
            known = ", ".join(self.environments)
            raise KeyError(f"no environment {name!r} in deploy.yaml (known: {known})") from None


def load_config(text: str, source: str = DEFAULT_PATH) -> DeployConfig:
    """Parse and validate deploy.yaml; DeployConfigError says which line is wrong and why."""
    reader = Reader(source, DeployConfigError)
    root = reader.compose(text, "a mapping with 'environments'")
    top = reader.mapping(root, "deploy.yaml", frozenset({"environments"}))
    if "environments" not in top:
        raise reader.fail(root, "deploy.yaml has no 'environments'")
    entries = reader.mapping(top["environments"], "environments", None)
    if not entries:
        raise reader.fail(top["environments"], "environments is empty")
    environments: dict[str, Environment] = {}
    for name, node in entries.items():
        if not _NAME.fullmatch(name):
            raise reader.fail(
                node, f"environment name {name!r} must be lower-case letters, digits, '_', '.', '-'"
            )
        environments[name] = _environment(reader, name, node)
    _distinct_ports(reader, top["environments"], environments)
    return DeployConfig(environments)


def _address(reader: Reader, node: Node, what: str) -> Address:
    text = reader.string(node, f"{what} (host:port)")
    match = _ADDRESS.fullmatch(text)
    if match is None or not 0 < int(match.group(2)) < 65536:
        raise reader.fail(node, f"{what} must be host:port, e.g. 127.0.0.1:8080; got {text!r}")
    return Address(match.group(1), int(match.group(2)))


def _choice(reader: Reader, node: Node, what: str, choices: tuple[str, ...]) -> str:
    value = reader.string(node, what)
    if value not in choices:
        raise reader.fail(node, f"{what} must be one of {', '.join(choices)}; got {value!r}")
    return value


def _environment(reader: Reader, name: str, node: Node) -> Environment:
    what = f"environment {name!r}"
    fields = reader.mapping(node, what, _ENV_KEYS)
    for key in ("front", "colours"):
        if key not in fields:
            raise reader.fail(node, f"{what} has no {key!r}")
    colour_nodes = reader.mapping(fields["colours"], f"{what}: colours", frozenset(COLOURS))
    missing = [c for c in COLOURS if c not in colour_nodes]
    if missing:
        raise reader.fail(fields["colours"], f"{what}: colours needs {' and '.join(COLOURS)}")
    env = Environment(
        name=name,
        front=_address(reader, fields["front"], f"{what}: front"),
        colours={c: _address(reader, colour_nodes[c], f"{what}: colours.{c}") for c in COLOURS},
    )
    return _optional(reader, fields, what, env)


def _optional(reader: Reader, fields: dict[str, Node], what: str, env: Environment) -> Environment:
    parsers: dict[str, Callable[[Node, str], Any]] = {
        "runtime": lambda node, name: _choice(reader, node, name, RUNTIMES),
        "image": lambda node, name: reader.string(node, name),
        "permission": lambda node, name: _choice(reader, node, name, PERMISSIONS),
        "lock": lambda node, name: _choice(reader, node, name, LOCKS),
        "switch": lambda node, name: _choice(reader, node, name, SWITCHES),
        "bake_s": lambda node, name: _positive(reader, node, name, zero=True),
        "bake_alert": lambda node, name: _bake_alert(reader, node, name),
        "health": lambda node, name: _health(reader, node, name),
        "smoke": lambda node, name: _smoke(reader, node, name),
        "gate": lambda node, name: _gate(reader, node, name),
        "override_permission": lambda node, name: _choice(reader, node, name, PERMISSIONS),
        "freeze": lambda node, name: _freeze(reader, node, name),
    }
    changes = {
        key: parse(fields[key], f"{what}: {key}") for key, parse in parsers.items() if key in fields
    }
    return replace(env, **changes)


def _positive(reader: Reader, node: Node, what: str, *, zero: bool = False) -> float:
    value = reader.number(node, what)
    if value < 0 or (value == 0 and not zero):
        raise reader.fail(node, f"{what} must be {'zero or more' if zero else 'positive'}")
    return value


def _health(reader: Reader, node: Node, what: str) -> Health:
    fields = reader.mapping(node, what, frozenset({"path", "successes", "timeout_s"}))
    health = Health()
    path = reader.string(fields["path"], f"{what}.path") if "path" in fields else health.path
    if not path.startswith("/"):
        raise reader.fail(fields["path"], f"{what}.path must start with /")
    if not _PATH.fullmatch(path):
        raise reader.fail(
            fields["path"],
            f"{what}.path {path!r} may hold only letters, digits and ._~/%?=&+,:@- "
            "(no spaces, quotes or control characters: it goes into HAProxy's configuration)",
        )
    successes = health.successes
    if "successes" in fields:
        successes = reader.integer(fields["successes"], f"{what}.successes")
        if successes < 1:
            raise reader.fail(fields["successes"], f"{what}.successes must be at least 1")
    timeout = health.timeout_s
    if "timeout_s" in fields:
        timeout = _positive(reader, fields["timeout_s"], f"{what}.timeout_s")
    return Health(path, successes, timeout)


def _bake_alert(reader: Reader, node: Node, what: str) -> BakeAlert:
    fields = reader.mapping(node, what, frozenset({"error_rate", "min_requests"}))
    alert = BakeAlert()
    rate = alert.error_rate
    if "error_rate" in fields:
        rate = reader.number(fields["error_rate"], f"{what}.error_rate")
        if not 0 <= rate < 1:
            raise reader.fail(fields["error_rate"], f"{what}.error_rate must be from 0 to below 1")
    least = alert.min_requests
    if "min_requests" in fields:
        least = reader.integer(fields["min_requests"], f"{what}.min_requests")
        if least < 1:
            raise reader.fail(fields["min_requests"], f"{what}.min_requests must be at least 1")
    return BakeAlert(rate, least)


def _smoke(reader: Reader, node: Node, what: str) -> Smoke:
    fields = reader.mapping(node, what, frozenset({"sentence", "expect_verdict"}))
    smoke = Smoke()
    sentence = smoke.sentence
    if "sentence" in fields:
        sentence = reader.string(fields["sentence"], f"{what}.sentence")
    verdict = smoke.expect_verdict
    if "expect_verdict" in fields:
        verdict = _choice(reader, fields["expect_verdict"], f"{what}.expect_verdict", VERDICTS)
    return Smoke(sentence, verdict)


def _gate(reader: Reader, node: Node, what: str) -> Policy:
    fields = reader.mapping(node, what, frozenset({"threshold", "max_relative_drop"}))
    policy = Policy()
    values = {"threshold": policy.threshold, "max_relative_drop": policy.max_relative_drop}
    for key in values:
        if key in fields:
            value = reader.number(fields[key], f"{what}.{key}")
            if not 0 <= value <= 1:
                raise reader.fail(fields[key], f"{what}.{key} must be between 0 and 1")
            values[key] = value
    return Policy(threshold=values["threshold"], max_relative_drop=values["max_relative_drop"])


def _freeze(reader: Reader, node: Node, what: str) -> tuple[Window, ...]:
    entries = reader.sequence(node, f"{what} (a list of windows)")
    windows = []
    keys = frozenset({"cron", "duration", "timezone", "reason"})
    for at, entry in enumerate(entries):
        name = f"{what}[{at}]"
        fields = reader.mapping(entry, name, keys)
        missing = sorted(keys - set(fields))
        if missing:
            raise reader.fail(entry, f"{name} needs {', '.join(missing)}")
        cron, duration, timezone, reason = (
            reader.string(fields[key], f"{name}.{key}")
            for key in ("cron", "duration", "timezone", "reason")
        )
        wrong = problem(cron, duration, timezone)
        if wrong is not None:
            raise reader.fail(entry, f"{name}: {wrong}")
        said = commands.reason(reason.split())
        if said is None:
            raise reader.fail(
                fields["reason"], f"{name}.reason says why deploys wait. {commands.REASON_HELP}"
            )
        windows.append(Window(cron, duration, timezone, said))
    return tuple(windows)


def _distinct_ports(reader: Reader, node: Node, environments: dict[str, Environment]) -> None:
    seen: dict[int, str] = {}
    for env in environments.values():
        for role, address in [("front", env.front), *env.colours.items()]:
            owner = f"{env.name} {role}"
            if address.port in seen:
                raise reader.fail(
                    node, f"port {address.port} is both {seen[address.port]} and {owner}"
                )
            seen[address.port] = owner
