"""Whether numba has a compiled function's machine code on disk (`cache=True`).

Why: the compiled engines of pce and exchange are compiled on first use after installing
(about 12 s and 7 s on the 2-core development machine) and cached; a command can say so before
the user waits, instead of looking stuck.
"""

from __future__ import annotations

import os
from typing import Any


def warm(dispatcher: Any) -> bool:
    """True when the cache index of this numba function exists and is not older than its
    source file (numba recompiles when the source changed). Reads numba's cache locator, an
    internal; if that ever moves, the answer is True (say nothing rather than cry wolf)."""
    try:
        index = dispatcher._cache._cache_file._index_path
        source = dispatcher.py_func.__code__.co_filename
        return os.path.exists(index) and os.path.getmtime(index) >= os.path.getmtime(source)
    except Exception:  # an internal that moved: no claim either way
        return True
