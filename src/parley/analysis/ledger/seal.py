"""Sealing a forecast into the ledger, and recording how a question resolved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from parley.analysis.ledger.chain import Ledger
from parley.analysis.ledger.record import forecast_record, now_utc, scenario_record
from parley.analysis.ledger.signing import sign
from parley.core.errors import ParleyInputError, Problem


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
    from parley.analysis.forecast import DEFAULT_DRAWS, DEFAULT_SEED, forecast
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
    from parley.analysis.ledger.rerun import scenario_of

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
