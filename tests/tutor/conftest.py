"""Shared fixtures for the tutor's tests."""

from __future__ import annotations

import pytest

from tutor.verify import DEFAULT_TABLE_PATH, ConjugationTable


@pytest.fixture(scope="module")
def table() -> ConjugationTable:
    return ConjugationTable.load(DEFAULT_TABLE_PATH)
