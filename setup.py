"""Which packages an install carries: the product always; the test kit (testkit/: the fake
GitHub, its schema, loopback helpers) only in a development install (`pip install -e`), where the
tests, the benchmarks and `deploybot demo` use it. A wheel or a plain `pip install .` ships the
product alone. Everything else about the project is in pyproject.toml."""

import sys

from setuptools import find_packages, setup

PRODUCT = ["core", "bot", "workers", "deploy", "tutor", "deploybot"]
TEST_KIT = ["testkit"]
# setuptools builds an editable install (PEP 660) with its editable_wheel command.
DEVELOPMENT = "editable_wheel" in sys.argv

included = PRODUCT + (TEST_KIT if DEVELOPMENT else [])
setup(packages=find_packages(include=[*included, *(f"{name}.*" for name in included)]))
