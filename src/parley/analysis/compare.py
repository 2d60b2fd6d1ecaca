"""Baseline against levers on common random numbers: what each lever changes, with intervals.

Every chunk of draws is sampled once; the baseline and every lever variant are solved on that
same sample (the levers edit the sampled arrays), so the paired difference per draw is the
lever's effect alone. Chunks return additive tallies, so memory stays flat for 10^6 draws and
the merged result does not depend on where the chunks ran.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np

from parley.analysis import simulate as simulate_module
from parley.analysis.forecast import CI_LEVEL, DEFAULT_DRAWS, DEFAULT_SEED, Forecast
from parley.analysis.levers import Op, Variant, apply
from parley.analysis.parallel import executor, run_tasks
from parley.analysis.settlement import Rule, wilson
from parley.analysis.simulate import DEFAULT_CHUNK, DYNAMIC_CHUNK, Draws, chunks, solve_batch
from parley.core import batch as batching
from parley.core import hooks
from parley.core.scenario import Scenario
from parley.core.version import VERSION
from parley.models import registry

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Tally:
    """Additive statistics of one chunk, per model m and variant v (v = 0 is the baseline)."""

    n: np.ndarray  # [] draws
    settle: np.ndarray  # [M, V] draws that settle
    flips: np.ndarray  # [M, V] draws whose settle differs from the baseline's
    agree: np.ndarray  # [M, V] draws with a package
    accept: np.ndarray  # [M, V, N] draws with a package the actor accepts
    both: np.ndarray  # [M, V] draws with a package in v and in the baseline
    sum_o: np.ndarray  # [M, V, K] outcome sums over draws with a package
    sumsq_o: np.ndarray
    sum_d: np.ndarray  # [M, V, K] sums of (outcome_v - outcome_baseline) over `both` draws
    sumsq_d: np.ndarray

    def __add__(self, other: Tally) -> Tally:
        return Tally(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


def compare_chunk(
    lay: batching.Layout,
    ops: Sequence[tuple[Op, ...]],
    models: Sequence[str],
    params: Sequence[Any],
    seed: int,
    start: int,
    stop: int,
    rule: Rule = "compensatory",
    known: Sequence[Draws | None] | None = None,
) -> Tally:
    """Sample draws [start, stop) once, then solve every model on every variant of them.

    known[m]: model m's baseline results on exactly these draws (a forecast's), used as they
    are instead of being solved again."""
    base = batching.sample(lay, stop - start, seed, start)
    m_n, v_n = len(models), len(ops)
    n_act, k = base.n_actors, base.n_issues
    z2 = np.zeros((m_n, v_n))
    z3 = np.zeros((m_n, v_n, k))
    t = {name: z2.copy() for name in ("settle", "flips", "agree", "both")}
    t["accept"] = np.zeros((m_n, v_n, n_act))
    for name in ("sum_o", "sumsq_o", "sum_d", "sumsq_d"):
        t[name] = z3.copy()
    batches = [apply(base, v) for v in ops]
    for m, (model, p) in enumerate(zip(models, params, strict=True)):
        ref = None
        for v, b in enumerate(batches):
            given = known[m] if known is not None and v == 0 else None
            d = given if given is not None else solve_batch(b, model, p, rule)
            if ref is None:
                ref = d
            ok = d.agreement
            t["settle"][m, v] = d.settle.sum()
            t["flips"][m, v] = (d.settle != ref.settle).sum()
            t["agree"][m, v] = ok.sum()
            t["accept"][m, v] = (d.accept & ok[:, None]).sum(axis=0)
            o = np.where(ok[:, None], d.outcome, 0.0)
            t["sum_o"][m, v] = o.sum(axis=0)
            t["sumsq_o"][m, v] = (o * o).sum(axis=0)
            both = ok & ref.agreement
            diff = np.where(both[:, None], d.outcome - ref.outcome, 0.0)
            t["both"][m, v] = both.sum()
            t["sum_d"][m, v] = diff.sum(axis=0)
            t["sumsq_d"][m, v] = (diff * diff).sum(axis=0)
    return Tally(n=np.array(stop - start), **t)


@dataclass(frozen=True)
class PointResult:
    outcome: np.ndarray  # [K]
    settle: bool
    accept: np.ndarray  # [N]
    agreement: bool


@dataclass(frozen=True)
class Comparison:
    """Baseline and lever variants of one scenario, for several models, on the same draws."""

    scenario: Scenario
    variants: tuple[Variant, ...]
    models: tuple[str, ...]
    tally: Tally
    point: dict[tuple[str, str], PointResult]  # (model, variant id) -> point-estimate result
    provenance: dict[str, Any]

    @property
    def n(self) -> int:
        return int(self.tally.n)

    @property
    def one_run(self) -> bool:
        """No uncertain inputs and deterministic models: one run stands for every draw."""
        return bool(self.provenance.get("one_run", False))

    def _z(self) -> float:
        return NormalDist().inv_cdf(0.5 + CI_LEVEL / 2)

    # Each table exists as plain rows (what the lead sentence of `parley run` reads: no pandas
    # import on the command's path) and as a DataFrame.
    def settlement(self) -> pd.DataFrame:
        """P(settlement) per model and variant, and its paired change from the baseline."""
        import pandas as pd

        return pd.DataFrame(self.settlement_rows())

    def outcomes(self) -> pd.DataFrame:
        """Mean outcome per model, variant and issue, and its paired change from the baseline."""
        import pandas as pd

        return pd.DataFrame(self.outcome_rows())

    def actors(self) -> pd.DataFrame:
        """P(accept) per model, variant and veto actor, and its change from the baseline."""
        import pandas as pd

        # the columns exist even with no veto players (outcome-only scenarios)
        return pd.DataFrame(self.actor_rows(), columns=["model", "variant", "actor", "actor_name",
                                                        "p_accept", "delta"])

    def settlement_rows(self) -> list[dict[str, Any]]:
        """The rows of `settlement()`."""
        t, n, z = self.tally, max(self.n, 1), self._z()
        rows = []
        for m, model in enumerate(self.models):
            for v, var in enumerate(self.variants):
                k = int(t.settle[m, v])
                lo, hi = (k / n, k / n) if self.one_run else wilson(k, self.n, CI_LEVEL)
                delta = (t.settle[m, v] - t.settle[m, 0]) / n
                se = np.sqrt(max(t.flips[m, v] / n - delta**2, 0.0) / n)
                pt = self.point[(model, var.id)]
                rows.append({
                    "model": model, "variant": var.id, "name": var.name,
                    "p_settlement": k / n, "ci_low": lo, "ci_high": hi,
                    "delta": float(delta),
                    "delta_low": float(delta - z * se),
                    "delta_high": float(delta + z * se),
                    "draws_changed": int(t.flips[m, v]) / n,
                    "p_package": float(t.agree[m, v] / n),
                    "point_settles": pt.settle,
                })
        return rows

    def outcome_rows(self) -> list[dict[str, Any]]:
        """The rows of `outcomes()`."""
        t, z = self.tally, self._z()
        rows = []
        for m, model in enumerate(self.models):
            base_pt = self.point[(model, self.variants[0].id)]
            for v, var in enumerate(self.variants):
                pt = self.point[(model, var.id)]
                agree, both = t.agree[m, v], t.both[m, v]
                for k, issue in enumerate(self.scenario.issues):
                    mean = t.sum_o[m, v, k] / agree if agree else np.nan
                    dm = t.sum_d[m, v, k] / both if both else np.nan
                    var_d = t.sumsq_d[m, v, k] / both - dm**2 if both else np.nan
                    se = np.sqrt(max(var_d, 0.0) / both) if both else np.nan
                    rows.append({
                        "model": model, "variant": var.id, "issue": issue.id, "issue_name": issue.name,
                        "mean": float(mean), "point": float(pt.outcome[k]),
                        "delta": float(dm), "delta_low": float(dm - z * se), "delta_high": float(dm + z * se),
                        "delta_point": float(pt.outcome[k] - base_pt.outcome[k]),
                    })
        return rows

    def actor_rows(self) -> list[dict[str, Any]]:
        """The rows of `actors()`."""
        t = self.tally
        rows = []
        veto = [i for i, a in enumerate(self.scenario.actors) if a.veto]
        for m, model in enumerate(self.models):
            for v, var in enumerate(self.variants):
                for i in veto:
                    p = t.accept[m, v, i] / t.agree[m, v] if t.agree[m, v] else np.nan
                    p0 = t.accept[m, 0, i] / t.agree[m, 0] if t.agree[m, 0] else np.nan
                    rows.append({
                        "model": model, "variant": var.id, "actor": self.scenario.actors[i].id,
                        "actor_name": self.scenario.actors[i].name,
                        "p_accept": float(p), "delta": float(p - p0),
                    })
        return rows

    def ranking(self, model: str | None = None, issue: str | None = None) -> pd.DataFrame:
        """Single-lever variants ranked by their effect on P(settlement) (ties broken by the
        summed change in the veto players' P(accept)), or on one issue's mean outcome, or, for a
        scenario without a settlement test, by the largest move of any issue's mean outcome."""
        model = model or self.models[0]
        st = self.settlement()
        st = st[(st.model == model) & (st.variant != self.variants[0].id)].set_index("variant")
        acc = self.actors()
        acc = acc[acc.model == model].groupby("variant")["delta"].sum()
        out = st[["name", "p_settlement", "delta", "delta_low", "delta_high"]].copy()
        out["accept_change"] = acc.reindex(out.index).to_numpy()
        for a in [a for a in self.scenario.actors if a.veto]:
            rows = self.actors()
            rows = rows[(rows.model == model) & (rows.actor == a.id)].set_index("variant")["delta"]
            out[f"accept_{a.id}"] = rows.reindex(out.index).to_numpy()
        if issue is not None or not self.scenario.tests_settlement:
            # by one issue's outcome; without a settlement test, by each lever's largest move
            oc = self.outcomes()
            oc = oc[(oc.model == model) & np.isfinite(oc.delta)]
            if issue is not None:
                oc = oc[oc.issue == issue]
            oc = oc.loc[oc.groupby("variant")["delta"].apply(lambda d: d.abs().idxmax())]
            oc = oc.set_index("variant")
            out["issue"] = oc["issue"].reindex(out.index).to_numpy()
            out["issue_delta"] = oc["delta"].reindex(out.index).to_numpy()
            out["issue_delta_low"] = oc["delta_low"].reindex(out.index).to_numpy()
            out["issue_delta_high"] = oc["delta_high"].reindex(out.index).to_numpy()
            order = out["issue_delta"].abs().sort_values(ascending=False).index
        else:
            order = out.sort_values(["delta", "accept_change"], ascending=False).index
        out = out.loc[order].reset_index()
        out.insert(0, "rank", np.arange(1, len(out) + 1))
        out.insert(1, "model", model)
        return out

    def _repr_html_(self) -> str:
        """Jupyter shows the answer and tables (registered by parley.present)."""
        return hooks.html("comparison", self)

    def to_dict(self) -> dict[str, Any]:
        def records(df: pd.DataFrame) -> list[dict[str, Any]]:
            return [
                {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
                for r in df.to_dict(orient="records")
            ]

        from parley.analysis.levers import lever_records

        levers = [lv for var in self.variants for lv in var.levers]
        unique = list({lv.id: lv for lv in levers}.values())
        return {
            "scenario": {"id": self.scenario.id, "title": self.scenario.title,
                         "question": self.scenario.question},
            "answer": lever_answer(self),
            "variants": [{"id": v.id, "name": v.name, "levers": [lv.id for lv in v.levers]}
                         for v in self.variants],
            "levers": lever_records(self.scenario, unique),
            "settlement": records(self.settlement()),
            "outcomes": records(self.outcomes()),
            "actors": records(self.actors()),
            "provenance": self.provenance,
        }


def compare(
    scenario: Scenario,
    variants: Sequence[Variant],
    models: str | Sequence[str] = registry.STATIC,
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    params: dict[str, dict[str, Any]] | None = None,
    rule: Rule = "compensatory",
    scheduler: str | None = None,
    workers: int | None = None,
    chunk: int = DEFAULT_CHUNK,
    progress: Callable[[int], None] | None = None,
    baseline: dict[str, Draws] | None = None,
    pool_pays: bool | None = None,
) -> Comparison:
    """Run the baseline and every variant on the same draws (the first variant is the baseline).

    progress(n) is called with the number of draws finished. A scenario without uncertain
    inputs, under models without randomness of their own, is run once (every variant applies
    fixed changes to fixed values, so every draw would repeat that run); the provenance then
    says `one_run` and `draws_run` 1.

    `baseline` maps a model to its per-draw results on the baseline for the same scenario, draws,
    seed, params and rule (a forecast's `ModelResult.draws`): they are reused, not recomputed,
    so a forecast's counterfactual lead costs one more run, not two.

    `pool_pays`: whether a process pool pays, when the caller knows it already (the lead: the
    forecast just ran the same model on the same draws); None decides as `simulate` does.
    """
    batching.check_run(draws, seed)
    names = (models,) if isinstance(models, str) else tuple(models)
    variants = tuple(variants)
    if not variants or not variants[0].is_baseline:
        from parley.analysis.levers import compile_variant

        variants = (compile_variant(scenario, ()), *variants)
    params = params or {}
    ps = [registry.make_params(m, params.get(m)) for m in names]
    lay = batching.layout(scenario)
    one_run = not lay.n_inputs and not any(registry.own_randomness(m, p)
                                           for m, p in zip(names, ps, strict=True))
    requested, draws = draws, 1 if one_run else draws
    ops = [v.ops for v in variants]
    if any(registry.MODELS[m].dynamic for m in names):
        chunk = min(chunk, DYNAMIC_CHUNK)  # as in `simulate`: smaller pieces, shared by workers
    ranges = list(chunks(draws, chunk))
    given = {m: d for m, d in (baseline or {}).items() if m in names and d.settle.shape[0] == draws}

    def known(a: int, b: int) -> list[Draws | None] | None:
        if not given:
            return None
        return [_rows(given[m], a, b) if m in given else None for m in names]

    tasks = [(lay, ops, names, ps, seed, a, b, rule, known(a, b)) for a, b in ranges]
    sizes = [b - a for a, b in ranges]
    done = iter(sizes)

    def tick(_: int) -> None:
        if progress:
            progress(requested if one_run else next(done))

    parts = []
    if pool_pays is not None and scheduler is None and workers is None:
        big = pool_pays and len(tasks) > 1  # no first chunk alone on one core to time it
    elif scheduler is None and workers is None and len(tasks) >= 3 and (os.cpu_count() or 1) >= 2:
        # as `simulate`: the first chunk here, timed; a pool for the rest only when it pays
        t0 = time.perf_counter()
        parts = run_tasks(compare_chunk, tasks[:1], None, tick)
        tasks = tasks[1:]
        big = (time.perf_counter() - t0) * len(tasks) >= simulate_module.POOL_PAYS
    else:  # in compromise-model draws, the work of the variants still to solve
        solved = len(variants) - (1 if len(given) == len(names) else 0)
        work = draws * solved * sum(registry.relative_cost(m, p) for m, p in zip(names, ps, strict=True))
        big = work >= simulate_module.PARALLEL_THRESHOLD and len(ranges) > 1
    with executor(scheduler, workers, parallel=big) as pool:
        parts += run_tasks(compare_chunk, tasks, pool, tick)
    tally = parts[0]
    for part in parts[1:]:
        tally = tally + part
    point: dict[tuple[str, str], PointResult] = {}
    for model, p in zip(names, ps, strict=True):
        for var in variants:
            d = solve_batch(apply(lay.base, var), model, p, rule)
            point[(model, var.id)] = PointResult(d.outcome[0], bool(d.settle[0]), d.accept[0],
                                                 bool(d.agreement[0]))
    provenance = {
        "parley_version": VERSION,
        "scenario_id": scenario.id,
        "scenario_hash": scenario.content_hash(),
        "models": {n: registry.params_dict(p) for n, p in zip(names, ps, strict=True)},
        "variants": [v.id for v in variants],
        "draws": requested,
        "draws_run": draws,
        "one_run": one_run,
        "seed": seed,
        "settlement_rule": rule,
        "common_random_numbers": True,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return Comparison(scenario, variants, names, tally, point, provenance)


def _rows(d: Draws, a: int, b: int) -> Draws:
    """Draws [a, b) of a result (what compare_chunk reads of the baseline)."""
    return Draws(outcome=d.outcome[a:b], agreement=d.agreement[a:b], accept=d.accept[a:b],
                 deficit=d.deficit[a:b], drives=d.drives[a:b], move=d.move[a:b],
                 settle=d.settle[a:b], info={})


# --- words --------------------------------------------------------------------------------------
def _pts(x: float) -> str:
    v = round(100 * x, 1) + 0.0  # no "-0.0"
    return f"{v:+.1f} points"


def _cases(cmp: Comparison) -> str:
    return "no uncertain inputs: one run" if cmp.one_run else f"same {cmp.n:,} simulated cases"


def _interval(lo: float, hi: float) -> str:
    if round(100 * lo, 1) == round(100 * hi, 1):
        return "no simulated case changes its verdict"
    return f"90% interval {_pts(lo)} to {_pts(hi)}"


def lever_answer(cmp: Comparison, model: str | None = None) -> str:
    """Plain words: first what the counterfactual thing (e.g. a deal) changes, then the levers
    that move P(settlement) most, each with its interval. Without a settlement test (no veto
    players), what each lever does to the outcomes."""
    if not cmp.scenario.tests_settlement:
        return outcome_levers_text(cmp, model)
    parts = [counterfactual_text(cmp, model), levers_text(cmp, model)]
    return " ".join(p for p in parts if p)


def outcome_levers_text(cmp: Comparison, model: str | None = None, k: int = 5) -> str:
    """For an outcome-only scenario: each lever's largest move of an issue's mean outcome, with
    its interval (and in the issue's units where it has them), largest first."""
    model = model or cmp.models[0]
    top = cmp.ranking(model)  # outcome-only: by each lever's largest move, largest first
    top = top[np.isfinite(top.issue_delta.astype(float))].head(k)
    if top.empty:
        return f"No lever changes a forecast under the {model} model."
    items = []
    for r in top.itertuples():
        issue = cmp.scenario.issue(r.issue)
        item = (f"{r.name} moves {issue.name} by {r.issue_delta:+.1f} points "
                f"(90% interval {r.issue_delta_low:+.1f} to {r.issue_delta_high:+.1f})")
        if issue.scale is not None:
            shift = issue.scale.to_units(r.issue_delta) - issue.scale.to_units(0.0)
            item += f", {shift:+.{issue.scale.decimals}f} {issue.scale.unit}"
        items.append(item)
    return (f"What the levers change under the {model} model ({_cases(cmp)}; "
            "this scenario has no settlement test, so only the outcomes are compared): "
            + "; ".join(items) + ".")


def counterfactual_text(cmp: Comparison, model: str | None = None) -> str:
    """For each counterfactual lever ("no deal"): the difference the real thing makes, i.e.
    the baseline (with it) minus the lever (without it), on the same draws."""
    from parley.core.text import pct

    model = model or cmp.models[0]
    st = {r["variant"]: r for r in cmp.settlement_rows() if r["model"] == model}
    base = st[cmp.variants[0].id]
    acc = [r for r in cmp.actor_rows() if r["model"] == model]
    oc = cmp.outcome_rows()
    parts = []
    for var in cmp.variants[1:]:
        thing = var.counterfactual_of
        if not thing:
            continue
        r = st[var.id]
        eff, lo, hi = -r["delta"], -r["delta_high"], -r["delta_low"]
        size = "hardly any difference" if abs(eff) < 0.005 else "a difference"
        text = (
            f"What difference does {thing} make? Under the {model} model, {size} to the chance of a "
            f"settlement: {pct(base['p_settlement'])} with it, {pct(r['p_settlement'])} without it "
            f"({_pts(eff)}; {_interval(lo, hi)}; {_cases(cmp)})."
        )
        moves = [f"{row['actor_name']} {_pts(-row['delta'])}" for row in acc
                 if row["variant"] == var.id and np.isfinite(row["delta"]) and abs(row["delta"]) >= 0.005]
        o_var = [r2 for r2 in oc if r2["model"] == model and r2["variant"] == var.id]
        # the two largest moves (NaN last, ties in table order, as pandas' descending sort)
        big = sorted(o_var, key=lambda r2: -abs(r2["delta"]) if np.isfinite(r2["delta"]) else np.inf)[:2]
        shifts = [f"{r2['issue_name']} by {-r2['delta']:+.1f}" for r2 in big
                  if np.isfinite(r2["delta"]) and abs(r2["delta"]) >= 0.5]
        if moves:
            text += f" It changes how often the veto players accept the package: {', '.join(moves)}"
            text += f"; and it moves {' and '.join(shifts)} points." if shifts else "."
        elif shifts:
            text += f" It moves {' and '.join(shifts)} points."
        parts.append(text)
    return " ".join(parts)


def levers_text(cmp: Comparison, model: str | None = None, k: int = 3) -> str:
    """The k ordinary levers with the largest effect on P(settlement), then on acceptance."""
    from parley.core.text import pct

    model = model or cmp.models[0]
    others = [v for v in cmp.variants[1:] if not v.counterfactual_of]
    if not others:
        return ""
    st = cmp.settlement()
    base = st[(st.model == model)].iloc[0]
    acc = cmp.actors()
    acc = acc[acc.model == model]
    rank = cmp.ranking(model)
    rank = rank[rank.variant.isin([v.id for v in others])].head(k)
    items = []
    for r in rank.itertuples():
        item = f"{r.name}: {_pts(r.delta)} ({_interval(r.delta_low, r.delta_high)})"
        moved = [f"{a.actor_name} {_pts(a.delta)}" for a in acc[acc.variant == r.variant].itertuples()
                 if np.isfinite(a.delta) and abs(a.delta) >= 0.005]
        if moved:
            item += f", acceptance {', '.join(moved)}"
        items.append(item)
    return (f"The levers that move P(settlement) (baseline {pct(base.p_settlement)}, {model} model) "
            "most: " + "; ".join(items) + ".")


def counterfactual_lead(fc: Forecast, draws: int | None = None,
                        progress: Callable[[int], None] | None = None) -> str:
    """The sentence(s) a plain-language answer should lead with when the scenario has a
    counterfactual lever: what the thing in force (e.g. the minerals deal) changes, under the
    forecast's first model, seed and rule, on the same draws. Empty when there is none.

    For `parley run` / the web answer: prepend this to `narrative.answer(fc)`.
    """
    from parley.analysis.levers import variants as make_variants

    s = fc.scenario
    ids = [lv.id for lv in s.levers if lv.counterfactual_of]
    if not ids:
        return ""
    model = next(iter(fc.results))
    pv = fc.provenance
    res = fc.results[model]
    # the counterfactual costs what the forecast's run of this model cost: a pool pays when that
    # run took longer than a pool's start-up is worth (simulate's rule, on a measured time)
    pays = None if draws else res.seconds >= simulate_module.POOL_PAYS
    cmp = compare(s, make_variants(s, ids), model, draws=draws or int(pv.get("draws", DEFAULT_DRAWS)),
                  seed=int(pv.get("seed", DEFAULT_SEED)), params={model: res.params},
                  rule=pv.get("settlement_rule", "compensatory"),
                  baseline=None if draws else {model: res.draws}, progress=progress, pool_pays=pays)
    return counterfactual_text(cmp, model)
