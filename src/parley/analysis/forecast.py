"""Forecasts: run models over Monte Carlo draws and summarise outcomes and settlement."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from parley.analysis.parallel import can_fork
from parley.analysis.settlement import Rule, wilson
from parley.analysis.simulate import Draws, simulate, solve_batch
from parley.core import batch as batching
from parley.core import hooks
from parley.core.scenario import Scenario
from parley.core.sizing import check_memory
from parley.core.version import VERSION
from parley.models import registry
from parley.store import runs

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_DRAWS = 10_000
DEFAULT_SEED = 20250501
BAND = (5.0, 95.0)
CI_LEVEL = 0.90
ACTOR_COLUMNS = ["model", "actor", "actor_name", "p_accept", "ci_low", "ci_high", "point_accepts"]
BLOCKER_COLUMNS = ["model", "actor", "issue", "p_refuse", "share_driving", "share_fixable_alone",
                   "median_move", "point_move"]
ZONE_DRAWS = 2_000
"""The zone-of-agreement check runs on the first draws only: it is model-free and slower than
the static models, and 2,000 draws pin its share to about +-2 points (reported with its interval)."""


@dataclass(frozen=True)
class ZoneResult:
    """Whether any package satisfies every veto player, over the first `n` draws."""

    exists: np.ndarray  # [n]
    package: np.ndarray  # [n, K]
    one_run: bool = False  # no uncertain inputs: one check, its share exact (interval = share)

    @property
    def n(self) -> int:
        return int(self.exists.shape[0])

    def p_exists(self) -> tuple[float, float, float]:
        k = int(self.exists.sum())
        p = k / max(self.n, 1)
        lo, hi = (p, p) if self.one_run else wilson(k, self.n, CI_LEVEL)
        return p, lo, hi


@dataclass(frozen=True)
class ModelResult:
    """One model's forecast: the point forecast, the draws, and their summaries."""

    model: str
    params: dict[str, Any]
    point: Draws  # the model on the most likely values (one draw)
    draws: Draws
    one_run: bool = False
    """No uncertain inputs and a deterministic model: `draws` holds the one run that every draw
    would repeat; shares are exact (0 or 1) and their intervals collapse onto them."""
    seconds: float = 0.0
    """Wall time of the draws (not part of the result: it tells a later run on the same draws,
    like the lead sentence's counterfactual, whether a process pool pays)."""

    @property
    def n(self) -> int:
        return int(self.draws.settle.shape[0])

    def p_settlement(self) -> tuple[float, float, float]:
        k = int(self.draws.settle.sum())
        p = k / max(self.n, 1)
        lo, hi = (p, p) if self.one_run else wilson(k, self.n, CI_LEVEL)
        return p, lo, hi

    def p_package(self) -> float:
        """Share of draws in which the model finds any agreement at all."""
        return float(self.draws.agreement.mean()) if self.n else float("nan")


@dataclass(frozen=True)
class Forecast:
    """Everything `parley run` reports, convertible to DataFrames and JSON."""

    scenario: Scenario
    results: dict[str, ModelResult]
    provenance: dict[str, Any] = field(default_factory=dict)
    zone: ZoneResult | None = None

    # --- tables ----------------------------------------------------------------------
    # Each table exists as plain rows (what `parley run`, the answer and the JSON read: no
    # pandas import on the command's path) and as a DataFrame (for notebooks and analyses).
    def outcomes(self) -> pd.DataFrame:
        """One row per (model, issue): point forecast, median and 5–95% band over draws (on
        0–100, and in the issue's units where it declares a scale: `unit`, `*_units`)."""
        return _frame(self.outcome_rows())

    def settlement(self) -> pd.DataFrame:
        """One row per model: P(settlement) with its Monte Carlo interval."""
        return _frame(self.settlement_rows())

    def actors(self) -> pd.DataFrame:
        """One row per (model, veto actor): how often it accepts the package."""
        return _frame(self.actor_rows(), columns=ACTOR_COLUMNS)

    def blockers(self) -> pd.DataFrame:
        """One row per (model, veto actor, issue) where the actor ever refuses: which issues
        drive its refusals and how far each issue alone would have to move to win it over."""
        return _frame(self.blocker_rows(), columns=BLOCKER_COLUMNS)

    def outcome_rows(self) -> list[dict[str, Any]]:
        return _cached_rows(self, "outcome_rows", self._outcome_rows)

    def _outcome_rows(self) -> list[dict[str, Any]]:
        """The rows of `outcomes()`."""
        rows = []
        for name, res in self.results.items():
            out = res.draws.outcome
            ok = res.draws.agreement
            for k, issue in enumerate(self.scenario.issues):
                vals = out[ok, k]
                has = vals.size > 0
                rows.append(
                    {
                        "model": name,
                        "issue": issue.id,
                        "issue_name": issue.name,
                        "point": float(res.point.outcome[0, k]),
                        "median": float(np.median(vals)) if has else np.nan,
                        "mean": float(vals.mean()) if has else np.nan,
                        "p05": float(np.percentile(vals, BAND[0])) if has else np.nan,
                        "p95": float(np.percentile(vals, BAND[1])) if has else np.nan,
                        "p_package": res.p_package(),
                    }
                )
                rows[-1].update(_in_units(issue, rows[-1]))
        return rows

    def settlement_rows(self) -> list[dict[str, Any]]:
        return _cached_rows(self, "settlement_rows", self._settlement_rows)

    def _settlement_rows(self) -> list[dict[str, Any]]:
        """The rows of `settlement()`."""
        rows = []
        no_veto = not self.scenario.tests_settlement
        for name, res in self.results.items():
            p, lo, hi = (np.nan, np.nan, np.nan) if no_veto else res.p_settlement()
            rows.append(
                {
                    "model": name,
                    "p_settlement": p,
                    "ci_low": lo,
                    "ci_high": hi,
                    "ci_level": CI_LEVEL,
                    "p_package": res.p_package(),
                    "point_settles": bool(res.point.settle[0]),
                    "draws": res.n,
                }
            )
        return rows

    def actor_rows(self) -> list[dict[str, Any]]:
        return _cached_rows(self, "actor_rows", self._actor_rows)

    def _actor_rows(self) -> list[dict[str, Any]]:
        """The rows of `actors()`."""
        rows = []
        veto = [i for i, a in enumerate(self.scenario.actors) if a.veto and self.scenario.settlement_test]
        for name, res in self.results.items():
            ok = res.draws.agreement
            n_pkg = int(ok.sum())
            for i in veto:
                acc = res.draws.accept[ok, i]
                share = float(acc.mean()) if n_pkg else np.nan
                lo, hi = (share, share) if res.one_run else wilson(int(acc.sum()), n_pkg, CI_LEVEL)
                rows.append(
                    {
                        "model": name,
                        "actor": self.scenario.actors[i].id,
                        "actor_name": self.scenario.actors[i].name,
                        "p_accept": float(acc.mean()) if n_pkg else np.nan,
                        "ci_low": lo,
                        "ci_high": hi,
                        "point_accepts": bool(res.point.accept[0, i]) and bool(res.point.agreement[0]),
                    }
                )
        return rows

    def blocker_rows(self) -> list[dict[str, Any]]:
        return _cached_rows(self, "blocker_rows", self._blocker_rows)

    def _blocker_rows(self) -> list[dict[str, Any]]:
        """The rows of `blockers()`."""
        rows = []
        veto = [i for i, a in enumerate(self.scenario.actors) if a.veto and self.scenario.settlement_test]
        for name, res in self.results.items():
            ok = res.draws.agreement
            for i in veto:
                refuse = ok & ~res.draws.accept[:, i]
                n_ref = int(refuse.sum())
                if n_ref == 0:
                    continue
                for k, issue in enumerate(self.scenario.issues):
                    if not self.scenario.stance(self.scenario.actors[i].id, issue.id):
                        continue
                    drives = res.draws.drives[refuse, i, k]
                    move = res.draws.move[refuse, i, k].astype(float)
                    fixable = np.isfinite(move)
                    med = float(np.median(move[fixable])) if fixable.any() else np.nan
                    point_move = float(res.point.move[0, i, k])
                    rows.append(
                        {
                            "model": name,
                            "actor": self.scenario.actors[i].id,
                            "issue": issue.id,
                            "p_refuse": n_ref / max(int(ok.sum()), 1),
                            "share_driving": float(drives.mean()),
                            "share_fixable_alone": float(fixable.mean()),
                            "median_move": med,
                            "point_move": point_move,
                        }
                    )
        return rows

    @cached_property
    def lead(self) -> str:
        """What the scenario's counterfactual lever changes (e.g. the minerals deal), on the same
        draws under the first model; empty when the scenario has no counterfactual lever."""
        if not any(lv.counterfactual_of for lv in self.scenario.levers):
            return ""
        return hooks.compute("lead", self)  # parley.analysis.compare.counterfactual_lead

    def zone_summary(self) -> dict[str, Any] | None:
        """Share of draws in which some package satisfies every veto player (any model)."""
        if self.zone is None:
            return None
        p, lo, hi = self.zone.p_exists()
        ok = self.zone.exists
        package = {
            issue.id: (float(np.nanmedian(self.zone.package[ok, k]))
                       if np.isfinite(self.zone.package[ok, k]).any() else None)  # None: unconstrained
            for k, issue in enumerate(self.scenario.issues)
        }
        return {"p_exists": p, "ci_low": lo, "ci_high": hi, "ci_level": CI_LEVEL,
                "draws": self.zone.n, "median_package": package}

    def _repr_html_(self) -> str:
        """Jupyter shows the answer and tables (registered by parley.present)."""
        return hooks.html("forecast", self)

    def to_dict(self) -> dict[str, Any]:
        """The forecast as plain JSON-ready data (the answer and the landing points are added by
        the presentation layer, through `parley.core.hooks`)."""
        from parley.backtest import track_record
        from parley.core.jsonable import finite

        # finite(): NaN / inf anywhere (tables, zone summary, model info) becomes null, valid JSON
        data = {
            "scenario": {
                "id": self.scenario.id,
                "title": self.scenario.title,
                "as_of": self.scenario.as_of.isoformat(),
                "question": self.scenario.question,
            },
            "disclaimer": disclaimer(self.scenario),
            "outcomes": self.outcome_rows(),
            "settlement": self.settlement_rows(),
            "zone_of_agreement": self.zone_summary(),
            "actors": self.actor_rows(),
            "blockers": self.blocker_rows(),
            "model_info": {name: _json_info(res.draws.info) for name, res in self.results.items()},
            "track_record": track_record.for_models(list(self.results)),
            "provenance": self.provenance,
        }
        data.update(hooks.extras("forecast", self))
        # the answer reads first, after the scenario; the landing points beside the track record
        first = ("scenario", "answer", "disclaimer", "outcomes", "settlement", "zone_of_agreement",
                 "actors", "blockers", "model_info", "track_record", "landing")
        return finite({k: data[k] for k in first if k in data} | data)


def _cached_rows(fc: Forecast, key: str, build: Callable[[], list[dict[str, Any]]]
                 ) -> list[dict[str, Any]]:
    """A table's rows, built once per forecast (the screen, the answer and the record all read
    them; the blockers' medians over 10^4 draws cost ~15 ms a time); copies, so a caller that
    edits its rows leaves the forecast's alone."""
    memo = fc.__dict__.setdefault("_rows", {})
    if key not in memo:
        memo[key] = build()
    return [dict(r) for r in memo[key]]


def _in_units(issue: Any, row: dict[str, Any]) -> dict[str, Any]:
    """The row's point, median and band in the issue's units (None where it has no scale; the
    band's ends swap when the scale runs backwards, as the army cap's does)."""
    sc = issue.scale
    if sc is None:
        return {"unit": None, "point_units": None, "median_units": None, "p05_units": None,
                "p95_units": None}
    ends = sorted((sc.to_units(row["p05"]), sc.to_units(row["p95"])))
    return {"unit": sc.unit, "point_units": sc.to_units(row["point"]),
            "median_units": sc.to_units(row["median"]), "p05_units": ends[0], "p95_units": ends[1]}


def _frame(rows: list[dict[str, Any]], columns: list[str] | None = None) -> pd.DataFrame:
    """A DataFrame; pandas is imported on first use so that `import parley` stays light."""
    import pandas

    return pandas.DataFrame(rows, columns=columns)


def disclaimer(scenario: Scenario) -> str:
    base = (
        "Positions, saliences, capabilities and reservation points are analyst estimates, "
        "not measurements; the bands show only the uncertainty written into the scenario. "
        "Change them in the scenario file (see `parley validate` and docs/scenario-format.md)."
    )
    return f"{scenario.disclaimer.strip()} {base}".strip()


def _json_info(info: dict[str, Any]) -> dict[str, Any]:
    """Scalars as they are; per-draw flags as the share of draws, per-draw counts as the median
    (e.g. a dynamic model's rounds, converged, oscillated, cap)."""
    out: dict[str, Any] = {}
    for key, value in info.items():
        if isinstance(value, (int, float, str, bool)):
            out[key] = value
        elif isinstance(value, np.ndarray) and value.ndim == 1 and value.size:
            if value.dtype == bool:
                out[f"share_{key}"] = float(value.mean())
            elif np.issubdtype(value.dtype, np.number):
                out[f"median_{key}"] = float(np.median(value))
    return out


def forecast(
    scenario: Scenario | str,
    model: str | Sequence[str] = registry.STATIC,
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    params: dict[str, dict[str, Any]] | None = None,
    rule: Rule = "compensatory",
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    count_lead: bool = False,
    overlap: bool = False,
) -> Forecast:
    """Forecast a scenario with one or several models.

    progress(n) is called as draws finish; with `count_lead` it also counts the draws of the
    lead sentence's counterfactual run (computed here then, not on first use). `overlap` puts
    a second core to work on what is too small for a process pool, in forked processes: the
    costliest one-chunk model's draws (`_side_model`) and the answer's line of every model
    (`model_spread.Ahead`). Same numbers, less wait. Off by default: forking is safe in a
    single-threaded command (`parley run` sets it), not in a threaded server or notebook kernel.

    `params` maps a model name to its parameter overrides. The result records everything
    needed to reproduce it: scenario hash, models and parameters, draws, seed, version.

    Draws only where there is uncertainty: a scenario without uncertain inputs, under a model
    without randomness of its own, is computed once (`ModelResult.one_run`; the provenance's
    `draws_run` says how many draws each model computed). Everything else is unchanged.
    """
    from parley.io.loading import load

    if isinstance(scenario, str):
        scenario = load(scenario)
    names = [model] if isinstance(model, str) else list(model)
    batching.check_run(draws, seed)
    check_memory(len(scenario.actors), len(scenario.issues), draws, names,  # before allocating
                 scenario.tests_settlement)
    params = params or {}
    results: dict[str, ModelResult] = {}
    lay = batching.layout(scenario)
    for name in names:
        registry.make_params(name, params.get(name))  # bad names/params fail before recording
    from parley.analysis import model_spread

    others = [m for m in registry.names() if m not in names]  # for the answer's line of models
    wants_lead = (progress is not None and count_lead
                  and any(lv.counterfactual_of for lv in scenario.levers))
    record = runs.begin(scenario, names, params, draws, seed, rule)  # never raises
    side_name = (_side_model(names, params, lay.n_inputs, draws)
                 if overlap and workers is None else None)
    side = ahead = lead = None
    if side_name is not None:
        side = _SideRun(lay, side_name, registry.make_params(side_name, params.get(side_name)),
                        draws, seed, rule)
    elif overlap:
        ahead = model_spread.Ahead(scenario, others, rule)
    zone = None
    try:
        # the model run on the side is collected last, after the others ran here; while it
        # finishes, this process does what does not need it: the zone of agreement, the lead
        # sentence (the first model's counterfactual) and the answer's line of the other models
        for name in sorted(dict.fromkeys(names), key=lambda n: n == side_name):
            if name == side_name:
                zone = _zone_of(scenario, lay, draws, seed, rule)
                if wants_lead and names[0] != side_name:
                    first = Forecast(scenario, {names[0]: results[names[0]]},
                                     {"draws": draws, "seed": seed, "settlement_rule": rule})
                    lead = hooks.compute("lead", first, progress=progress)
                ahead = model_spread.Ready(model_spread.solve_others(scenario, others, rule))
            p = registry.make_params(name, params.get(name))
            one = not lay.n_inputs and not registry.own_randomness(name, p)  # every draw alike
            point = solve_batch(lay.base, name, registry.one_run_params(name, p) if one else p, rule)
            got = side.result() if side is not None and name == side_name else None
            if got is not None:
                sims, seconds = got
                if progress:
                    progress(draws)
            else:
                t0 = time.perf_counter()
                sims = point if one else simulate(scenario, name, p, draws, seed, rule,
                                                  workers=workers, progress=progress)
                seconds = time.perf_counter() - t0
                if one and progress:
                    progress(1)
            results[name] = ModelResult(name, registry.params_dict(p), point, sims, one_run=one,
                                        seconds=seconds)
    except BaseException as exc:
        record.fail(exc)
        raise
    results = {name: results[name] for name in names}  # in the order asked for
    if side is None:
        zone = _zone_of(scenario, lay, draws, seed, rule)
    provenance = {
        "parley_version": VERSION,
        "scenario_id": scenario.id,
        "scenario_hash": scenario.content_hash(),
        "models": {n: r.params for n, r in results.items()},
        "draws": draws,
        "seed": seed,
        "settlement_rule": rule,
        "uncertain_inputs": lay.n_inputs,
        "draws_run": {n: r.n for n, r in results.items()},
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    fc = Forecast(scenario, results, provenance, zone=zone)
    if ahead is not None:
        fc.__dict__["_spread_ahead"] = ahead
    if wants_lead:
        # the lead sentence solves the counterfactual on the same draws: as long as a model's
        # run, so a progress bar counts it (cached where `Forecast.lead` keeps it)
        fc.__dict__["lead"] = lead if lead is not None else hooks.compute("lead", fc,
                                                                            progress=progress)
    record.finish(fc)
    return fc


def _side_model(names: Sequence[str], params: dict[str, dict[str, Any]], n_inputs: int,
                draws: int) -> str | None:
    """The model whose draws a forked process computes while this one runs the others (two
    cores, work too small for a pool: e.g. `parley run`'s nash beside compromise and median):
    the costliest of the models whose Monte Carlo fits one chunk (`simulate` runs those inline,
    on one core), when at least two models need draws. None: run everything here."""
    from parley.analysis.simulate import DEFAULT_CHUNK, DYNAMIC_CHUNK

    ps = {m: registry.make_params(m, params.get(m)) for m in dict.fromkeys(names)}
    needs = {m: registry.draws_needed(m, p, n_inputs, draws) for m, p in ps.items()}
    if sum(1 for n in needs.values() if n > 1) < 2 or not can_fork():
        return None
    small = [m for m, n in needs.items()
             if 1 < n <= (DYNAMIC_CHUNK if registry.MODELS[m].dynamic else DEFAULT_CHUNK)]
    return max(small, key=lambda m: registry.relative_cost(m, ps[m])) if small else None


SIDE_CHUNK = 2 * batching.BLOCK
"""Chunk of the side model's draws: small enough that this process, done with its own work,
can take the last chunks instead of waiting; a whole number of RNG blocks, so the draws do not
depend on who computed which chunk."""


class _SideRun:
    """A model's draws computed beside this process's other work: chunks shared with a forked
    process (`parallel.Shared`), merged as `simulate` merges its chunks."""

    def __init__(self, lay: batching.Layout, name: str, p: Any, draws: int, seed: int,
                 rule: Rule) -> None:
        from functools import partial

        from parley.analysis.parallel import Shared
        from parley.analysis.simulate import chunks

        self._t0 = time.perf_counter()
        self._draws = draws
        self._ranges = list(chunks(draws, SIDE_CHUNK))
        self._shared = Shared(partial(_chunk, lay, name, p, seed, rule), self._ranges)

    def result(self) -> tuple[Draws, float]:
        from parley.analysis.simulate import merge_chunks

        parts = self._shared.results()
        merged = merge_chunks(self._draws, [a for a, _ in self._ranges], parts)
        return merged, time.perf_counter() - self._t0


def _chunk(lay: batching.Layout, name: str, p: Any, seed: int, rule: Rule,
           bounds: tuple[int, int]) -> Draws:
    from parley.analysis.simulate import run_chunk

    return run_chunk(lay, name, p, seed, bounds[0], bounds[1], rule)


def _zone_of(scenario: Scenario, lay: batching.Layout, draws: int, seed: int,
             rule: Rule) -> ZoneResult | None:
    """The zone check as a forecast runs it: on the first ZONE_DRAWS draws (one run without
    uncertain inputs); None without a settlement test."""
    if not scenario.tests_settlement:
        return None
    return _zone(lay, min(draws, ZONE_DRAWS) if lay.n_inputs else 1, seed, rule)


def _zone(lay: batching.Layout, draws: int, seed: int, rule: Rule) -> ZoneResult | None:
    """The zone of agreement on the first draws of the same stream the models saw (None when
    the scenario names no veto players: there is nobody whose acceptance to test)."""
    from parley.analysis.agreement_zone import zone

    if not lay.base.veto.any():
        return None
    b = batching.sample(lay, draws, seed) if lay.n_inputs else lay.base
    z = zone(b, rule)
    return ZoneResult(z.exists, z.package, one_run=not lay.n_inputs)
