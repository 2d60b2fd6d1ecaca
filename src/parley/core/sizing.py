"""Refuse a run whose arrays cannot fit in memory, before allocating them.

A run keeps, for every model, arrays of draws × actors × issues (each veto player's acceptance,
the issues that drive a refusal and the move that would win it over): `BYTES_PER_CELL` per
draw, actor, issue and model for what is kept (measured: `parley run` on the bundled scenario,
8 actors × 6 issues × 3 models, grows by about 1 kB a draw, 7 bytes a cell; 16 allows for
more), and while a chunk of at most `CHUNK` draws is computed, `CHUNK_BYTES_PER_CELL` per
cell of that chunk (measured with tracemalloc on the compromise model, about 110 bytes). The
nash model, which the settlement test's zone of agreement also runs on every actor, needs on
top of that, per chunk of at most `NASH_CHUNK` draws, about 191·N + 16·N² bytes per draw and
issue for N actors (its starting points compare every actor's position with every other's;
fitted on 25–200 actors, within 1% at 200). `check_memory` refuses a run whose estimate exceeds
the budget, with the estimate and what to change. Before this check, a 2,006-actor KTAB file
drove `parley run` to 13.8 GB; a 1,000-actor run of nash would need about 130 GB. The dynamic
models (pce, bdm, exchange) are not modelled beyond the per-cell arrays; the scenario size
limits (`parley.core.scenario`) bound them.
"""

from __future__ import annotations

import os

from parley.core.errors import ParleyInputError, Problem

BYTES_PER_CELL = 16
CHUNK_BYTES_PER_CELL = 112
CHUNK = 16_384
"""Draws a Monte Carlo chunk holds at once (`parley.analysis.simulate.DEFAULT_CHUNK`)."""
NASH_CHUNK = 4096
"""Draws the nash model solves at once (`parley.models.nash.Params.chunk`)."""
NASH_LINEAR, NASH_SQUARE = 191, 16
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


def estimate_bytes(actors: int, issues: int, draws: int, models: list[str] | int,
                   settlement: bool = False) -> int:
    """Bytes a run needs at its peak (see the module docstring); `settlement` when the
    scenario has the settlement test (its zone of agreement runs nash)."""
    names = [f"model{i}" for i in range(models)] if isinstance(models, int) else list(models)
    n, k, d = max(actors, 1), max(issues, 1), max(draws, 1)
    cells = n * k * max(len(names), 1)
    need = BYTES_PER_CELL * d * cells + CHUNK_BYTES_PER_CELL * min(d, CHUNK) * cells
    if "nash" in names or settlement:
        need += min(d, NASH_CHUNK) * k * (NASH_LINEAR * n + NASH_SQUARE * n * n)
    return need


def check_memory(actors: int, issues: int, draws: int, models: list[str] | int,
                 settlement: bool = False) -> None:
    """Refuse, with the estimate, a run that would need more memory than the budget."""
    need, have = estimate_bytes(actors, issues, draws, models, settlement), budget_bytes()
    if need <= have:
        return
    count = models if isinstance(models, int) else len(models)
    fit = next((d for d in (100_000, 50_000, 20_000, 10_000, 5_000, 2_000, 1_000, 500, 200, 100)
                if estimate_bytes(actors, issues, d, models, settlement) <= have), None)
    fix = (f"use at most {fit:,} draws (-n), fewer models or fewer actors" if fit else
           "use fewer actors (the nash model and the settlement test need memory that grows "
           "with the square of the actor count), or other models")
    raise ParleyInputError([Problem(
        "draws", f"this run needs about {need / 1e9:,.1f} GB ({draws:,} draws, {actors:,} actors, "
        f"{issues:,} issues, {count} model(s)), more than the {have / 1e9:,.1f} GB parley may use "
        "here", f"{fix}; or raise the limit with {ENV_LIMIT} (megabytes)")])
