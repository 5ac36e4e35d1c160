"""Celery task names and queues: the receiver sends by name so it never imports worker code."""

from __future__ import annotations

from typing import Final

QUEUE_DEFAULT: Final = "default"
# Stages and deploys run for minutes; a queue of their own keeps webhook-driven quick work moving.
QUEUE_LONG: Final = "long"

# Sent by the receiver (bot/); each carries only ids and small data, see bot/README.md.
PIPELINE: Final = "workers.pipeline.run"
RERUN: Final = "workers.pipeline.rerun"
RELEASE: Final = "workers.release.run"
COMMAND: Final = "workers.commands.run"
COMMAND_HELP: Final = "workers.commands.help"
CHECK_RUN_ACTION: Final = "workers.commands.check_run_action"
RECORD_MERGE: Final = "workers.records.merge"
RECORD_PUSH: Final = "workers.records.push"
RECORD_INSTALLATION: Final = "workers.records.installation"

# Where each task goes: minutes-long work on QUEUE_LONG, quick replies and records on QUEUE_DEFAULT.
QUEUE_OF: Final[dict[str, str]] = {
    PIPELINE: QUEUE_LONG,
    RERUN: QUEUE_LONG,
    RELEASE: QUEUE_LONG,
    COMMAND: QUEUE_DEFAULT,
    COMMAND_HELP: QUEUE_DEFAULT,
    CHECK_RUN_ACTION: QUEUE_DEFAULT,
    RECORD_MERGE: QUEUE_DEFAULT,
    RECORD_PUSH: QUEUE_DEFAULT,
    RECORD_INSTALLATION: QUEUE_DEFAULT,
}
