"""What the receiver, the workers, the demo and the tests name the same way on GitHub: the check
runs' names, the Roll back button's identifier, and the markers hidden in the bot's comments
that it finds them by again."""

from __future__ import annotations

from typing import Final

CHECK_PREFIX: Final = "deploybot/"
# The check run of a deploy or rollback from GitHub, which carries the Roll back button.
DEPLOY_CHECK: Final = CHECK_PREFIX + "deploy"
ROLLBACK_ACTION: Final = "rollback"
# The first line of the pull request's CI summary comment, and of a deploy's on-call summary.
CI_SUMMARY_MARKER: Final = "<!-- deploybot:summary -->"
DEPLOY_SUMMARY_MARKER: Final = "<!-- deploybot:deploy-summary -->"


def check_name(stage: str) -> str:
    """The check run's name for a stage of the CI matrix (or a release's)."""
    return CHECK_PREFIX + stage
