"""Sealing a forecast into the ledger, and recording how a question resolved."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from parley.errors import ParleyInputError, Problem
from parley.ledger.chain import Ledger
from parley.ledger.signing import sign

QUANTILES = tuple(round(0.01 * i, 2) for i in range(1, 100))
"""Each issue's forecast is kept as its 1st..99th percentiles: grading treats them as an equally
weighted ensemble, whose CRPS is exact (see grade.crps_ensemble)."""
NAMED = {"q05": 0.05, "q25": 0.25, "median": 0.50, "q75": 0.75, "q95": 0.95}


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def scenario_record(source: str | Path, fmt: str = "auto") -> tuple[dict[str, Any], Any]:
    """The scenario's full text, hashes and format, and the loaded Scenario."""
    from parley import bundled
    from parley.loading import detect_format, load

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


def seal(
    source: str | Path,
    *,
    question: str,
    resolves: dt.date,
    criteria: str,
    ledger: str | Path = "forecasts.jsonl",
    models: Sequence[str] | None = None,
    draws: int | None = None,
    seed: int | None = None,
    params: dict[str, dict[str, Any]] | None = None,
    rule: str = "compensatory",
    retrospective: bool = False,
    sign_key: str | Path | None = None,
    fmt: str = "auto",
) -> dict[str, Any]:
    """Run the forecast and append it, with the question it answers, as one ledger entry."""
    from parley.forecast import DEFAULT_DRAWS, DEFAULT_SEED, forecast
    from parley.models import registry

    if not question.strip():
        raise ParleyInputError([Problem("--question", "the question is empty", "say what is forecast")])
    if not criteria.strip():
        raise ParleyInputError(
            [
                Problem(
                    "--criteria", "the resolution criteria are empty", "say how the question will be judged"
                )
            ]
        )
    record, scenario = scenario_record(source, fmt)
    names = list(models) if models else list(registry.STATIC)
    draws = DEFAULT_DRAWS if draws is None else draws
    seed = DEFAULT_SEED if seed is None else seed
    fc = forecast(scenario, names, draws=draws, seed=seed, params=params, rule=rule)  # type: ignore[arg-type]
    body: dict[str, Any] = {
        "kind": "forecast",
        "sealed_at": now_utc(),
        "retrospective": bool(retrospective),
        "question": question.strip(),
        "criteria": criteria.strip(),
        "resolves": resolves.isoformat(),
        "scenario": record,
        "run": {
            "models": names,
            "params": fc.provenance["models"],
            "draws": draws,
            "seed": seed,
            "rule": rule,
            "parley_version": fc.provenance["parley_version"],
        },
        "forecast": forecast_record(fc),
    }
    book = Ledger(ledger)
    if sign_key is not None:
        body = sign(body, book, sign_key)
    return book.append(body)


def resolve(
    entry_seq: int,
    *,
    settled: bool,
    source: str,
    outcomes: dict[str, float] | None = None,
    ledger: str | Path = "forecasts.jsonl",
    sign_key: str | Path | None = None,
) -> dict[str, Any]:
    """Record how a sealed forecast's question resolved, as a new entry (the old one is never
    edited). `outcomes` maps issue ids to the outcome on the issue's own scale (its units where
    the scenario declares a scale, else 0-100)."""
    book = Ledger(ledger)
    entries = book.entries()
    target = next((e for e in entries if e.get("seq") == entry_seq and e.get("kind") == "forecast"), None)
    if target is None:
        sealed = [str(e["seq"]) for e in entries if e.get("kind") == "forecast"]
        raise ParleyInputError(
            [
                Problem(
                    "ID",
                    f"the ledger {ledger} has no forecast entry {entry_seq}",
                    f"forecast entries: {', '.join(sealed) or 'none'}",
                )
            ],
            str(ledger),
        )
    if not source.strip():
        raise ParleyInputError(
            [Problem("--source", "the source is empty", "cite where the resolution comes from")]
        )
    scaled = _outcomes_on_scale(target, outcomes or {}, str(ledger))
    body: dict[str, Any] = {
        "kind": "resolution",
        "resolved_at": now_utc(),
        "resolves_entry": entry_seq,
        "resolves_hash": target["hash"],
        "settled": bool(settled),
        "outcomes": scaled,
        "source": source.strip(),
    }
    if sign_key is not None:
        body = sign(body, book, sign_key)
    return book.append(body)


def _outcomes_on_scale(target: dict[str, Any], outcomes: dict[str, float], ledger: str) -> dict[str, Any]:
    """{issue: {"value": as given, "scale_0_100": on parley's 0-100 scale}} for the target's issues."""
    from parley.ledger.rerun import scenario_of

    if not outcomes:
        return {}
    scenario = scenario_of(target)
    issues = {i.id: i for i in scenario.issues}
    out: dict[str, Any] = {}
    for key, value in outcomes.items():
        if key not in issues:
            raise ParleyInputError(
                [
                    Problem(
                        "--outcome",
                        f"unknown issue '{key}'",
                        f"issues of entry {target['seq']}: {', '.join(issues)}",
                    )
                ],
                ledger,
            )
        if not np.isfinite(value):
            raise ParleyInputError(
                [
                    Problem(
                        "--outcome", f"{key}={value} is not a finite number", "give the outcome as a number"
                    )
                ],
                ledger,
            )
        sc = issues[key].scale
        on_scale = float(sc.to_scale(value)) if sc is not None else float(value)
        if not 0.0 <= on_scale <= 100.0:
            rng = f"{sc.to_units(0)}..{sc.to_units(100)} {sc.unit}" if sc is not None else "0..100"
            raise ParleyInputError(
                [
                    Problem(
                        "--outcome", f"{key}={value} lies outside the issue's scale", f"give a value in {rng}"
                    )
                ],
                ledger,
            )
        out[key] = {"value": float(value), "scale_0_100": round(on_scale, 10)}
    return out
