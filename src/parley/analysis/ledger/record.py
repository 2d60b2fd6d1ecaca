"""What a ledger entry keeps of a scenario and of a forecast."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import numpy as np

QUANTILES = tuple(round(0.01 * i, 2) for i in range(1, 100))
"""Each issue's forecast is kept as its 1st..99th percentiles: grading treats them as an equally
weighted ensemble, whose CRPS is exact (see grade.crps_ensemble)."""
NAMED = {"q05": 0.05, "q25": 0.25, "median": 0.50, "q75": 0.75, "q95": 0.95}


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def scenario_record(source: str | Path, fmt: str = "auto") -> tuple[dict[str, Any], Any]:
    """The scenario's full text, hashes and format, and the loaded Scenario."""
    from parley.io import bundled
    from parley.io.loading import detect_format, load

    path = Path(source)
    if not path.is_file():
        found = bundled.path(str(source))
        if found is None:
            load(str(source))  # raises the usual clear error
            raise AssertionError("unreachable")  # pragma: no cover
        path = found
    fmt = detect_format(path) if fmt == "auto" else fmt
    scenario = load(path, fmt)
    raw = path.read_bytes()
    record = {
        "id": scenario.id,
        "title": scenario.title,
        "file": path.name,
        "format": fmt,
        "text": raw.decode("utf-8"),
        "text_sha256": hashlib.sha256(raw).hexdigest(),
        "content_hash": scenario.content_hash(),
    }
    return record, scenario


def forecast_record(fc: Any) -> dict[str, Any]:
    """What is sealed of a Forecast: P(settlement) with its interval, each issue's quantiles."""
    out: dict[str, Any] = {}
    tests = fc.scenario.tests_settlement
    for name, res in fc.results.items():
        entry: dict[str, Any] = {"p_package": _num(res.p_package())}
        if tests:
            p, lo, hi = res.p_settlement()
            entry.update({"p_settlement": _num(p), "ci_low": _num(lo), "ci_high": _num(hi)})
        issues: dict[str, Any] = {}
        ok = res.draws.agreement
        for k, issue in enumerate(fc.scenario.issues):
            vals = res.draws.outcome[ok, k]
            if vals.size == 0:
                issues[issue.id] = None
                continue
            qs = np.quantile(vals, QUANTILES)
            issues[issue.id] = {
                **{key: _num(float(np.quantile(vals, q))) for key, q in NAMED.items()},
                "quantiles": [_num(float(v)) for v in qs],
            }
        entry["issues"] = issues
        out[name] = entry
    return out


def _num(x: float) -> float | None:
    return None if not np.isfinite(x) else round(float(x), 10)
