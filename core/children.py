"""Child processes that must not outlive the process that started them."""

from __future__ import annotations

import ctypes
import signal
from typing import Final

_PR_SET_PDEATHSIG: Final = 1


def die_with_parent() -> None:
    """For `preexec_fn`: the child gets SIGTERM when its parent dies, even by SIGKILL (one prctl
    call, made before any thread runs), so a supervisor that restarts the parent finds nothing of
    the old one left holding ports or queues."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
