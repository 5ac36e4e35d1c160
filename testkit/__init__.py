"""deploybot's test kit: the fake GitHub, loopback helpers and in-thread serving.

Not part of the product: no product module imports it (import-linter says so), a built wheel
does not contain it, and `pip install .` does not bring its dependencies; the tests, the
benchmarks and `deploybot demo` use it from a development install (`pip install -e '.[dev]'`
or `'.[demo]'`).
"""
