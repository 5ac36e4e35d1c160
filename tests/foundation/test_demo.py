"""The README's first command: the embedded demo runs a pull request's CI end to end."""

from __future__ import annotations

import os
import subprocess
import sys


def test_demo_runs_a_pipeline_and_answers_a_command() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEPLOYBOT_")}
    done = subprocess.run(
        [sys.executable, "-m", "deploybot", "demo"],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    # The contributor's view: one check run per stage with the right conclusion and annotations.
    assert "deploybot/lint       failure    1 lint problem" in out
    assert "greet.py:6 Line too long" in out
    assert "deploybot/test       success" in out
    assert "deploybot/eval       skipped" in out
    assert "deploybot CI for" in out
    assert "- `/rollback [env] [to <sha>]`" in out
    assert "none was refused" in out
