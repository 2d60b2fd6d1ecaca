"""The PIT calibration figure of a backtest: is each model's forecast distribution calibrated?

If a model's predictive distributions are calibrated, the probability integral transform of the
outcomes (the forecast CDF at the outcome, randomised where the forecast has a point mass) is
uniform on 0–1: a flat histogram. A hump in the middle means the distributions are too wide, a
U shape too narrow, a slope a bias. One panel per model, 10 bins, the flat line for reference.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from parley.backtest.leaderboard import Leaderboard
from parley.core.errors import ParleyInputError, Problem

BINS = 10


def write_pit_figure(board: Leaderboard, path: str | Path) -> Path:
    """Save the PIT histograms of every scored model (PNG, SVG or PDF by the suffix)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in board.ranked() if r.pit is not None and r.pit.size]
    cols = min(4, max(1, len(rows)))
    nrows = max(1, -(-len(rows) // cols))
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 2.6 * nrows), squeeze=False,
                             sharey=True)
    for ax in axes.flat[len(rows):]:
        ax.set_visible(False)
    for ax, row in zip(axes.flat, rows, strict=False):
        counts, edges = np.histogram(row.pit, bins=BINS, range=(0, 1))
        ax.bar(edges[:-1], counts / row.pit.size * BINS, width=1 / BINS, align="edge",
               color="#4c72b0" if row.forecast_kind == "distribution" else "#999999",
               edgecolor="white")
        ax.axhline(1.0, color="black", lw=1, ls="--")
        ax.set_title(f"{row.model} (CRPS {row.crps.value:.1f})" if row.crps else row.model,
                     fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_xlabel("PIT", fontsize=8)
    axes[0, 0].set_ylabel("density (flat = calibrated)", fontsize=8)
    fig.suptitle(f"{board.dataset}: PIT of the outcomes, {board.setting}; capability "
                 f"{board.capability}", fontsize=9)
    fig.tight_layout()
    out = Path(path)
    try:
        fig.savefig(out, dpi=120)
    except (OSError, ValueError) as exc:
        raise ParleyInputError([Problem("--pit", f"cannot write {out} ({exc})",
                                        "choose a writable .png, .svg or .pdf path")]) from None
    finally:
        plt.close(fig)
    return out
