"""Refuse a run whose arrays cannot fit in memory, before allocating them.

A run keeps, for every model, arrays of draws × actors × issues (each veto player's acceptance,
the issues that drive a refusal and the move that would win it over) besides the sampled
inputs, and the models work on chunks of the same shape. `estimate_bytes` counts those arrays
(`BYTES_PER_CELL` per draw, actor and issue and model, measured with tracemalloc on the
compromise model: about 110 bytes); `check_memory` refuses a run whose estimate exceeds the
budget, with the estimate and what to change. Before this check, a 2,006-actor KTAB file drove
`parley run` to 13.8 GB. The estimate is a floor: models with pairwise terms (nash, pce,
exchange) need more on many actors, which the scenario size limits (`parley.scenario`) bound.
"""

from __future__ import annotations

import os

from parley.errors import ParleyInputError, Problem

BYTES_PER_CELL = 112
ENV_LIMIT = "PARLEY_MAX_MEMORY_MB"


def budget_bytes() -> int:
    """`$PARLEY_MAX_MEMORY_MB`, else half the machine's physical memory (else 4 GB)."""
    text = os.environ.get(ENV_LIMIT, "").strip()
    if text:
        try:
            return max(1, int(float(text))) * 1024 * 1024
        except ValueError:
            raise ParleyInputError([Problem(ENV_LIMIT, f"'{text}' is not a number of megabytes",
                                            "set it to e.g. 4000, or unset it")]) from None
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX systems
        return 4 * 1024**3


def estimate_bytes(actors: int, issues: int, draws: int, models: int) -> int:
    """Bytes of the run's per-draw arrays (see the module docstring)."""
    return BYTES_PER_CELL * max(draws, 1) * max(actors, 1) * max(issues, 1) * max(models, 1)


def check_memory(actors: int, issues: int, draws: int, models: int) -> None:
    """Refuse, with the estimate, a run that would need more memory than the budget."""
    need, have = estimate_bytes(actors, issues, draws, models), budget_bytes()
    if need <= have:
        return
    fit = max(1, have // (BYTES_PER_CELL * max(actors, 1) * max(issues, 1) * max(models, 1)))
    raise ParleyInputError([Problem(
        "draws", f"this run needs about {need / 1e9:,.1f} GB ({draws:,} draws × {actors:,} actors "
        f"× {issues:,} issues × {models} model(s) × {BYTES_PER_CELL} bytes), more than the "
        f"{have / 1e9:,.1f} GB parley may use here",
        f"use at most {fit:,} draws (-n), fewer models or actors, or raise the limit with "
        f"{ENV_LIMIT}")])
