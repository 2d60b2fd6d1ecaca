"""Where the focal model loses CRPS on the DEU development split, and what was tried against it.

Run: `PYTHONPATH=src /work/venv/bin/python scripts/focal_study.py STUDY [SEEDS...]` with STUDY one of
- `where`: out-of-fold CRPS by what the outcome hit (fold seed 0);
- `bound`: CRPS of the model fitted to all 229 issues and scored on the same issues (no CV), by
  likelihood and by CRPS itself: a floor for this feature set that no honest CV figure beats;
- `needed`: how much more probability on the right alternative would reach CRPS 13.5;
- `crps_fit`: coefficients fitted by minimising CRPS instead of the likelihood (grouped CV);
- `recalibrate`: a temperature and a remainder offset fitted by CRPS on inner out-of-fold
  utilities (grouped CV);
- `pool`: each feature of a candidate pool added alone to the shipped features (grouped CV);
- `select`: forward selection from the pool inside every training set (inner grouped 5-fold CV,
  up to three features, each must lower inner CRPS by 0.02): the nested figure;
- `select_v1`: the same from version 1's features (without the three that version 2 added), with
  those three in the pool: the nested figure for how version 2's features were chosen;
- `gbm`: gradient boosting (LightGBM, not a parley dependency: install it to run this) on the
  candidate rows with a grouped-softmax objective, started from the linear utilities.
Only the development split is read. Figures are printed; docs/models/focal.md quotes them.

CRPS here uses the exact quadratic form of a mixed forecast: with probabilities p over the atoms
and the remainder, CRPS = p·a − ½ pᵀBp, where a holds E|X_j − y| and B holds E|X_j − X_k| (the
remainder is piecewise uniform on 1-point bins), so CRPS and its gradient are cheap.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from parley.backtest import fit_focal as ff
from parley.backtest.capability import CapabilitySpec
from parley.backtest.cv import grouped_folds
from parley.backtest.data import load_deu
from parley.backtest.runner import issue_batches
from parley.models.mixed import Mixed

BINS = np.arange(100.0)
SELF = np.abs(BINS[:, None] - BINS[None]) + np.eye(100) / 3.0  # E|U_k − U_l| of 1-point bins


def bin_abs(x: np.ndarray) -> np.ndarray:
    """E|U_k − x| for U_k uniform on [k, k + 1]: [..., 100]."""
    x = np.asarray(x, float)[..., None]
    inside = (x >= BINS) & (x <= BINS + 1)
    return np.where(inside, ((x - BINS) ** 2 + (BINS + 1 - x) ** 2) / 2, np.abs(BINS + 0.5 - x))


@dataclass
class Data:
    items: list[ff.IssueDesign]
    y: np.ndarray
    groups: np.ndarray
    X: np.ndarray  # [I, A + 1, F], remainder last
    ok: np.ndarray
    pts: np.ndarray  # [I, A]
    chosen: np.ndarray
    cdf: np.ndarray  # remainder CDF on the knots at the shipped procedure's scale
    a: np.ndarray
    B: np.ndarray


def load(scale: float = 31.0) -> Data:
    dev = load_deu()
    items = ff.designs(dev, CapabilitySpec("votes"))
    X, ok = ff._padded(items)
    n_alt = X.shape[1] - 1
    pts = np.full((len(items), n_alt), 100.0)
    for i, it in enumerate(items):
        pts[i, : len(it.point)] = it.point
    y = dev.outcomes
    chosen = np.array([ff.choice(d, yi, X.shape[1]) for d, yi in zip(items, y, strict=True)])
    cdf = ff._cdf(items, scale)
    r = np.diff(cdf, axis=1)
    a = np.zeros((len(y), n_alt + 1))
    B = np.zeros((len(y), n_alt + 1, n_alt + 1))
    a[:, :n_alt] = np.abs(pts - y[:, None])
    a[:, n_alt] = (r * bin_abs(y)).sum(-1)
    B[:, :n_alt, :n_alt] = np.abs(pts[:, :, None] - pts[:, None, :])
    cross = np.einsum("ik,iak->ia", r, bin_abs(pts))
    B[:, :n_alt, n_alt], B[:, n_alt, :n_alt] = cross, cross
    B[:, n_alt, n_alt] = np.einsum("ik,kl,il->i", r, SELF, r)
    return Data(items, y, dev.groups, X, ok, pts, chosen, cdf, a, B)


def probs(X: np.ndarray, ok: np.ndarray, beta: np.ndarray) -> np.ndarray:
    u = np.where(ok, X @ beta, -np.inf)
    e = np.exp(u - u.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def crps(p: np.ndarray, a: np.ndarray, B: np.ndarray) -> np.ndarray:
    return (p * a).sum(-1) - 0.5 * np.einsum("ia,iab,ib->i", p, B, p)


def fit_mle(X: np.ndarray, ok: np.ndarray, chosen: np.ndarray, ridge: float = ff.RIDGE) -> np.ndarray:
    """The conditional logit of fit_focal.fit on any feature matrix."""
    rows, n = np.arange(len(X)), len(X)

    def objective(beta: np.ndarray) -> tuple[float, np.ndarray]:
        u = np.where(ok, X @ beta, -np.inf)
        top = u.max(1, keepdims=True)
        e = np.exp(u - top)
        z = e.sum(1)
        p = e / z[:, None]
        ll = (u[rows, chosen] - top[:, 0] - np.log(z)).sum()
        grad = (X[rows, chosen] - np.einsum("ia,iaf->if", p, X)).sum(0)
        return (-ll + ridge * n * beta @ beta) / n, (-grad + 2 * ridge * n * beta) / n

    return minimize(objective, np.zeros(X.shape[-1]), jac=True, method="L-BFGS-B",
                    options={"maxiter": 1000, "gtol": 1e-9}).x


def fit_crps(X: np.ndarray, ok: np.ndarray, a: np.ndarray, B: np.ndarray, ridge: float,
             start: np.ndarray) -> np.ndarray:
    """Coefficients minimising mean CRPS + ridge·|β|² (analytic gradient through the softmax)."""
    n = len(X)

    def objective(beta: np.ndarray) -> tuple[float, np.ndarray]:
        p = probs(X, ok, beta)
        g = a - np.einsum("iab,ib->ia", B, p)
        du = p * (g - (p * g).sum(1, keepdims=True))
        return (crps(p, a, B).mean() + ridge * beta @ beta,
                np.einsum("ia,iaf->f", du, X) / n + 2 * ridge * beta)

    return minimize(objective, start, jac=True, method="L-BFGS-B", options={"maxiter": 2000}).x


def scores(d: Data, P: np.ndarray) -> dict[str, float]:
    dist = Mixed(d.pts, P[:, :-1], d.cdf)
    cov80, _ = dist.prediction_set(d.y, 0.8)
    cov50, _ = dist.prediction_set(d.y, 0.5)
    return {"crps": float(dist.crps(d.y).mean()), "mae": float(np.abs(dist.median() - d.y).mean()),
            "exact_hit": float((np.abs(dist.mode_point() - d.y) <= 0.5).mean()),
            "coverage50": float(cov50.mean()), "coverage80": float(cov80.mean())}


def cross_validate(d: Data, seeds: list[int], fit, X: np.ndarray | None = None) -> dict[str, float]:
    """Mean scores over fold seeds of 10-fold CV grouped by proposal; fit(train) -> P of test."""
    X = d.X if X is None else X
    rows = []
    for seed in seeds:
        folds = grouped_folds(d.groups, 10, seed)
        P = np.zeros(d.a.shape)
        for f in np.unique(folds):
            tr, te = np.flatnonzero(folds != f), np.flatnonzero(folds == f)
            P[te] = fit(X, tr, te, seed)
        rows.append(scores(d, P))
    return {k: round(float(np.mean([r[k] for r in rows])), 3) for k in rows[0]}


def mle_predict(d: Data, ridge: float = ff.RIDGE):
    def fit(X: np.ndarray, tr: np.ndarray, te: np.ndarray, seed: int) -> np.ndarray:
        return probs(X[te], d.ok[te], fit_mle(X[tr], d.ok[tr], d.chosen[tr], ridge))
    return fit


POOL = ("top_capability", "salience_share", "distance_reference", "compromise_side_of_reference",
        "commission_and_parliament", "council_share", "distance_median", "reference_unknown",
        "landing_points", "nearest_held_to_compromise", "parliament_council_median",
        "between_commission_parliament")
"""Candidate features tried beyond the shipped ones (the last two of the remainder row)."""
V2_ADDED = ("capability_rank", "council_median", "between_commission_reference")


def pool(d: Data) -> np.ndarray:
    """The pool's features [I, A + 1, len(POOL)] (zeros for padding)."""
    dev = load_deu()
    batches = issue_batches(dev, CapabilitySpec("votes"))
    out = np.zeros((*d.X.shape[:2], len(POOL)))
    for i, (it, b, issue) in enumerate(zip(d.items, batches, dev.issues, strict=True)):
        x, H = it.point, it.holders.astype(float)
        m = len(x)
        pos, sal, cap = b.position[0, :, 0], b.salience[0, :, 0], b.capability[0]
        acts, q = list(b.actors), issue.reference_point
        council = np.array([a not in ("com", "ep") for a in acts])
        cw = cap * council
        f = np.zeros((m, len(POOL)))
        f[:, 0] = H[:, np.argmax(cw)]
        f[:, 1] = H @ sal / sal.sum()
        if np.isfinite(q):
            f[:, 2] = np.abs(x - q) / 100
            f[:, 3] = (np.sign(x - q) == np.sign(it.centre - q)) & (np.abs(x - q) > 0.5)
        if "com" in acts and "ep" in acts:
            com, ep = acts.index("com"), acts.index("ep")
            f[:, 4] = H[:, com] * H[:, ep]
            lo, hi = sorted((pos[com], pos[ep]))
            f[:, 11] = (x >= lo - 0.5) & (x <= hi + 0.5)
        f[:, 5] = H @ cw / max(cw.sum(), 1e-9)
        w = cap * sal
        o = np.argsort(pos)
        cs = np.cumsum(w[o])
        f[:, 6] = np.abs(x - pos[o][np.searchsorted(cs, cs[-1] / 2)]) / 100
        held = H.any(1)
        if held.any():
            f[np.argmin(np.where(held, np.abs(x - it.centre), np.inf)), 9] = 1
        if "ep" in acts:
            median = it.X[:m, list(_names()).index("council_median")]
            f[:, 10] = H[:, acts.index("ep")] * median
        out[i, :m] = f
        out[i, -1, 7] = float(not np.isfinite(q))
        out[i, -1, 8] = m / 10
    return out


def two_positions(dev, batches, say) -> None:
    """On issues with two distinct positions: how often the outcome is at neither, and which
    side wins when it is at one (the Commission's, the Council capability majority's, the
    pivot rule's: change needs 72% of the Council, or all of it under unanimity)."""
    n = other = com_won = majority_won = pivot_won = pivot_known = 0
    for issue, b in zip(dev.issues, batches, strict=True):
        sides = np.unique(issue.position)
        if sides.size != 2:
            continue
        n += 1
        at = np.flatnonzero(np.abs(sides - issue.outcome) <= 0.5)
        if at.size == 0:
            other += 1
            continue
        won, acts, pos = sides[at[0]], list(issue.actors), issue.position
        council = np.array([a not in ("com", "ep") for a in acts]) * b.capability[0]
        com_won += "com" in acts and pos[acts.index("com")] == won
        high = council[pos == sides[1]].sum() / council.sum()
        majority_won += sides[int(high >= 0.5)] == won
        q = issue.reference_point
        if np.isfinite(q) and np.min(np.abs(sides - q)) <= 0.5:
            status = int(np.argmin(np.abs(sides - q)))
            change = 1 - status
            share = high if change == 1 else 1 - high
            need = 0.72 if issue.rule == "QMV" else 1 - 1e-9
            pivot_known += 1
            pivot_won += sides[change if share >= need else status] == won
    landed = n - other
    say(f"two distinct positions: {n} issues, outcome at neither {other}; of {landed} at one: "
        f"Commission's side {com_won}, Council capability majority's {majority_won}; "
        f"pivot rule right {pivot_won} of {pivot_known} with the reference point at a side\n")


def _names() -> tuple[str, ...]:
    from parley.models import focal
    return focal.ALL_FEATURES


def main(argv: list[str]) -> None:
    study = argv[0] if argv else "where"
    seeds = [int(s) for s in argv[1:]] or [0, 1, 2]
    d = load()
    say = sys.stdout.write
    base = cross_validate(d, seeds, mle_predict(d))
    say(f"shipped specification, grouped CV seeds {seeds}: {base}\n")
    if study == "where":
        folds = grouped_folds(d.groups, 10, 0)
        P = np.zeros(d.a.shape)
        for f in np.unique(folds):
            tr, te = np.flatnonzero(folds != f), np.flatnonzero(folds == f)
            P[te] = mle_predict(d)(d.X, tr, te, 0)
        c = crps(P, d.a, d.B)
        right = P[np.arange(len(d.y)), d.chosen]
        dev = load_deu()
        kinds = []
        for i, it in enumerate(d.items):
            j = d.chosen[i]
            if j == d.X.shape[1] - 1:
                kinds.append("remainder (no landing point)")
                continue
            names = {dev.issues[i].actors[k] for k in np.flatnonzero(it.holders[j])}
            kinds.append("held by com and ep" if {"com", "ep"} <= names else
                         "held by com, not ep" if "com" in names else
                         "held by ep, not com" if "ep" in names else
                         "held by member states only" if names else
                         "reference, scale or procedural point only")
        kinds_a = np.array(kinds)
        say("outcome hit | issues | share of total CRPS | mean CRPS | mean p on it\n")
        for k in sorted(set(kinds)):
            m = kinds_a == k
            say(f"{k} | {m.sum()} | {c[m].sum() / c.sum():.2f} | {c[m].mean():.1f} | "
                f"{right[m].mean():.2f}\n")
        distinct = np.array([len(set(i.position)) for i in dev.issues])
        for lo, hi in ((2, 2), (3, 3), (4, 4), (5, 99)):
            m = (distinct >= lo) & (distinct <= hi)
            say(f"{lo}-{hi} distinct positions | {m.sum()} | {c[m].sum() / c.sum():.2f} | "
                f"{c[m].mean():.1f} | {right[m].mean():.2f}\n")
        two_positions(dev, issue_batches(dev, CapabilitySpec("votes")), say)
    elif study == "bound":
        beta = fit_mle(d.X, d.ok, d.chosen, 0.0)
        say(f"in-sample, likelihood fit: CRPS {crps(probs(d.X, d.ok, beta), d.a, d.B).mean():.2f}\n")
        best = fit_crps(d.X, d.ok, d.a, d.B, 0.0, beta)
        say(f"in-sample, CRPS fit: CRPS {crps(probs(d.X, d.ok, best), d.a, d.B).mean():.2f}\n")
    elif study == "needed":
        folds = grouped_folds(d.groups, 10, 0)
        P = np.zeros(d.a.shape)
        for f in np.unique(folds):
            tr, te = np.flatnonzero(folds != f), np.flatnonzero(folds == f)
            P[te] = mle_predict(d)(d.X, tr, te, 0)
        truth = np.zeros_like(P)
        truth[np.arange(len(d.y)), d.chosen] = 1
        for lam in (0.0, 0.05, 0.1, 0.15, 0.2):
            Q = (1 - lam) * P + lam * truth
            say(f"move {lam:.2f} of the probability to the right alternative: mean p on it "
                f"{Q[np.arange(len(d.y)), d.chosen].mean():.3f}, CRPS {crps(Q, d.a, d.B).mean():.2f}\n")
    elif study == "crps_fit":
        for ridge in (0.003, 0.01, 0.03, 0.1, 0.3):
            def fit(X, tr, te, seed, ridge=ridge):
                start = fit_mle(X[tr], d.ok[tr], d.chosen[tr])
                beta = fit_crps(X[tr], d.ok[tr], d.a[tr], d.B[tr], ridge, start)
                return probs(X[te], d.ok[te], beta)
            say(f"CRPS-fitted coefficients, ridge {ridge}: {cross_validate(d, seeds, fit)}\n")
    elif study == "recalibrate":
        def fit(X, tr, te, seed):
            inner = grouped_folds(d.groups[tr], 5, seed)
            U = np.zeros((len(tr), X.shape[1]))
            for g in np.unique(inner):
                t, e = tr[inner != g], tr[inner == g]
                U[inner == g] = X[e] @ fit_mle(X[t], d.ok[t], d.chosen[t])

            def calibrated(u, ok, temp, shift):
                v = u / temp
                v[:, -1] += shift
                v = np.where(ok, v, -np.inf)
                e = np.exp(v - v.max(1, keepdims=True))
                return e / e.sum(1, keepdims=True)
            grid = [(t, s) for t in (0.6, 0.7, 0.8, 0.9, 1.0, 1.15, 1.3, 1.5)
                    for s in (-1, -0.5, -0.25, 0, 0.25, 0.5, 1)]
            t, s = min(grid, key=lambda g: crps(calibrated(U.copy(), d.ok[tr], *g),
                                                 d.a[tr], d.B[tr]).mean())
            beta = fit_mle(X[tr], d.ok[tr], d.chosen[tr])
            return calibrated(X[te] @ beta, d.ok[te], t, s)
        say(f"temperature + remainder shift by inner CRPS: {cross_validate(d, seeds, fit)}\n")
    elif study in ("pool", "select", "select_v1"):
        extra, names, X0 = pool(d), list(POOL), d.X
        if study == "select_v1":
            added = [list(_names()).index(n) for n in V2_ADDED]
            extra = np.concatenate([extra, d.X[:, :, added]], -1)
            names += list(V2_ADDED)
            X0 = np.delete(d.X, added, axis=-1)
            say(f"version 1 features: {cross_validate(d, seeds, mle_predict(d), X0)}\n")
        if study == "pool":
            for j, name in enumerate(POOL):
                X = np.concatenate([d.X, extra[:, :, [j]]], -1)
                say(f"+ {name}: {cross_validate(d, seeds, mle_predict(d), X)}\n")
        else:
            def inner_crps(X, tr, seed):
                inner = grouped_folds(d.groups[tr], 5, seed)
                out = []
                for g in np.unique(inner):
                    t, e = tr[inner != g], tr[inner == g]
                    p = probs(X[e], d.ok[e], fit_mle(X[t], d.ok[t], d.chosen[t]))
                    out.append(crps(p, d.a[e], d.B[e]))
                return float(np.concatenate(out).mean())

            def fit(X, tr, te, seed):
                keep: list[int] = []
                best = inner_crps(X, tr, seed)
                while len(keep) < 3:
                    trial = [(inner_crps(np.concatenate([X, extra[:, :, [*keep, j]]], -1), tr,
                                         seed), j) for j in range(len(names)) if j not in keep]
                    value, j = min(trial)
                    if value >= best - 0.02:
                        break
                    best, keep = value, [*keep, j]
                say(f"  fold selects {[names[j] for j in keep]}\n")
                Xk = np.concatenate([X, extra[:, :, keep]], -1)
                return probs(Xk[te], d.ok[te], fit_mle(Xk[tr], d.ok[tr], d.chosen[tr]))
            say(f"nested forward selection: {cross_validate(d, seeds, fit, X0)}\n")
    elif study == "gbm":
        import lightgbm as lgb  # not a parley dependency

        n_iss, n_alt = d.ok.shape
        issue_of_row = np.repeat(np.arange(n_iss), n_alt).reshape(n_iss, n_alt)
        for rounds in (10, 50, 100, 200):
            def fit(X, tr, te, seed, rounds=rounds):
                beta = fit_mle(X[tr], d.ok[tr], d.chosen[tr])
                m = d.ok[tr]
                target = np.zeros((len(tr), n_alt))
                target[np.arange(len(tr)), d.chosen[tr]] = 1
                owner = issue_of_row[: len(tr)][m]

                def softmax(preds, _data, owner=owner, target=target[m]):
                    e = np.exp(preds - preds.max())
                    p = e / np.bincount(owner, weights=e)[owner]
                    return p - target, np.maximum(p * (1 - p), 1e-6)
                data = lgb.Dataset(X[tr][m], label=target[m], init_score=(X[tr] @ beta)[m])
                booster = lgb.train({"objective": softmax, "learning_rate": 0.05, "num_leaves": 4,
                                     "min_data_in_leaf": 20, "lambda_l2": 1.0, "verbose": -1,
                                     "num_threads": 1}, data, num_boost_round=rounds)
                u = np.full((len(te), n_alt), -np.inf)
                mt = d.ok[te]
                u[mt] = (X[te] @ beta)[mt] + booster.predict(X[te][mt], raw_score=True)
                e = np.exp(u - u.max(1, keepdims=True))
                return e / e.sum(1, keepdims=True)
            say(f"boosted on the linear utilities, {rounds} rounds: {cross_validate(d, seeds, fit)}\n")
    else:
        raise SystemExit(f"unknown study {study!r}; see the module docstring")


if __name__ == "__main__":
    main(sys.argv[1:])
