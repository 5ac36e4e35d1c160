"""The status page: the fixed ledger's figures as worked out by hand, every value escaped, no
script or external asset, and the same data as JSON."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, replace
from pathlib import Path

from deploybot.status_page import DEFINITIONS, collect, render
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
