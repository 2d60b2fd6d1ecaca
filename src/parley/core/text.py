"""Numbers as people read them, shared by every layer that writes text."""

from __future__ import annotations

import math


def pct(p: float | None) -> str:
    """A share as a whole percentage, never rounding a rare event to 0% or a near-certain one to 100%."""
    if p is None or not math.isfinite(p):
        return "n/a"
    if 0 < p < 0.005:
        return "<1%"
    if 0.995 < p < 1:
        return ">99%"
    return f"{100 * p:.0f}%"
