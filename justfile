# deploybot task runner. Recipe names follow the CI matrix in data/ci-matrix.yaml.
set shell := ["bash", "-euo", "pipefail", "-c"]
# Recipe arguments reach the commands as "$@", each one intact: `just test -m "not docker"`.
set positional-arguments := true

python := env_var_or_default("PYTHON", "python3")
packages := "core bot workers deploy tutor deploybot benchmarks tests"

# List the recipes.
default:
    @just --list

# Install the project with every extra the suite needs.
install:
    {{python}} -m pip install -q -e '.[dev,train]'

# ruff over the whole tree, and the layering contracts of docs/architecture.md (import-linter).
lint:
    ruff check .
    ruff format --check .
    lint-imports --no-cache

# mypy --strict over the packages and the tests.
typecheck:
    mypy

# The whole test suite (the README's test command runs this through .ci/run).
test *args:
    {{python}} -m pytest "$@"

# bandit, and pip-audit reported honestly: exit 78 (neutral) when it could not audit packages.
security *args:
    {{python}} tools/security.py "$@"

# Train the tutor's model (deterministic; writes models/tutor.safetensors, ~8 min on two cores).
train *args:
    {{python}} -m tutor.train "$@"

# The tutor's eval suite; exits non-zero below the threshold.
eval *args:
    {{python}} -m tutor.eval "$@"

# The full eval suite (nightly and on release tags): retrain from the settings recorded in the
# committed weights and require the same bytes, then the gated eval suites.
eval-full *args:
    {{python}} -m tutor.train --verify
    {{python}} -m tutor.eval --gate-threshold 0.95 "$@"

# Drift from the committed model's baseline scores (weekly; alerts, never blocks): a score that
# moved without failing the gate is noticed.
drift-check *args:
    {{python}} -m tutor.eval --gate-threshold 0.95 --previous-report models/tutor.eval.json --max-relative-drop 0.02 "$@"

# Documentation drift: links resolve, recipes and settings named in the docs exist.
docs:
    {{python}} tools/check_docs.py

# Benchmarks, each beside a baseline measured in the same run.
bench *args:
    {{python}} -m benchmarks "$@"

# Build the offline base image (once) and tutor:<commit> on it.
build-image *args:
    {{python}} -m deploy.images tutor "$@"

# Stage the current commit: build, push (DEPLOYBOT_REGISTRY) and gate it (`deploybot release`).
push *args:
    deploybot release HEAD "$@"

# Roll an environment back to its last good release.
rollback *args:
    deploybot rollback "$@"

# The embedded demo: bot, worker, fake GitHub and tutor in one process.
demo:
    deploybot demo
