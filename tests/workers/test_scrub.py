"""Secrets never reach GitHub: known values, token shapes and URL credentials are masked."""

from __future__ import annotations

import base64
import logging

import pytest

from workers.scrub import MASK, scrub, scrub_logs

TOKEN = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"


@pytest.mark.parametrize(
    "leak",
    [
        TOKEN,
        "ghp_" + "x" * 36,
        "gho_" + "Ab3" * 12,
        "github_pat_11ABCDEFG0" + "z" * 60,
        "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiI0MjQyIn0.c2lnbmF0dXJl",
    ],
)
def test_token_shapes_are_masked_without_being_told(leak: str) -> None:
    assert scrub(f"error: {leak} rejected") == f"error: {MASK} rejected"


def test_credentials_in_urls_are_masked() -> None:
    text = "fatal: unable to access 'https://x-access-token:s3cr3t-value@github.com/o/r.git/'"
    assert scrub(text) == "fatal: unable to access 'https://***@github.com/o/r.git/'"


def test_authorization_headers_are_masked() -> None:
    text = "> Authorization: Basic eC1hY2Nlc3MtdG9rZW46dA==\n> authorization: token abc123"
    assert scrub(text) == "> Authorization: ***\n> authorization: ***"


def test_given_values_and_their_basic_auth_form_are_masked() -> None:
    secret = "plain-looking-value-42"
    basic = base64.b64encode(f"x-access-token:{secret}".encode()).decode()
    text = f"value {secret} and header basic={basic}"
    assert scrub(text, [secret]) == f"value {MASK} and header basic={MASK}"


def test_ordinary_text_and_empty_secrets_are_left_alone() -> None:
    text = "3 lint problems in bot/app.py:12 (see https://github.com/o/r/pull/1)"
    assert scrub(text, ["", ""]) == text


def test_log_records_are_scrubbed_before_any_handler_sees_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    factory = logging.getLogRecordFactory()
    try:
        scrub_logs(["hunter2-secret-value"])
        with caplog.at_level(logging.WARNING):
            logging.getLogger("workers.test").warning(
                "pushing with %s and ghs_%s", "hunter2-secret-value", "A" * 36
            )
    finally:
        logging.setLogRecordFactory(factory)
    assert caplog.messages == ["pushing with *** and ***"]


@pytest.mark.parametrize(
    "form",
    [
        TOKEN[::-1],
        base64.b64encode(TOKEN.encode()).decode(),
        base64.b64encode(b"token=" + TOKEN.encode()).decode(),
        base64.urlsafe_b64encode(b"xy" + TOKEN.encode()).decode(),
        TOKEN.removeprefix("ghs_"),
        TOKEN.removeprefix("ghs_")[::-1],
        "ghs_16C7e42F292c6912E7710c838347Ae178B4a".replace("_", "%5F"),
        TOKEN.encode().hex(),
    ],
)
def test_a_known_secret_is_masked_in_the_forms_a_test_could_print_it_in(form: str) -> None:
    shown = scrub(f"leaked: {form} (end)", [TOKEN])
    # At most the few characters a base64 group shares with its neighbours survive.
    assert not any(TOKEN[i : i + 8] in shown for i in range(len(TOKEN) - 8))
    assert MASK in shown
    assert len(shown) < len(f"leaked: {form} (end)") - 20
