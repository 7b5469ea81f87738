"""Silent HiGHS instances: highspy (1.16) prints its banner when a process makes its first one."""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from typing import Any

_first = threading.Lock()
_made = False


def quiet_highs() -> Any:
    """A ``highspy.Highs`` with its output off and one thread. The banner comes from C++ at the
    first construction, before any option can be set, so only that construction runs with the
    process's standard output pointed at /dev/null (the CLI's output and a service's pipes stay clean)."""
    import highspy

    global _made
    with _first:
        if _made:
            h = highspy.Highs()
        else:
            h = _silenced(highspy.Highs)
            _made = True
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    return h


def _silenced(make: Any) -> Any:
    if sys.stdout is not None:
        sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no standard output at all (started with it closed): nothing to keep clean
        return make()
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            try:
                return make()
            finally:
                _flush_c_stdout()  # what C++ buffered goes to /dev/null, not to the restored stdout
                os.dup2(saved, 1)
    finally:
        os.close(saved)


def _flush_c_stdout() -> None:
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):  # no C library to ask (not expected on Linux)
        pass
