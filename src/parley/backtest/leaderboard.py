"""The leaderboard: every registered model scored on one dataset, with honest uncertainty.

Two settings, decided by whether the scored data is the calibration (development) data:
- development: models with fitted parameters (the ensemble) are refitted inside a grouped
  cross-validation, and intervals are calibrated on the other folds;
- new data (a held-out split, someone's own data): fitted models use the parameters shipped with
  parley and intervals use quantiles fitted on the development split; nothing is refitted.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parley.backtest import intervals as iv
from parley.backtest.capability import CapabilitySpec
from parley.backtest.cv import DEFAULT_FOLDS, grouped_folds
from parley.backtest.data import Dataset
from parley.backtest.metrics import Estimate, bootstrap_mean, bootstrap_metrics, paired_difference
from parley.backtest.runner import (
    ModelRun,
    issue_batches,
    run_model,
    run_model_by_proposal,
    runnable_models,
)
from parley.core.batch import seed_problems
from parley.core.errors import ParleyInputError
from parley.models import registry

BASELINE = "compromise"


TABLE_COLUMNS = ("model", "n", "MAE", "RMSE", "median AE", "≤10 (%)", "ΔMAE", "CRPS", "ΔCRPS",
                 "exact (%)", "cov 50/80", "s")


def _ci(est: Estimate, scale: float = 1.0, digits: int = 1) -> str:
    """Value and its interval on one line."""
    return (f"{est.value * scale:.{digits}f} [{est.low * scale:.{digits}f}, "
            f"{est.high * scale:.{digits}f}]")


@dataclass(frozen=True)
class Row:
    model: str
    evaluation: str
    capability: str
    n: int
    missing: int
    metrics: dict[str, Estimate]
    vs_baseline: Estimate | None
    coverage: dict[float, float]  # level -> share of outcomes inside
    width: dict[float, float]  # level -> mean interval width
    seconds: float
    crps: Estimate | None = None  # of forecast + out-of-sample residual distribution
    no_agreement: int = 0
    fell_back: int = 0
    error: str = ""
    by_regime: dict[str, dict[str, float]] = field(default_factory=dict)  # "proc=COD" -> n, mae
    crps_vs_baseline: Estimate | None = None  # CRPS − the baseline's CRPS, paired by proposal
    pit: np.ndarray | None = None  # probability integral transform of every scored outcome
    forecast_kind: str = "point"  # "point" (scored with its conformal intervals) or "distribution"

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "evaluation": self.evaluation, "capability": self.capability,
            "n": self.n, "missing": self.missing, "seconds": round(self.seconds, 4),
            "no_agreement": self.no_agreement, "fell_back_to_reference": self.fell_back,
            "error": self.error or None,
            "metrics": {k: v.as_dict() for k, v in self.metrics.items()},
            "mae_minus_baseline": self.vs_baseline.as_dict() if self.vs_baseline else None,
            "crps": self.crps.as_dict() if self.crps else None,
            "crps_minus_baseline": (self.crps_vs_baseline.as_dict() if self.crps_vs_baseline
                                    else None),
            "forecast_kind": self.forecast_kind,
            "pit_histogram": (np.histogram(self.pit, bins=10, range=(0, 1))[0].tolist()
                              if self.pit is not None else None),
            "mae_by_regime": self.by_regime,
            "coverage": {f"{int(k * 100)}%": v for k, v in self.coverage.items()},
            "mean_width": {f"{int(k * 100)}%": v for k, v in self.width.items()},
        }


@dataclass(frozen=True)
class Leaderboard:
    dataset: str
    setting: str  # "development (grouped CV)" or "new data (fixed parameters)"
    capability: str
    rows: list[Row]
    predictions: list[dict[str, Any]] = field(default_factory=list)
    skipped_issues: dict[str, str] = field(default_factory=dict)
    folds: int = DEFAULT_FOLDS
    seed: int = 0
    seconds: float = 0.0
    unit: str = "issue"

    def ranked(self) -> list[Row]:
        """Rows that ran, best (lowest) MAE first."""
        return sorted([r for r in self.rows if not r.error], key=lambda r: r.metrics["mae"].value)

    def display_rows(self) -> list[list[str]]:
        """The ranked rows as text cells under TABLE_COLUMNS (terminal and notebook share them);
        a `*` marks a model evaluated with refitting (its `evaluation` says how)."""
        out = []
        for r in self.ranked():
            m = r.metrics
            out.append([
                r.model + ("*" if r.evaluation != "fixed parameters" else ""),
                f"{r.n}" + (f" (+{r.missing} none)" if r.missing else ""),
                _ci(m["mae"]), _ci(m["rmse"]), _ci(m["median_ae"]), _ci(m["within10"], 100, 0),
                _ci(r.vs_baseline) if r.vs_baseline else "—",
                _ci(r.crps) if r.crps else "—",
                _ci(r.crps_vs_baseline) if r.crps_vs_baseline else "—",
                _ci(m["exact_hit"], 100, 0) if "exact_hit" in m else "—",
                f"{r.coverage[0.5] * 100:.0f}% / {r.coverage[0.8] * 100:.0f}%", f"{r.seconds:.2f}",
            ])
        return out

    def title(self) -> str:
        return (f"Backtest {self.dataset}: {self.setting}; capability {self.capability}; "
                f"solved by {self.unit}")

    def _repr_html_(self) -> str:
        """Jupyter shows the leaderboard table (registered by parley.present)."""
        from parley.core import hooks

        return hooks.html("leaderboard", self)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset, "setting": self.setting, "capability": self.capability,
            "baseline": BASELINE, "folds": self.folds, "seed": self.seed, "unit": self.unit,
            "seconds": round(self.seconds, 3),
            "issues_skipped": self.skipped_issues,
            "rows": [r.as_dict() for r in self.rows],
        }


def forecasts(dataset: Dataset, spec: CapabilitySpec, models: list[str], *,
              folds: np.ndarray | None = None, budget_s: float = 120.0,
              unit: str = "issue") -> dict[str, ModelRun]:
    """Point forecasts of every model; fitted models are refitted per fold when `folds` is given
    (development), else use their shipped parameters. `unit="proposal"` solves each proposal's
    issues together (for models that link issues); fitted models always work issue by issue."""
    batches = issue_batches(dataset, spec)
    out: dict[str, ModelRun] = {}
    for name in models:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            mod = _module(name)
            if mod is not None and getattr(mod, "DISTRIBUTIONAL", False):
                out[name] = _distribution_run(name, dataset, spec, folds)
            elif mod is not None and _is_fitted(mod):
                out[name] = _fitted_run(name, mod, batches, dataset, folds)
            elif unit == "proposal":
                out[name] = run_model_by_proposal(name, dataset, spec, budget_s=budget_s)
            else:
                out[name] = run_model(name, batches, dataset, budget_s=budget_s)
    return out


def leaderboard(dataset: Dataset, spec: CapabilitySpec | None = None,
                models: list[str] | None = None, *, calibration: Dataset | None = None,
                n_folds: int = DEFAULT_FOLDS, seed: int = 0, reps: int = 2000,
                budget_s: float = 120.0, unit: str = "issue") -> Leaderboard:
    """Score every model on `dataset`.

    `calibration=None` means `dataset` is development data (grouped CV for everything fitted);
    otherwise intervals are calibrated on `calibration` (the bundled DEU development split) and
    fitted models use the parameters shipped with parley.
    """
    if bad_seed := seed_problems(seed):
        raise ParleyInputError(bad_seed)
    start = time.perf_counter()
    spec = spec or CapabilitySpec()
    models = models or runnable_models()
    y, groups = dataset.outcomes, dataset.groups
    development = calibration is None
    folds = grouped_folds(groups, n_folds, seed)
    runs = forecasts(dataset, spec, models, folds=folds if development else None,
                     budget_s=budget_s, unit=unit)
    cal_errors: dict[str, np.ndarray] = {}
    if not development:
        cal_folds = grouped_folds(calibration.groups, n_folds, seed)
        cal_runs = forecasts(calibration, spec, [m for m in models if runs[m].ok],
                             folds=cal_folds, budget_s=budget_s, unit=unit)
        cal_errors = {m: calibration.outcomes - r.forecast for m, r in cal_runs.items()}

    base = runs.get(BASELINE)
    base_crps = None
    rows, predictions = [], []
    for name in models:
        run = runs[name]
        err = run.forecast - y
        ok = np.isfinite(err)
        if not run.ok:
            rows.append(Row(name, "skipped", spec.label(), 0, len(y), {}, None, {}, {},
                            run.seconds, error=run.error))
            continue
        metrics = bootstrap_metrics(err[ok], groups[ok], reps=reps, seed=seed)
        diff = (paired_difference(err, base.forecast - y, groups, reps=reps, seed=seed)
                if base is not None and base.ok and name != BASELINE else None)
        dist = run.info.get("distribution")
        if dist is not None:
            cov, width, bounds, crps, hit, pit = _distribution_scores(dist, y, seed)
        else:
            cal = None if development else cal_errors.get(name, np.array([]))
            cov, width, bounds, crps, pit = _point_scores(run.forecast, y, folds, cal, seed)
            hit = np.abs(err) <= 0.5
        if name == BASELINE:
            base_crps = crps
        metrics["crps"] = bootstrap_mean(crps[ok], groups[ok], reps=reps, seed=seed)
        metrics["exact_hit"] = bootstrap_mean(hit[ok].astype(float), groups[ok], reps=reps,
                                              seed=seed)
        crps_diff = (paired_difference(crps, base_crps, groups, reps=reps, seed=seed)
                     if base_crps is not None and name != BASELINE else None)
        evaluation = (run.evaluation if development or run.evaluation == "fixed parameters"
                      else "shipped parameters")
        rows.append(Row(name, evaluation, spec.label(), int(ok.sum()), int((~ok).sum()),
                        metrics, diff, cov, width, run.seconds, metrics["crps"], run.no_agreement,
                        run.fell_back, by_regime=_by_regime(dataset, err),
                        crps_vs_baseline=crps_diff, pit=pit[ok],
                        forecast_kind="distribution" if dist is not None else "point"))
        for i, issue in enumerate(dataset.issues):
            predictions.append({
                "isnr": issue.isnr, "prnr": issue.prnr, "model": name,
                "capability": spec.label(), "outcome": issue.outcome,
                "forecast": _num(run.forecast[i]), "error": _num(err[i]),
                "low50": _num(bounds[0.5][0][i]), "high50": _num(bounds[0.5][1][i]),
                "low80": _num(bounds[0.8][0][i]), "high80": _num(bounds[0.8][1][i]),
                "crps": _num(crps[i]), "exact_hit": bool(hit[i]), "pit": _num(pit[i]),
            })
    return Leaderboard(
        dataset=dataset.name,
        setting="development (grouped CV)" if development else "new data (fixed parameters)",
        capability=spec.label(), rows=rows, predictions=predictions,
        skipped_issues=dict(dataset.skipped), folds=int(folds.max() + 1), seed=seed,
        seconds=time.perf_counter() - start, unit=unit)


def _point_scores(forecast: np.ndarray, y: np.ndarray, folds: np.ndarray,
                  cal_errors: np.ndarray | None, seed: int):
    """Coverage, width and bounds of conformal intervals, CRPS and PIT of forecast + residual
    distributions: residuals of the other folds (development) or of the calibration data."""
    cov, width, bounds = {}, {}, {}
    for level in iv.LEVELS:
        if cal_errors is None:
            cov[level], width[level] = iv.cv_coverage(forecast, y, folds, level)
            bounds[level] = _cv_bounds(forecast, y, folds, level)
        else:
            q = iv.conformal_quantile(np.abs(cal_errors), level)
            cov[level], width[level] = iv.fixed_coverage(forecast, y, q)
            bounds[level] = iv.interval(forecast, q)
    u = np.random.default_rng(seed).uniform(size=len(y))
    if cal_errors is None:
        crps, pit = iv.cv_crps(forecast, y, folds), iv.cv_pit(forecast, y, folds, u)
    else:
        crps = iv.crps_from_residuals(forecast, y, cal_errors)
        pit = iv.pit_from_residuals(forecast, y, cal_errors, u)
    return cov, width, bounds, crps, pit


def _distribution_scores(dist, y: np.ndarray, seed: int):
    """Coverage and size of prediction sets, central-interval bounds (for the CSV), exact CRPS,
    exact hits of the most likely point and randomised PIT of a distributional forecast."""
    cov, width, bounds = {}, {}, {}
    for level in iv.LEVELS:
        covered, size = dist.prediction_set(y, level)
        cov[level], width[level] = float(covered.mean()), float(size.mean())
        bounds[level] = (dist.quantile((1 - level) / 2), dist.quantile((1 + level) / 2))
    hit = np.abs(dist.mode_point() - y) <= 0.5
    pit = dist.pit(y, np.random.default_rng(seed).uniform(size=len(y)))
    return cov, width, bounds, dist.crps(y), hit, pit


def _distribution_run(name: str, dataset: Dataset, spec: CapabilitySpec,
                      folds: np.ndarray | None) -> ModelRun:
    """A model that forecasts distributions (focal): its median is the point forecast."""
    from parley.backtest import fit_focal

    start = time.perf_counter()
    try:
        dist, evaluation = fit_focal.run(dataset, spec, folds)
    except Exception as exc:
        return ModelRun(name, np.full(len(dataset.issues), np.nan), time.perf_counter() - start,
                        error=f"{type(exc).__name__}: {exc}"[:300])
    return ModelRun(name, np.clip(dist.median(), 0, 100), time.perf_counter() - start,
                    evaluation=evaluation, info={"distribution": dist})


def _by_regime(dataset: Dataset, err: np.ndarray) -> dict[str, dict[str, float]]:
    """MAE per procedure and per Council voting rule (where the data codes them)."""
    out: dict[str, dict[str, float]] = {}
    for key in ("proc", "rule"):
        values = np.array([getattr(i, key) for i in dataset.issues])
        for v in sorted(set(values) - {""}):
            sel = (values == v) & np.isfinite(err)
            if sel.any():
                out[f"{key}={v}"] = {"n": int(sel.sum()), "mae": float(np.abs(err[sel]).mean())}
    return out


def _cv_bounds(forecast, y, folds, level):
    err = np.abs(forecast - y)
    lo, hi = np.full(len(y), np.nan), np.full(len(y), np.nan)
    for f in np.unique(folds):
        test = folds == f
        q = iv.conformal_quantile(err[~test], level)
        lo[test], hi[test] = iv.interval(forecast[test], q)
    return lo, hi


def _module(name: str):
    try:
        return registry.module(name)
    except Exception:
        return None


def _is_fitted(mod) -> bool:
    """Models with parameters fitted on data expose `components` and `fit` (see ensemble)."""
    return hasattr(mod, "fit") and hasattr(mod, "components")


def _fitted_run(name, mod, batches, dataset: Dataset, folds: np.ndarray | None) -> ModelRun:
    """Forecasts of a fitted model: refitted per fold on development data, else as shipped."""
    start = time.perf_counter()
    try:
        params = mod.Params()
        F = np.stack([np.asarray(mod.components(b, params))[0, 0] for b in batches])  # [I, J]
        if folds is None:
            pred = F @ np.asarray(params.weight_vector())
            evaluation = "shipped parameters"
        else:
            pred = np.full(len(batches), np.nan)
            y = dataset.outcomes
            for f in np.unique(folds):
                test = folds == f
                weights = mod.fit(F[~test], y[~test])
                pred[test] = F[test] @ weights
            evaluation = "grouped CV (refitted per fold)"
    except Exception as exc:
        return ModelRun(name, np.full(len(batches), np.nan), time.perf_counter() - start,
                        error=f"{type(exc).__name__}: {exc}"[:300])
    return ModelRun(name, np.clip(pred, 0, 100), time.perf_counter() - start,
                    evaluation=evaluation)


def _num(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None
