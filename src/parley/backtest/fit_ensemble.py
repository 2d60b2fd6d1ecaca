"""Refit the shipped ensemble on the DEU development split: `python -m parley.backtest.fit_ensemble`.

Writes src/parley/data/ensemble_v1.json: the weights fitted on all development issues, the
grouped-CV error of the procedure (weights refitted per fold), and the 50%/80% conformal
half-widths from the out-of-fold errors, so intervals for new data need no refit either.
Only the development split is used; nothing here looks at held-out data.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from parley.backtest.capability import CapabilitySpec
from parley.backtest.cv import DEFAULT_FOLDS, grouped_folds
from parley.backtest.data import Dataset, load_deu
from parley.backtest.intervals import conformal_quantile
from parley.backtest.runner import issue_batches
from parley.models import ensemble

CONVENTION = "votes"
SEED = 0


def feature_matrix(dataset: Dataset, spec: CapabilitySpec) -> np.ndarray:
    """Component forecasts [I, J] of every issue."""
    even = tuple((name, 1.0 / len(ensemble.COMPONENTS)) for name in ensemble.COMPONENTS)
    params = ensemble.Params(weights=even)
    return np.stack([ensemble.components(b, params)[0, 0] for b in issue_batches(dataset, spec)])


def fit_shipped(dataset: Dataset | None = None) -> dict[str, Any]:
    dataset = dataset or load_deu()
    spec = CapabilitySpec(CONVENTION)
    F, y = feature_matrix(dataset, spec), dataset.outcomes
    folds = grouped_folds(dataset.groups, DEFAULT_FOLDS, SEED)
    oof = np.empty_like(y)
    for f in np.unique(folds):
        test = folds == f
        oof[test] = F[test] @ ensemble.fit(F[~test], y[~test])
    w = ensemble.fit(F, y)
    err = np.abs(oof - y)
    return {
        "model": "ensemble",
        "version": ensemble.VERSION,
        "components": list(ensemble.COMPONENTS),
        "weights": {n: round(float(v), 6) for n, v in zip(ensemble.COMPONENTS, w, strict=True)},
        "fitted_on": f"DEU development split: {len(y)} issues of "
                     f"{len(set(dataset.groups))} proposals",
        "capability": CONVENTION,
        "objective": "mean absolute error, weights >= 0 summing to 1 (linear program)",
        "cv": {"folds": int(folds.max() + 1), "grouped_by": "prnr", "seed": SEED,
               "mae": round(float(err.mean()), 3),
               "in_sample_mae": round(float(np.abs(F @ w - y).mean()), 3)},
        "interval_halfwidth": {"50%": conformal_quantile(err, 0.5),
                               "80%": conformal_quantile(err, 0.8)},
    }


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    target = Path(argv[0]) if argv else (
        Path(__file__).resolve().parent.parent / "data" / f"ensemble_v{ensemble.VERSION}.json")
    target.write_text(json.dumps(fit_shipped(), indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(f"wrote {target}\n")


if __name__ == "__main__":
    main()
