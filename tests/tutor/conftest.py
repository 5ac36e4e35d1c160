"""Shared fixtures for the tutor's tests."""

from __future__ import annotations

import pytest

from tutor.checker import TableChecker, load_checker
from tutor.verify import DEFAULT_TABLE_PATH, ConjugationTable


@pytest.fixture(scope="module")
def table() -> ConjugationTable:
    return ConjugationTable.load(DEFAULT_TABLE_PATH)


# Loaded once for the whole run: the checkers hold no state between sentences.
@pytest.fixture(scope="session")
def model_checker() -> TableChecker:
    return load_checker("model")


@pytest.fixture(scope="session")
def table_only() -> TableChecker:
    return load_checker("table-only")
