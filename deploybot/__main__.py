"""`python -m deploybot` is the `deploybot` command."""

import sys

from deploybot.cli import main

sys.exit(main())
