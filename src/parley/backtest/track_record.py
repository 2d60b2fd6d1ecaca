"""Each model's track record on the DEU development split, shipped so a forecast can show it.

Why: an analyst who reads a forecast should see, beside it, how far each model's forecasts
missed on real negotiations with known outcomes. Running the backtest inside every
`parley run` would cost seconds, so the figures are computed once, from the development split
only (`python -m parley.backtest.track_record`), and shipped as `data/track_record_v1.json`; a
test recomputes them and checks they match the file.

The figures describe EU legislative bargaining, not the scenario at hand: they say which models
have earned more trust, and how large typical misses are on such data, not this forecast's error.
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

VERSION = 1
CONVENTION = "votes"
SEED = 0
FILE = f"track_record_v{VERSION}.json"
NOTES = {
    "exchange": "scored one issue at a time, where there is nothing to trade and it equals the "
                "compromise model; its linkage across issues is not in this record",
    "ensemble": "fitted on this split, figures out of fold; with no Commission or Parliament "
                "(actors com, ep: outside EU law-making) its shipped weights reduce it to the "
                "compromise model",
    "focal": "fitted on this split, figures out of fold; the miss is of its distribution's "
             "median (its CRPS and prediction sets: `parley backtest deu`)",
}
SOURCE = ("DEU development split (EU legislative decisions with known outcomes); capability = "
          "Council votes of the era; grouped 10-fold CV for fitted models; 95% intervals from "
          "a bootstrap over proposals")


def compute() -> dict[str, Any]:
    """The track record of every model that runs on DEU, from the development split."""
    import numpy as np

    from parley.backtest.capability import CapabilitySpec
    from parley.backtest.data import load_deu
    from parley.backtest.intervals import conformal_quantile
    from parley.backtest.leaderboard import leaderboard

    dev = load_deu()
    board = leaderboard(dev, CapabilitySpec(CONVENTION), seed=SEED)
    models: dict[str, Any] = {}
    for row in board.ranked():
        errors = np.array([p["error"] for p in board.predictions
                           if p["model"] == row.model and p["error"] is not None], float)
        mae = row.metrics["mae"]
        models[row.model] = {
            "issues": row.n,
            "mae": round(mae.value, 3), "mae_low": round(mae.low, 3), "mae_high": round(mae.high, 3),
            "within10": round(row.metrics["within10"].value, 3),
            "halfwidth80": round(conformal_quantile(np.abs(errors), 0.8), 3),
            "evaluation": row.evaluation,
            "note": NOTES.get(row.model, ""),
        }
    return {"version": VERSION, "source": SOURCE, "issues": len(dev.outcomes),
            "proposals": len(set(dev.groups)), "models": models}


@lru_cache(maxsize=1)
def shipped() -> dict[str, Any]:
    """The track record bundled with parley (computed by `compute()` when it was released)."""
    text = (resources.files("parley") / "data" / FILE).read_text("utf-8")
    return json.loads(text)


def of(model: str) -> dict[str, Any] | None:
    """One model's shipped record, or None for a model DEU has no record of."""
    return shipped()["models"].get(model)


def for_models(names: list[str]) -> dict[str, Any]:
    """The records of the given models (those DEU has) with where they come from: what a
    forecast's output carries."""
    record = shipped()
    return {"source": record["source"], "issues": record["issues"],
            "models": {n: record["models"][n] for n in names if n in record["models"]}}


COLUMNS = ("model", "mean miss (0–100) [95%]", "within 10 points", "80% of misses within")
CAVEAT = ("A record on EU law-making, not on this negotiation: use it to compare the models, not "
          "as this forecast's error.")


def table(models: list[str]) -> tuple[str, list[list[str]]]:
    """Title and text rows (under COLUMNS) of the models' records, as every output shows them;
    no rows when DEU has no record of any of them."""
    record = for_models(models)
    rows = [[name, f"{r['mae']:.1f} [{r['mae_low']:.1f}–{r['mae_high']:.1f}]",
             f"{100 * r['within10']:.0f}%", f"±{r['halfwidth80']:.0f}"]
            for name, r in record["models"].items()]
    title = (f"How far to trust each model: its misses on {record['issues']} EU legislative "
             "issues with known outcomes (DEU)")
    return title, rows


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    target = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "data" / FILE
    target.write_text(json.dumps(compute(), indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(f"wrote {target}\n")


if __name__ == "__main__":
    main()
