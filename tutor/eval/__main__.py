"""Entry point: python -m tutor.eval --gate-threshold 0.95 [--report PATH] [--checker KIND]."""

from tutor.eval.runner import main

raise SystemExit(main())
