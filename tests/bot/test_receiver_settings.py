"""The receiver's settings: CI on drafts; a retired setting is refused, not ignored."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from core.settings import Settings


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.run_on_draft is True


@pytest.mark.parametrize(("text", "value"), [("false", False), ("0", False), ("YES", True)])
def test_run_on_draft(text: str, value: bool) -> None:
    assert Settings.from_env({"DEPLOYBOT_RUN_ON_DRAFT": text}).run_on_draft is value


def test_the_retired_environments_setting_is_refused_with_what_replaced_it() -> None:
    with pytest.raises(
        ConfigError, match=r"DEPLOYBOT_ENVIRONMENTS is no longer read.*deploy\.yaml"
    ):
        Settings.from_env({"DEPLOYBOT_ENVIRONMENTS": "production,staging"})


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("DEPLOYBOT_RUN_ON_DRAFT", "maybe"),
    ],
)
def test_bad_values_name_the_variable(name: str, text: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: text})


def test_a_child_process_is_configured_exactly_as_its_parent() -> None:
    settings = Settings.from_env(
        {
            "DEPLOYBOT_WEBHOOK_SECRET": "s" * 20,
            "DEPLOYBOT_RUN_ON_DRAFT": "false",
            "DEPLOYBOT_ONCALL_ISSUE": "12",
            "DEPLOYBOT_DEPLOY_LEASE_S": "2.5",
            "DEPLOYBOT_REGISTRY": "127.0.0.1:5000",
            "DEPLOYBOT_GIT_URL": "file:///srv/{repo}",
        }
    )
    assert Settings.from_env(settings.environ()) == settings
    assert Settings.from_env(Settings().environ()) == Settings()
