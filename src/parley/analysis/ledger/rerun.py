"""Re-running a sealed forecast from the scenario text and run settings stored in its entry."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from parley.core.scenario import Scenario

SUFFIX = {"yaml": ".yaml", "ktab": ".csv", "decide": ".csv"}


def scenario_of(entry: dict[str, Any]) -> Scenario:
    """The Scenario an entry was sealed on, loaded from its stored text."""
    from parley.io.loading import load

    rec = entry["scenario"]
    name = Path(str(rec.get("file") or "scenario")).name
    suffix = Path(name).suffix or SUFFIX.get(rec["format"], ".yaml")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / (Path(name).stem + suffix)
        path.write_text(rec["text"], encoding="utf-8")
        return load(path, rec["format"])


def rerun(entry: dict[str, Any]) -> dict[str, Any]:
    """The forecast record the entry's run gives today (same scenario, models, draws, seed)."""
    from parley.analysis.forecast import forecast
    from parley.analysis.ledger.record import forecast_record

    run = entry["run"]
    params = {name: dict(p) for name, p in run["params"].items()}
    fc = forecast(
        scenario_of(entry),
        list(run["models"]),
        draws=int(run["draws"]),
        seed=int(run["seed"]),
        params=params,
        rule=run["rule"],
    )
    return forecast_record(fc)


def differences(sealed: dict[str, Any], again: dict[str, Any], tol: float = 1e-6) -> list[str]:
    """Where a re-run differs from the sealed numbers (P(settlement), issue quantiles)."""
    out: list[str] = []
    for model, old in sealed.items():
        new = again.get(model)
        if new is None:
            out.append(f"{model}: not produced")
            continue
        for key in ("p_settlement", "ci_low", "ci_high", "p_package"):
            if not _same(old.get(key), new.get(key), tol):
                out.append(f"{model} {key}: sealed {old.get(key)}, now {new.get(key)}")
        for issue, q in (old.get("issues") or {}).items():
            nq = (new.get("issues") or {}).get(issue)
            if (q is None) != (nq is None):
                out.append(f"{model} {issue}: sealed {q and q.get('median')}, now {nq and nq.get('median')}")
                continue
            if q is None:
                continue
            bad = [key for key in ("q05", "q25", "median", "q75", "q95") if not _same(q[key], nq[key], tol)]
            if bad or any(
                not _same(a, b, tol) for a, b in zip(q["quantiles"], nq["quantiles"], strict=False)
            ):
                out.append(f"{model} {issue}: median sealed {q['median']}, now {nq['median']}")
    return out


def _same(a: Any, b: Any, tol: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= tol
