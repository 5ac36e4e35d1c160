"""Serve the tutor: python -m tutor (binds $HOST, default 127.0.0.1, and $PORT, default 8000)."""

from __future__ import annotations

import os

# One BLAS thread: the forward pass multiplies small matrices, and idle BLAS threads spinning
# beside other busy processes cost far more than they give (measured p50 16 ms against 0.9 ms).
# numpy reads these when it is first imported, so they are set before the app is.
SERVING_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def main() -> None:
    for name, value in SERVING_ENV.items():
        os.environ.setdefault(name, value)
    import uvicorn

    from tutor.app import create_app

    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    uvicorn.run(create_app(), host=host, port=port, log_level="info")


if __name__ == "__main__":
    main()
