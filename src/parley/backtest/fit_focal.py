"""Fit the focal model on backtest data: a conditional logit over landing points.

Each issue is one choice: among its merged landing points and the continuous remainder, the
outcome "chose" the point within 0.5 of it (else the remainder). McFadden's conditional logit is
exactly this model: a point's probability is exp(x·β) over the issue's sum, so issues with
different numbers of candidates share one β without per-issue constants. It is fitted by
penalised maximum likelihood (a small ridge, `RIDGE`, keeps coefficients finite when a feature
separates the outcomes of a training fold) with scipy's L-BFGS and the analytic gradient: 0.1 s
per fit, where statsmodels' general `ConditionalLogit` (several chosen alternatives per group,
numerical Hessian) takes 2–4 s, too slow to refit in every fold of every backtest. The tests
check that both give the same coefficients without the penalty. The remainder's Laplace scale is
fitted separately by maximum likelihood on the outcomes that hit no point (its likelihood factor
does not involve β).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parley.backtest.capability import CapabilitySpec
from parley.backtest.data import Dataset, Issue
from parley.backtest.runner import issue_batches
from parley.models import focal
from parley.models.mixed import Mixed, laplace_cdf

HIT = 0.5
"""An outcome within this many points of a landing point landed there (DEU codes integers)."""
RIDGE = 0.01
"""Ridge penalty per issue on the squared coefficients: chosen from (0, 0.003, 0.01, 0.03, 0.1)
by grouped CV on the development split (fold seeds 0–2); `scripts/fit_focal.py` also reports the
figure with the penalty chosen inside each training fold (nested CV)."""
RIDGES = (0.0, 0.003, 0.01, 0.03, 0.1)
SCALES = np.arange(2.0, 60.5, 0.5)
"""Laplace scales searched for the remainder (points on the 0–100 scale)."""


@dataclass(frozen=True)
class IssueDesign:
    point: np.ndarray  # [A] landing points (valid ones only)
    X: np.ndarray  # [A + 1, F], last row the remainder
    centre: float
    low: float
    high: float
    holders: np.ndarray  # [A, N]


def issue_params(issue: Issue, base: focal.Params | None = None) -> focal.Params:
    """The focal model's rule and procedure for one DEU issue (QMV / unanimity, COD / CNS)."""
    from dataclasses import replace

    base = base or focal.Params()
    rule = "unanimity" if issue.rule == "Unan" else "qmv"
    proc = {"COD": "codecision", "CNS": "consultation"}.get(issue.proc, "none")
    return replace(base, rule=rule, procedure=proc)


def designs(dataset: Dataset, spec: CapabilitySpec) -> list[IssueDesign]:
    """One design per issue (D = 1, K = 1)."""
    out = []
    for issue, batch in zip(dataset.issues, issue_batches(dataset, spec), strict=True):
        des = focal.design(batch, issue_params(issue))
        v = des.valid[0, 0]
        keep = np.concatenate([v, [True]])
        out.append(IssueDesign(des.point[0, 0][v], des.X[0, 0][keep], float(des.centre[0, 0]),
                               float(des.low[0, 0]), float(des.high[0, 0]), des.holders[0, 0][v]))
    return out


def choice(des: IssueDesign, y: float, padded: int | None = None) -> int:
    """Index of the landing point the outcome hit (nearest within HIT), else the remainder
    (index len(point), or `padded` − 1 in a padded array)."""
    gap = np.abs(des.point - y)
    if gap.size and gap.min() <= HIT:
        return int(np.argmin(gap))
    return len(des.point) if padded is None else padded - 1


def fit(items: list[IssueDesign], y: np.ndarray, ridge: float = RIDGE) -> dict[str, object]:
    """Coefficients (penalised maximum likelihood) and remainder scale fitted on these issues."""
    from scipy.optimize import minimize

    X, ok = _padded(items)
    chosen = np.array([choice(d, yi, X.shape[1]) for d, yi in zip(items, y, strict=True)])
    rows = np.arange(len(items))
    n = len(items)

    def objective(beta: np.ndarray) -> tuple[float, np.ndarray]:
        u = np.where(ok, X @ beta, -np.inf)
        top = u.max(axis=1, keepdims=True)
        e = np.exp(u - top)
        z = e.sum(axis=1)
        p = e / z[:, None]
        ll = (u[rows, chosen] - top[:, 0] - np.log(z)).sum()
        grad = (X[rows, chosen] - np.einsum("ia,iaf->if", p, X)).sum(axis=0)
        return (-ll + ridge * n * beta @ beta) / n, (-grad + 2 * ridge * n * beta) / n

    res = minimize(objective, np.zeros(X.shape[-1]), jac=True, method="L-BFGS-B",
                   options={"maxiter": 1000, "gtol": 1e-9})
    if not res.success:
        raise RuntimeError(f"focal fit failed: {res.message}")
    miss = chosen == X.shape[1] - 1
    scale = fit_scale([d for d, m in zip(items, miss, strict=True) if m], y[miss])
    return {"coefficients": dict(zip(focal.ALL_FEATURES, res.x.round(6).tolist(), strict=True)),
            "remainder_scale": scale, "hits": int((~miss).sum()), "issues": len(items)}


def _padded(items: list[IssueDesign]) -> tuple[np.ndarray, np.ndarray]:
    """Alternatives of every issue in one array [I, A_max + 1, F] (remainder last) and the mask
    of real alternatives."""
    a = max(len(d.X) for d in items)
    X = np.zeros((len(items), a, items[0].X.shape[1]))
    ok = np.zeros((len(items), a), bool)
    for i, d in enumerate(items):
        m = len(d.X) - 1
        X[i, :m], X[i, -1] = d.X[:-1], d.X[-1]
        ok[i, :m], ok[i, -1] = True, True
    return X, ok


def fit_scale(items: list[IssueDesign], y: np.ndarray) -> float:
    """Maximum-likelihood scale of the truncated Laplace remainder (on its 1-point bins)."""
    if y.size == 0:
        return 15.0
    cells = [np.clip(np.floor(y).astype(int), 0, 99), np.clip(np.ceil(y).astype(int) - 1, 0, 99)]
    best, best_ll = SCALES[0], -np.inf
    for s in SCALES:
        cdf = _cdf(items, float(s))
        dens = np.maximum(*[np.take_along_axis(cdf, c[:, None] + 1, 1)
                            - np.take_along_axis(cdf, c[:, None], 1) for c in cells])
        ll = np.log(np.maximum(dens, 1e-300)).sum()
        if ll > best_ll:
            best, best_ll = s, ll
    return float(best)


def params_from(fitted: dict[str, object], base: focal.Params | None = None) -> focal.Params:
    from dataclasses import replace

    base = base or focal.Params()
    coef = fitted["coefficients"]
    assert isinstance(coef, dict)
    return replace(base, coefficients=tuple((k, float(v)) for k, v in coef.items()),
                   remainder_scale=float(fitted["remainder_scale"]))  # type: ignore[arg-type]


def predict(items: list[IssueDesign], params: focal.Params) -> Mixed:
    """Distributions [I] (atoms padded to the largest issue) under fitted parameters."""
    a = max(len(d.point) for d in items)
    beta = params.beta()
    point = np.full((len(items), a), 100.0)
    mass = np.zeros((len(items), a))
    for i, d in enumerate(items):
        u = d.X @ beta
        e = np.exp(u - u.max())
        p = e / e.sum()
        point[i, : len(d.point)] = d.point
        mass[i, : len(d.point)] = p[:-1]
    return Mixed(point, mass, _cdf(items, params.remainder_scale))


def _cdf(items: list[IssueDesign], scale: float) -> np.ndarray:
    return laplace_cdf(np.array([d.centre for d in items]), scale,
                       np.array([d.low for d in items]), np.array([d.high for d in items]))


def cv_predict(items: list[IssueDesign], y: np.ndarray, folds: np.ndarray) -> Mixed:
    """Out-of-fold distributions: refitted on the other folds for each fold."""
    a = max(len(d.point) for d in items)
    point = np.full((len(items), a), 100.0)
    mass = np.zeros((len(items), a))
    cdf = np.zeros((len(items), 101))
    for f in np.unique(folds):
        test = np.flatnonzero(folds == f)
        train = np.flatnonzero(folds != f)
        params = params_from(fit([items[i] for i in train], y[train]))
        part = predict([items[i] for i in test], params)
        point[test, : part.point.shape[1]] = part.point
        mass[test, : part.mass.shape[1]] = part.mass
        cdf[test] = part.cont_cdf
    return Mixed(point, mass, cdf)


def run(dataset: Dataset, spec: CapabilitySpec, folds: np.ndarray | None) -> tuple[Mixed, str]:
    """The focal model's distributions on a dataset: refitted per fold when `folds` is given
    (development data), else with the shipped coefficients. Returns (distributions, evaluation)."""
    items = designs(dataset, spec)
    if folds is None:
        return predict(items, focal.Params()), "shipped parameters"
    return cv_predict(items, dataset.outcomes, folds), "grouped CV (refitted per fold)"
