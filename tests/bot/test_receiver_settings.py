"""The receiver's settings: CI on drafts and the environments commands accept."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from core.settings import Settings


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert (settings.run_on_draft, settings.environments) == (True, ("production",))


@pytest.mark.parametrize(("text", "value"), [("false", False), ("0", False), ("YES", True)])
def test_run_on_draft(text: str, value: bool) -> None:
    assert Settings.from_env({"DEPLOYBOT_RUN_ON_DRAFT": text}).run_on_draft is value


def test_environments_are_normalised_in_order() -> None:
    settings = Settings.from_env({"DEPLOYBOT_ENVIRONMENTS": " Staging, production ,staging"})
    assert settings.environments == ("staging", "production")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("DEPLOYBOT_RUN_ON_DRAFT", "maybe"),
        ("DEPLOYBOT_ENVIRONMENTS", ","),
        ("DEPLOYBOT_ENVIRONMENTS", "prod;rm"),
        ("DEPLOYBOT_ENVIRONMENTS", "a" * 41),
    ],
)
def test_bad_values_name_the_variable(name: str, text: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: text})
