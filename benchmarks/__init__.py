"""Benchmarks run by `just bench`: figures beside a baseline measured in the same run."""
