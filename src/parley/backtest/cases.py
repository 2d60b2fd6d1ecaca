"""The classic cases: published actor tables with an outcome coded afterwards.

Three one-issue cases ship with parley (see data/cases/README.md): Bueno de Mesquita's 1994 EC
car-emissions case and KTAB's two China SOE-reform dimensions, each SOE dimension with two
third-party outcome codings (about 2017 and about 2020). They are too few to rank models; they
show how each model reads a well-known case.
"""

from __future__ import annotations

import csv
import warnings
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from parley.core.batch import Batch
from parley.core.errors import ParleyInputError, Problem
from parley.models import registry


def cases_directory() -> Path:
    return Path(str(resources.files("parley") / "data" / "cases"))


def read_bdm_table(path: Path) -> Batch:
    """The BDM 1994 table: years 4–10 mapped to 0–100, capability shares, salience 0–100."""
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    pos = np.array([(float(r["position_years"]) - 4.0) / 6.0 * 100.0 for r in rows])
    sal = np.array([float(r["salience"]) / 100.0 for r in rows])
    cap = np.array([float(r["capability"]) for r in rows])
    return Batch.from_arrays(pos[:, None], sal[:, None], cap,
                             actors=tuple(r["actor"] for r in rows), issues=(path.stem,))


def read_ktab_one_dimension(path: Path) -> Batch:
    """A one-dimension KTAB scenario CSV: title row, header row, then
    name, description, influence, position, salience per actor (trailing comma optional)."""
    with path.open(encoding="utf-8") as fh:
        lines = [row for row in csv.reader(fh) if any(c.strip() for c in row)]
    names, cap, pos, sal = [], [], [], []
    for n, row in enumerate(lines[2:], start=3):
        cells = [c.strip() for c in row]
        while cells and cells[-1] == "":
            cells.pop()
        try:
            c, x, s = (float(v) for v in cells[2:5])
        except ValueError:
            raise ParleyInputError([Problem("", "expected name, description, influence, "
                                            "position, salience", "fix the row", n)],
                                   source=str(path)) from None
        names.append(cells[0])
        cap.append(c)
        pos.append(x)
        sal.append(s / 100.0)
    return Batch.from_arrays(np.array(pos)[:, None], np.array(sal)[:, None], np.array(cap),
                             actors=tuple(names), issues=(path.stem,))


def load_case(file: str) -> Batch:
    path = cases_directory() / Path(file).name
    if path.name.startswith("bdm"):
        return read_bdm_table(path)
    return read_ktab_one_dimension(path)


def score_cases(models: list[str] | None = None) -> dict[str, Any]:
    """Every model's forecast of every case against each coded outcome."""
    models = models or registry.names()
    outcomes = list(csv.DictReader((cases_directory() / "outcomes.csv").open(encoding="utf-8")))
    batches = {r["case"]: load_case(r["file"]) for r in outcomes}
    forecasts: dict[tuple[str, str], float | None] = {}
    skipped: dict[str, str] = {}
    for name in models:
        try:
            mod = registry.module(name)
            params = mod.Params()
            for case, batch in batches.items():
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    value = float(np.asarray(mod.solve(batch, params).outcome).reshape(-1)[0])
                forecasts[(name, case)] = value if np.isfinite(value) else None
        except Exception as exc:  # report and carry on, as the leaderboard does
            skipped[name] = f"{type(exc).__name__}: {exc}"[:300]
    rows = []
    for r in outcomes:
        outcome = float(r["outcome_0_100"])
        for name in models:
            if name in skipped:
                continue
            f = forecasts[(name, r["case"])]
            rows.append({
                "case": r["case"], "dimension": r["dimension"], "horizon": r["horizon"],
                "outcome": outcome, "model": name, "forecast": f,
                "error": None if f is None else f - outcome, "coded_by": r["coded_by"],
                "note": r["note"],
            })
    return {"rows": rows, "skipped_models": skipped,
            "note": "capabilities as published in each case; positions and outcomes on 0-100"}
