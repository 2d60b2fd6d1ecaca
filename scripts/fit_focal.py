"""Refit the focal model's shipped coefficients on the DEU development split, reproducibly.

Run: `PYTHONPATH=src /work/venv/bin/python scripts/fit_focal.py [OUT.json]` (about 3 CPU-minutes:
the nested CV refits 1,300 times).
Writes src/parley/data/focal_v2.json (or OUT.json): the conditional-logit coefficients and the
remainder's Laplace scale fitted on all development issues (capability `votes`), plus what the
procedure scores out of sample:
- `cv`: 10-fold CV grouped by proposal, fold seeds 0–4, ridge fixed at `fit_focal.RIDGE`
  (the penalty was itself chosen on these folds, so this figure is slightly optimistic);
- `nested_cv`: the same with the ridge chosen inside each training set by an inner grouped
  5-fold CV (by mean CRPS), the honest figure for the whole procedure.
Only the development split is read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from parley.backtest import fit_focal as ff
from parley.backtest.capability import CapabilitySpec
from parley.backtest.cv import grouped_folds
from parley.backtest.data import load_deu
from parley.models import focal
from parley.models.mixed import Mixed

CONVENTION = "votes"
SEEDS = (0, 1, 2, 3, 4)


def scores(dist: Mixed, y: np.ndarray) -> dict[str, float]:
    cov80, _ = dist.prediction_set(y, 0.8)
    cov50, _ = dist.prediction_set(y, 0.5)
    return {"crps": float(dist.crps(y).mean()), "mae": float(np.abs(dist.median() - y).mean()),
            "exact_hit": float((np.abs(dist.mode_point() - y) <= 0.5).mean()),
            "coverage50": float(cov50.mean()), "coverage80": float(cov80.mean())}


def nested(items: list[ff.IssueDesign], y: np.ndarray, groups: np.ndarray, seed: int) -> Mixed:
    """Out-of-fold distributions with the ridge chosen by inner grouped CV in each training set."""
    folds = grouped_folds(groups, 10, seed)
    a = max(len(d.point) for d in items)
    point, mass, cdf = np.full((len(y), a), 100.0), np.zeros((len(y), a)), np.zeros((len(y), 101))
    for f in np.unique(folds):
        train, test = np.flatnonzero(folds != f), np.flatnonzero(folds == f)
        inner = grouped_folds(groups[train], 5, seed)
        best, best_crps = ff.RIDGE, np.inf
        for ridge in ff.RIDGES:
            crps = []
            for g in np.unique(inner):
                tr, te = train[inner != g], train[inner == g]
                p = ff.params_from(ff.fit([items[i] for i in tr], y[tr], ridge))
                crps.append(ff.predict([items[i] for i in te], p).crps(y[te]))
            value = float(np.concatenate(crps).mean())
            if value < best_crps:
                best, best_crps = ridge, value
        p = ff.params_from(ff.fit([items[i] for i in train], y[train], best))
        part = ff.predict([items[i] for i in test], p)
        point[test, : part.point.shape[1]] = part.point
        mass[test, : part.mass.shape[1]] = part.mass
        cdf[test] = part.cont_cdf
    return Mixed(point, mass, cdf)


def summary(rows: list[dict[str, float]]) -> dict[str, object]:
    keys = rows[0].keys()
    return {k: {"mean": round(float(np.mean([r[k] for r in rows])), 4),
                "by_seed": [round(r[k], 4) for r in rows]} for k in keys}


def main(argv: list[str]) -> None:
    target = Path(argv[0]) if argv else (
        Path(__file__).resolve().parent.parent / "src" / "parley" / "data" / f"focal_v{focal.VERSION}.json")
    dev = load_deu()
    y, groups = dev.outcomes, dev.groups
    items = ff.designs(dev, CapabilitySpec(CONVENTION))
    fitted = ff.fit(items, y)
    plain = [scores(ff.cv_predict(items, y, grouped_folds(groups, 10, s)), y) for s in SEEDS]
    honest = [scores(nested(items, y, groups, s), y) for s in SEEDS]
    out = {
        "model": "focal", "version": focal.VERSION,
        "trained_on": f"DEU development split: {len(y)} issues of {len(set(groups))} proposals "
                      "(EU legislative decisions)",
        "capability": CONVENTION,
        "method": "conditional logit over merged landing points plus a continuous remainder, "
                  f"ridge {ff.RIDGE} per issue, scipy L-BFGS; remainder: Laplace around the "
                  "compromise truncated to the actors' range, scale by maximum likelihood",
        "features": list(focal.ALL_FEATURES),
        "coefficients": fitted["coefficients"],
        "remainder_scale": fitted["remainder_scale"],
        "hits": fitted["hits"], "issues": fitted["issues"],
        "cv": {"folds": 10, "grouped_by": "prnr", "seeds": list(SEEDS), **summary(plain)},
        "nested_cv": {"folds": 10, "inner_folds": 5, "ridges": list(ff.RIDGES),
                      "seeds": list(SEEDS), **summary(honest)},
    }
    target.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(f"wrote {target}\n")
    for name, rows in (("cv", plain), ("nested cv", honest)):
        mean = {k: np.mean([r[k] for r in rows]) for k in rows[0]}
        sys.stdout.write(f"{name}: " + ", ".join(f"{k} {v:.3f}" for k, v in mean.items()) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
