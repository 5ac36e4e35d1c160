"""The task contract: each entry has exactly one registered worker task, accepting exactly its
arguments and receiving them as the typed message."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
from pathlib import Path

import pytest

from core import contract
from core.errors import PayloadError
from core.settings import Settings
from workers.app import TASKS, create_worker_app


def test_every_worker_task_is_an_entry_of_the_contract_and_every_entry_is_registered() -> None:
    app = create_worker_app(Settings())
    ours = {name for name in app.tasks if not name.startswith("celery.")}
    assert ours == {kind.NAME for kind in contract.CONTRACT}
    assert set(TASKS) == set(contract.CONTRACT)
    assert len(contract.BY_NAME) == len(contract.CONTRACT)  # no two entries share a name


@pytest.mark.parametrize("kind", contract.CONTRACT, ids=lambda kind: kind.NAME)
def test_the_task_accepts_exactly_the_arguments_of_its_entry(kind: type[contract.Message]) -> None:
    app = create_worker_app(Settings())
    task = app.tasks[kind.NAME]
    parameters = inspect.signature(task.run).parameters
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())
    fields = {f.name: f for f in dataclasses.fields(kind)}
    assert parameters.keys() == fields.keys()
    for name, parameter in parameters.items():
        required = fields[name].default is dataclasses.MISSING
        assert (parameter.default is inspect.Parameter.empty) == required, name
    assert app.conf.task_routes[kind.NAME] == {"queue": kind.QUEUE}


@pytest.mark.parametrize("kind", contract.CONTRACT, ids=lambda kind: kind.NAME)
def test_the_handler_receives_its_entry_and_is_importable_by_its_path(
    kind: type[contract.Message],
) -> None:
    handler = TASKS[kind]
    module = importlib.import_module(handler.__module__)
    assert getattr(module, handler.__name__) is handler
    # Read from the module itself: Celery's Task is generic to the type checker only.
    annotation = inspect.signature(handler).parameters["message"].annotation
    assert getattr(module, str(annotation)) is kind


def test_a_message_travels_as_its_kwargs_and_comes_back_equal() -> None:
    sent = contract.RunCommand(
        installation_id=1,
        repo="o/r",
        pr_number=2,
        comment_id=3,
        sender="boss",
        command="rollback",
        env="production",
        sha="abc1234",
        delivery_id="d",
        received_at="2026-12-01T10:00:00+00:00",
    )
    assert contract.parse(sent.NAME, sent.kwargs()) == sent


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"trigger": "nightly", "when": "now"}, "unknown arguments when"),
        ({}, "argument trigger is missing"),
        ({"trigger": 3}, "argument trigger must be"),
    ],
)
def test_a_message_that_does_not_fit_its_entry_is_refused_by_name(
    kwargs: dict[str, object], problem: str
) -> None:
    with pytest.raises(PayloadError, match=problem):
        contract.parse(contract.Scheduled.NAME, kwargs)


def test_an_id_is_never_a_boolean_and_an_unknown_task_is_refused() -> None:
    with pytest.raises(PayloadError, match="installation_id must be"):
        contract.RecordPush.from_kwargs(
            {"installation_id": True, "repo": "o/r", "branch": "main", "sha": "a" * 40}
            | {"delivery_id": "d"}
        )
    with pytest.raises(PayloadError, match="not a task of the contract"):
        contract.parse("workers.nosuch", {})


def test_the_receivers_job_table_in_bot_readme_is_the_contract() -> None:
    readme = (Path(__file__).resolve().parents[1] / "bot" / "README.md").read_text("utf-8")
    rows = re.findall(r"^\| `(workers\.[a-z_.]+)` \| (\w+) \| `([a-z_, ]+)` \|$", readme, re.M)
    listed = {name: (queue, args.split(", ")) for name, queue, args in rows}
    for name, (queue, args) in listed.items():
        kind = contract.BY_NAME[name]
        fields = [f.name for f in dataclasses.fields(kind) if f.name != "delivery_id"]
        assert (queue, args) == (kind.QUEUE, fields), name
    internal = {
        contract.Recover,
        contract.Scheduled,
        contract.ScheduledRepo,
        contract.RunDeploy,
        contract.FailedOver,
    }
    assert set(listed) == {kind.NAME for kind in contract.CONTRACT if kind not in internal}
