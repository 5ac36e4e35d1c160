"""The status page: the fixed ledger's figures as worked out by hand, every value escaped, no
script or external asset, and the same data as JSON."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from starlette.testclient import TestClient

from core.settings import Settings, unconfigured
from deploy.ledger import END, FINISH, Entry
from deploybot.status_page import DEFINITIONS, collect, render, web_app
from tests.conftest import run_deploybot
from tests.deploys.test_dora import LEDGER, NOW


def _data_dir(tmp_path: Path, name: str = "production") -> Path:
    ledger = tmp_path / "ledger" / f"{name}.jsonl"
    ledger.parent.mkdir(parents=True)
    entries = [replace(e, by="boss (#7)") for e in LEDGER]
    ledger.write_text("".join(json.dumps(asdict(e)) + "\n" for e in entries))
    return tmp_path


def test_the_page_shows_what_is_live_and_the_figures_worked_out_by_hand(tmp_path: Path) -> None:
    status = collect(_data_dir(tmp_path), None, NOW)
    [env] = status["environments"]
    assert env["live"]["commit"] == "a" * 40  # the rollback put A back
    assert env["spare"] == {"colour": "blue", "commit": "c" * 40}
    assert env["dora"]["7"]["change_failure_rate"] == 2 / 3
    assert env["dora"]["30"]["lead_time_s"] == 5400
    assert [r["kind"] for r in env["recent"]][:2] == ["rollback", "deploy"]
    assert sum(day["deploys"] for day in env["daily"]) == 4
    page = render(status)
    assert "<h2>production</h2>" in page
    assert "67% (2/3)" in page  # 7-day change failure rate
    assert "<td>2.0 h</td><td>90 min</td>" in page  # lead time: 7,200 s and 5,400 s
    assert "75 s" in page  # time to restore
    for name in DEFINITIONS:
        assert f"<dt>{name}</dt>" in page
    assert "<svg" in page
    assert "<script" not in page
    assert not re.search(r"(src|href)=\"?https?:", page)  # nothing fetched from elsewhere
    assert json.loads(json.dumps(status)) == status  # what /api/status sends


def test_every_value_on_the_page_is_escaped(tmp_path: Path) -> None:
    status = collect(_data_dir(tmp_path), None, NOW)
    status["environments"][0]["live"]["by"] = '<img src=x onerror="alert(1)">'
    page = render(status)
    assert "<img" not in page
    assert "&lt;img src=x" in page


def test_no_ledger_yet_says_so(tmp_path: Path) -> None:
    page = render(collect(tmp_path, None, NOW))
    assert "No environment has been deployed to yet." in page


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = unconfigured(os.environ)
    return run_deploybot(*args, env={**env, "DEPLOYBOT_DATA_DIR": str(data_dir)})


def test_history_and_metrics_say_the_same_from_the_command_line(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    live, committed = (now - timedelta(hours=2)).isoformat(), (now - timedelta(hours=3)).isoformat()
    ledger = tmp_path / "ledger" / "production.jsonl"
    ledger.parent.mkdir(parents=True)
    entries = [
        Entry("d1", "deploy", "resolve", END, "a" * 40, at=live, extra={"committed_at": committed}),
        Entry("d1", "deploy", "flip", END, "a" * 40, colour="blue", at=live, by="boss (#3)"),
        Entry("d1", "deploy", FINISH, END, "a" * 40, outcome="done", at=live, by="boss (#3)"),
    ]
    ledger.write_text("".join(json.dumps(asdict(e)) + "\n" for e in entries))

    history = _cli(tmp_path, "history", "--json")
    assert history.returncode == 0, history.stderr
    [run] = json.loads(history.stdout)["production"]
    assert (run["kind"], run["commit"], run["outcome"], run["by"]) == (
        "deploy",
        "a" * 40,
        "done",
        "boss (#3)",
    )
    figures = json.loads(_cli(tmp_path, "metrics", "--json").stdout)["production"]
    assert (figures["7"]["deploys"], figures["7"]["lead_time_s"]) == (1, 3600)
    rows = [line.split() for line in _cli(tmp_path, "metrics").stdout.splitlines()]
    # window, deploys, per day, days with one, lead time, change failure rate, time to restore
    assert ["7", "days", "1", "0.14", "1", "60", "min", "0%", "—"] in rows
    shown = _cli(tmp_path, "history").stdout
    assert "a" * 12 in shown
    assert "boss (#3)" in shown
    missing = _cli(tmp_path, "history", "--env", "staging")
    assert missing.returncode == 1
    assert "no ledger for 'staging'" in missing.stderr


def test_a_damaged_ledger_line_breaks_no_page_and_no_other_environment(
    settings: Settings,
) -> None:
    # staging: an intact copy; production: one byte damaged in a line that changes nothing.
    ledgers = _data_dir(settings.data_dir) / "ledger"
    (ledgers / "staging.jsonl").write_bytes((ledgers / "production.jsonl").read_bytes())
    lines = (ledgers / "production.jsonl").read_bytes().split(b"\n")
    lines[0] = lines[0][:5] + b"\xff" + lines[0][6:]
    (ledgers / "production.jsonl").write_bytes(b"\n".join(lines))

    with TestClient(web_app(settings).status) as client:
        for path in ("/", "/api/status", "/metrics"):
            assert client.get(path).status_code == 200, path
        found = {env["name"]: env for env in client.get("/api/status").json()["environments"]}
        metrics = client.get("/metrics").text
    assert set(found) == {"production", "staging"}
    assert found["production"]["live"]["commit"] == found["staging"]["live"]["commit"]
    for name in ("production", "staging"):
        assert f'deploybot_dora_deploys{{environment="{name}",window="7d"}}' in metrics
