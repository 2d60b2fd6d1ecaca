"""Which engine a model with a compiled (numba) engine runs a call on.

Why one rule: nash, exchange, focal and pce each keep a numpy engine (the readable reference, and
the fallback where numba has no wheel) and a compiled one. Loading numba and its cached machine
code costs about half a second a process, so "auto" takes the compiled engine only for a call
large enough to repay that, or once numba is loaded anyway.
"""

from __future__ import annotations

import sys
from importlib.util import find_spec


def use_compiled(engine: str, large: bool, *, once_loaded: bool = True) -> bool:
    """Whether to run the compiled engine: never with "numpy", always with "compiled" (an error
    without numba), with "auto" when the call is `large` or (`once_loaded`) numba is already
    loaded, and numba is installed. pce passes once_loaded=False: its small runs stay on numpy
    even when numba is loaded (the engines give identical trajectories, so only time differs)."""
    if engine == "numpy":
        return False
    if engine == "auto" and not large and not (once_loaded and "numba" in sys.modules):
        return False
    if find_spec("numba") is None:
        if engine == "compiled":
            raise ValueError("engine 'compiled' needs numba: pip install numba")
        return False
    return True
