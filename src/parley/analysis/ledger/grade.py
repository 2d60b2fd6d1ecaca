"""`parley ledger grade`: score every resolved forecast in the ledger.

- P(settlement): Brier score (p - y)^2 and log score -ln(p or 1 - p), with p kept inside
  [0.001, 0.999] so that one confident miss costs ln(1000) = 6.9 instead of infinity.
- Issue outcomes: CRPS of the sealed forecast (its 1st..99th percentiles read as an equally
  weighted ensemble, whose CRPS is exact: `parley.backtest.metrics.crps_samples`), and
  whether the outcome fell inside the 50% (25-75%) and 90% (5-95%) intervals.
- A calibration table of P(settlement) by tenths: forecasts made, mean forecast, share settled.
A forecast entry resolved more than once is graded on its latest resolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from parley.analysis.ledger.chain import Ledger
from parley.backtest.metrics import crps_samples

P_FLOOR = 0.001


def brier(p: float, settled: bool) -> float:
    return (p - float(settled)) ** 2


def log_score(p: float, settled: bool) -> float:
    p = min(max(p, P_FLOOR), 1.0 - P_FLOOR)
    return -math.log(p if settled else 1.0 - p)


@dataclass(frozen=True)
class Grades:
    rows: list[dict[str, Any]]  # one per (entry, model)
    by_model: list[dict[str, Any]]
    calibration: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"by_model": self.by_model, "calibration": self.calibration, "graded": self.rows}


def grade(path: str | Path = "forecasts.jsonl") -> Grades:
    entries = Ledger(path).entries()
    latest: dict[int, dict[str, Any]] = {}
    for e in entries:
        if e.get("kind") == "resolution":
            latest[int(e["resolves_entry"])] = e
    rows: list[dict[str, Any]] = []
    for e in entries:
        if e.get("kind") != "forecast" or int(e["seq"]) not in latest:
            continue
        res = latest[int(e["seq"])]
        settled = bool(res["settled"])
        for model, fc in e["forecast"].items():
            row: dict[str, Any] = {
                "entry": e["seq"],
                "model": model,
                "question": e["question"],
                "retrospective": bool(e.get("retrospective")),
                "settled": settled,
                "p_settlement": fc.get("p_settlement"),
            }
            if fc.get("p_settlement") is not None:
                row["brier"] = brier(float(fc["p_settlement"]), settled)
                row["log_score"] = log_score(float(fc["p_settlement"]), settled)
            crps, in50, in90 = [], [], []
            for issue, outcome in (res.get("outcomes") or {}).items():
                q = (fc.get("issues") or {}).get(issue)
                if q is None:
                    continue
                y = float(outcome["scale_0_100"])
                crps.append(float(crps_samples(np.asarray(q["quantiles"], dtype=float), y)))
                in50.append(q["q25"] <= y <= q["q75"])
                in90.append(q["q05"] <= y <= q["q95"])
            row.update(
                {
                    "issues_scored": len(crps),
                    "crps": _mean(crps),
                    "cover50": _mean(in50),
                    "cover90": _mean(in90),
                }
            )
            rows.append(row)
    return Grades(rows, _by_model(rows), _calibration(rows))


def _mean(values: list[Any]) -> float | None:
    return float(np.mean(values)) if values else None


def _by_model(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == model]
        prob = [r for r in mine if r.get("brier") is not None]
        issue_rows = [r for r in mine if r["issues_scored"]]
        weights = [r["issues_scored"] for r in issue_rows]

        def wmean(key: str, rows_: list[dict[str, Any]] = issue_rows, w: list[int] = weights) -> float | None:
            return float(np.average([r[key] for r in rows_], weights=w)) if rows_ else None

        out.append(
            {
                "model": model,
                "resolved": len(mine),
                "brier": _mean([r["brier"] for r in prob]),
                "log_score": _mean([r["log_score"] for r in prob]),
                "issues_scored": int(sum(weights)),
                "crps": wmean("crps"),
                "cover50": wmean("cover50"),
                "cover90": wmean("cover90"),
            }
        )
    return out


def _calibration(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for model in dict.fromkeys(r["model"] for r in rows):
        prob = [r for r in rows if r["model"] == model and r.get("p_settlement") is not None]
        for b in range(10):
            lo, hi = b / 10, (b + 1) / 10
            inside = [
                r for r in prob if lo <= r["p_settlement"] < hi or (b == 9 and r["p_settlement"] == 1.0)
            ]
            if not inside:
                continue
            out.append(
                {
                    "model": model,
                    "bin": f"{lo:.1f}-{hi:.1f}",
                    "forecasts": len(inside),
                    "mean_forecast": float(np.mean([r["p_settlement"] for r in inside])),
                    "share_settled": float(np.mean([r["settled"] for r in inside])),
                }
            )
    return out
