"""Secrets never reach GitHub: known values, token shapes and URL credentials are masked."""

from __future__ import annotations

import base64

import pytest

from workers.scrub import MASK, scrub

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
