"""Settings come from DEPLOYBOT_* variables, with errors that name the variable and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import Settings

KEY = "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LWtleS1ib2R5\n-----END RSA PRIVATE KEY-----\n"


def test_defaults_and_secret_refusal() -> None:
    settings = Settings.from_env({})
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.github_api_url == "https://api.github.com"
    with pytest.raises(ConfigError, match="DEPLOYBOT_WEBHOOK_SECRET is not set"):
        settings.require_webhook_secret()
    with pytest.raises(
        ConfigError, match="DEPLOYBOT_GITHUB_APP_ID and DEPLOYBOT_GITHUB_PRIVATE_KEY"
    ):
        settings.require_app_credentials()


def test_full_configuration_keeps_secrets_out_of_repr(tmp_path: Path) -> None:
    key_file = tmp_path / "app.pem"
    key_file.write_text(KEY)
    settings = Settings.from_env(
        {
            "DEPLOYBOT_WEBHOOK_SECRET": "s3cret-value",
            "DEPLOYBOT_GITHUB_APP_ID": "12345",
            "DEPLOYBOT_GITHUB_PRIVATE_KEY_PATH": str(key_file),
            "DEPLOYBOT_GITHUB_API_URL": "https://ghes.example.com/api/v3/",
            "DEPLOYBOT_REDIS_URL": "redis://:hunter2@127.0.0.1:6379/3",
        }
    )
    assert settings.require_app_credentials() == (12345, KEY)
    assert settings.github_api_url == "https://ghes.example.com/api/v3"
    shown = repr(settings) + str(settings.describe())
    for secret in ("s3cret-value", "c2VjcmV0LWtleS1ib2R5", "hunter2"):
        assert secret not in shown


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEPLOYBOT_REDIS_URL": "http://127.0.0.1:6379"}, "not a Redis URL"),
        ({"DEPLOYBOT_GITHUB_API_URL": "api.github.com"}, "must be an http"),
        ({"DEPLOYBOT_GITHUB_APP_ID": "deploybot"}, "numeric id"),
        ({"DEPLOYBOT_GITHUB_PRIVATE_KEY": "not a key"}, "not a PEM key"),
        ({"DEPLOYBOT_GITHUB_PRIVATE_KEY_PATH": "/nonexistent/app.pem"}, "cannot be read"),
        (
            {"DEPLOYBOT_GITHUB_PRIVATE_KEY": KEY, "DEPLOYBOT_GITHUB_PRIVATE_KEY_PATH": "/x"},
            "only one of",
        ),
    ],
)
def test_malformed_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_escaped_newlines_in_an_inline_key_are_restored() -> None:
    inline = KEY.strip().replace("\n", "\\n")
    assert Settings.from_env({"DEPLOYBOT_GITHUB_PRIVATE_KEY": inline}).github_private_key == KEY
