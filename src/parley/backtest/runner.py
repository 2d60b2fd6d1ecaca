"""Run registered models issue by issue and collect their point forecasts.

Each issue becomes its own one-issue Batch (D = 1, K = 1, only the coded actors), which is the
data every model in the registry must accept. A model that raises, or is too slow, is reported
as skipped with the reason instead of stopping the leaderboard, so models still being written
join the leaderboard as soon as they work.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from parley.backtest.capability import CapabilitySpec, capabilities
from parley.backtest.data import Dataset
from parley.core.batch import Batch
from parley.models import registry


@dataclass(frozen=True)
class ModelRun:
    """One model's forecasts on every issue of a dataset (NaN where it gave none)."""

    model: str
    forecast: np.ndarray  # [I]
    seconds: float
    no_agreement: int = 0  # issues where the model found no agreement
    fell_back: int = 0  # of those, issues forecast at the reference point instead
    error: str = ""  # non-empty when the model could not be run
    evaluation: str = "fixed parameters"
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.error


def issue_batches(dataset: Dataset, spec: CapabilitySpec) -> list[Batch]:
    """One single-issue Batch per issue, capabilities from the chosen convention."""
    caps = capabilities(dataset, spec)
    out = []
    for issue, cap in zip(dataset.issues, caps, strict=True):
        out.append(Batch.from_arrays(
            issue.position[:, None],
            issue.salience[:, None],
            cap,
            status_quo=np.array([issue.reference_point]),
            actors=issue.actors,
            issues=(issue.isnr,),
        ))
    return out


def stacked_batches(batches: list[Batch]) -> list[tuple[np.ndarray, Batch]]:
    """Issues with the same actor layout stacked as draws of one Batch: (issue indices, batch).

    A draw is one realisation of a scenario's numbers, and every model treats draws independently,
    so one-issue problems with the same number of actors can be solved as draws of one batch:
    the same answers, one vectorised call instead of hundreds. Actors are reordered with the
    Commission and the Parliament first (named `com`, `ep`) and the others named by rank, since
    models see actors only through their numbers (the ensemble looks up `com` and `ep`).
    """
    groups: dict[tuple[int, bool, bool], list[int]] = {}
    orders = []
    for i, b in enumerate(batches):
        names = list(b.actors)
        front = [names.index(a) for a in ("com", "ep") if a in names]
        order = front + [j for j in range(len(names)) if j not in front]
        orders.append(np.array(order))
        groups.setdefault((len(names), "com" in names, "ep" in names), []).append(i)
    out = []
    for (n, has_com, has_ep), idx in groups.items():
        names = (("com",) if has_com else ()) + (("ep",) if has_ep else ())
        names += tuple(f"a{j}" for j in range(n - len(names)))
        parts = [batches[i].permute_actors(orders[i]) for i in idx]
        out.append((np.array(idx), Batch.from_arrays(
            np.concatenate([p.position for p in parts]),
            np.concatenate([p.salience for p in parts]),
            np.concatenate([p.capability for p in parts]),
            status_quo=np.concatenate([p.status_quo for p in parts]),
            actors=names, issues=("issue",))))
    return out


def runnable_models() -> list[str]:
    """Every registered model; which of them actually run on one-issue data is found by trying."""
    return registry.names()


def run_model(name: str, batches: list[Batch], dataset: Dataset, params: Any = None,
              budget_s: float = 120.0, stack: bool = True) -> ModelRun:
    """Forecast every issue with one model. No-agreement forecasts fall back to the issue's
    reference point (the no-deal outcome) where it is coded, else stay missing.

    With `stack`, issues of the same actor layout are solved as draws of one batch; if a model
    fails that way it is retried issue by issue, so the error names the issue that breaks it.
    """
    start = time.perf_counter()
    forecast = np.full(len(batches), np.nan)
    try:
        mod = registry.module(name)
        params = params if params is not None else mod.Params()
        done = False
        if stack:
            try:
                for idx, batch in stacked_batches(batches):
                    out = np.asarray(mod.solve(batch, params).outcome, dtype=float)
                    forecast[idx] = out.reshape(len(idx), -1)[:, 0]
                done = True
            except Exception:
                forecast[:] = np.nan
        if not done:
            for i, batch in enumerate(batches):
                try:
                    result = mod.solve(batch, params)
                except Exception as exc:
                    raise type(exc)(f"{exc} (issue {dataset.issues[i].isnr})") from None
                forecast[i] = float(np.asarray(result.outcome, dtype=float).reshape(-1)[0])
                if time.perf_counter() - start > budget_s:
                    raise TimeoutError(f"stopped after {budget_s:.0f} s at issue {i + 1} of "
                                       f"{len(batches)}")
    except Exception as exc:  # a broken or unfinished model must not stop the leaderboard
        return ModelRun(name, np.full(len(batches), np.nan), time.perf_counter() - start,
                        error=f"{type(exc).__name__}: {exc}".strip()[:300])
    return _finish(name, forecast, dataset, time.perf_counter() - start)


def _finish(name: str, forecast: np.ndarray, dataset: Dataset, seconds: float) -> ModelRun:
    """No-agreement issues to the reference point where coded; forecasts clipped to 0–100."""
    bad = ~np.isfinite(forecast)
    ref = np.array([i.reference_point for i in dataset.issues])
    fill = bad & np.isfinite(ref)
    forecast = np.where(fill, ref, forecast)
    forecast = np.where(np.isfinite(forecast), np.clip(forecast, 0.0, 100.0), np.nan)
    return ModelRun(name, forecast, seconds, no_agreement=int(bad.sum()),
                    fell_back=int(fill.sum()))


def proposal_batches(dataset: Dataset, spec: CapabilitySpec) -> list[tuple[np.ndarray, Batch]]:
    """One multi-issue Batch per proposal: (issue indices, batch with K = its issues).

    Issues of one proposal were negotiated together, so models that link issues (vote trading,
    package deals) can only show what they do when they see them together. Actors are the union
    of the proposal's coded actors; an actor not coded on an issue is not engaged there. An
    actor's capability is the one its first issue gives it (the era and voting rule rarely
    differ within a proposal).
    """
    caps = capabilities(dataset, spec)
    by_proposal: dict[str, list[int]] = {}
    for i, issue in enumerate(dataset.issues):
        by_proposal.setdefault(issue.prnr, []).append(i)
    out = []
    for idx in by_proposal.values():
        actors: list[str] = []
        capability: dict[str, float] = {}
        for i in idx:
            for a, c in zip(dataset.issues[i].actors, caps[i], strict=True):
                if a not in capability:
                    actors.append(a)
                    capability[a] = float(c)
        n, k = len(actors), len(idx)
        pos, sal = np.zeros((n, k)), np.zeros((n, k))
        engaged = np.zeros((n, k), bool)
        row = {a: r for r, a in enumerate(actors)}
        for j, i in enumerate(idx):
            issue = dataset.issues[i]
            rows = [row[a] for a in issue.actors]
            pos[rows, j], sal[rows, j], engaged[rows, j] = issue.position, issue.salience, True
        out.append((np.array(idx), Batch.from_arrays(
            pos, sal, np.array([capability[a] for a in actors]), engaged=engaged,
            status_quo=np.array([dataset.issues[i].reference_point for i in idx]),
            actors=tuple(actors), issues=tuple(dataset.issues[i].isnr for i in idx))))
    return out


def run_model_by_proposal(name: str, dataset: Dataset, spec: CapabilitySpec,
                          params: Any = None, budget_s: float = 120.0) -> ModelRun:
    """Like run_model, with each proposal's issues solved together as one package."""
    start = time.perf_counter()
    forecast = np.full(len(dataset.issues), np.nan)
    try:
        mod = registry.module(name)
        params = params if params is not None else mod.Params()
        for idx, batch in proposal_batches(dataset, spec):
            try:
                out = np.asarray(mod.solve(batch, params).outcome, dtype=float)
            except Exception as exc:
                raise type(exc)(f"{exc} (proposal {dataset.issues[idx[0]].prnr})") from None
            forecast[idx] = out.reshape(-1)[: len(idx)]
            if time.perf_counter() - start > budget_s:
                raise TimeoutError(f"stopped after {budget_s:.0f} s")
    except Exception as exc:
        return ModelRun(name, np.full(len(forecast), np.nan), time.perf_counter() - start,
                        error=f"{type(exc).__name__}: {exc}".strip()[:300])
    return _finish(name, forecast, dataset, time.perf_counter() - start)
