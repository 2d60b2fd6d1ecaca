"""Scenario -> arrays over Monte Carlo draws, with seeded, chunk-independent sampling.

Every uncertain number in a scenario is one *input*: a column of uniforms U[D, P] is drawn
per block of draws and pushed through each input's inverse CDF. Keeping the uniforms separate
from the transform lets sensitivity analysis (SALib) and lever comparisons (common random
numbers) feed their own uniforms through the same path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Literal

import numpy as np

from parley.core.errors import ParleyInputError, Problem
from parley.core.estimate import Estimate

if TYPE_CHECKING:  # the scenario's lever checks use this module: types only, no import cycle
    from parley.core.scenario import Scenario

BLOCK = 1024
"""Draws per RNG block. Block b always comes from SeedSequence(seed, spawn_key=(b,)), so a
draw's values depend only on (seed, its index): not on chunking, workers, or the total count."""

Field = Literal["position", "salience", "reservation", "capability", "status_quo"]


@dataclass(frozen=True)
class Batch:
    """Model inputs for D draws of N actors on K issues (positions 0–100, saliences 0–1)."""

    actors: tuple[str, ...]
    issues: tuple[str, ...]
    position: np.ndarray  # [D, N, K]
    salience: np.ndarray  # [D, N, K], 0 where not engaged
    capability: np.ndarray  # [D, N], > 0
    reservation: np.ndarray  # [D, N, K], NaN where none
    status_quo: np.ndarray  # [D, K], NaN where none
    engaged: np.ndarray  # [N, K] bool
    veto: np.ndarray  # [N] bool
    seed: int | None = None  # the Monte Carlo stream these draws come from (None: not sampled)
    draw_start: int = 0  # global index of the first draw in that stream

    @property
    def draws(self) -> int:
        return self.position.shape[0]

    @property
    def n_actors(self) -> int:
        return self.position.shape[1]

    @property
    def n_issues(self) -> int:
        return self.position.shape[2]

    def weight(self) -> np.ndarray:
        """Capability x salience, zero where an actor is not engaged: [D, N, K]."""
        return self.capability[:, :, None] * self.salience * self.engaged[None]

    def take(self, index: np.ndarray | slice) -> Batch:
        """The same scenario restricted to some draws."""
        contiguous = isinstance(index, slice) and index.step in (None, 1)
        return replace(
            self,
            seed=self.seed if contiguous else None,
            draw_start=self.draw_start + (index.start or 0) if contiguous else 0,
            position=self.position[index],
            salience=self.salience[index],
            capability=self.capability[index],
            reservation=self.reservation[index],
            status_quo=self.status_quo[index],
        )

    def noise(self, key: tuple[int, ...], shape: tuple[int, ...]) -> np.ndarray | None:
        """Uniforms U[D, *shape] for a model's own randomness (e.g. the exchange model's REX).

        Row d depends only on (seed, key, global draw index), like the sampled inputs, so a
        stochastic model gives the same numbers however the draws are chunked. None when the
        batch was not sampled from a seeded stream (the model then falls back to its own seed).
        """
        if self.seed is None:
            return None
        return draw_uniforms(self.seed, (1, *key), self.draw_start, self.draw_start + self.draws, shape)

    def permute_actors(self, order: np.ndarray) -> Batch:
        """Reorder actors (for invariance tests and canonical orderings)."""
        order = np.asarray(order)
        return replace(
            self,
            actors=tuple(self.actors[i] for i in order),
            position=self.position[:, order],
            salience=self.salience[:, order],
            capability=self.capability[:, order],
            reservation=self.reservation[:, order],
            engaged=self.engaged[order],
            veto=self.veto[order],
        )

    @classmethod
    def from_arrays(
        cls,
        position: np.ndarray,
        salience: np.ndarray,
        capability: np.ndarray,
        *,
        reservation: np.ndarray | None = None,
        status_quo: np.ndarray | None = None,
        engaged: np.ndarray | None = None,
        veto: np.ndarray | None = None,
        actors: tuple[str, ...] | None = None,
        issues: tuple[str, ...] | None = None,
    ) -> Batch:
        """Build a batch from arrays; 2-D inputs ([N, K], [N]) are treated as a single draw.

        Saliences are on 0–1 here, as the models use them.
        """
        pos = np.asarray(position, dtype=float)
        if pos.ndim == 2:
            pos = pos[None]
        d, n, k = pos.shape
        sal = np.broadcast_to(np.asarray(salience, dtype=float), (d, n, k)).copy()
        cap = np.asarray(capability, dtype=float)
        cap = np.broadcast_to(cap if cap.ndim == 2 else cap[None], (d, n)).copy()
        eng = np.ones((n, k), bool) if engaged is None else np.asarray(engaged, bool)
        res = np.full((d, n, k), np.nan) if reservation is None else np.asarray(reservation, float)
        res = np.broadcast_to(res if res.ndim == 3 else res[None], (d, n, k)).copy()
        sq = np.full((d, k), np.nan) if status_quo is None else np.asarray(status_quo, float)
        sq = np.broadcast_to(sq if sq.ndim == 2 else sq[None], (d, k)).copy()
        vet = np.zeros(n, bool) if veto is None else np.asarray(veto, bool)
        sal = np.where(eng[None], sal, 0.0)
        return cls(
            actors=actors or tuple(f"a{i}" for i in range(n)),
            issues=issues or tuple(f"k{j}" for j in range(k)),
            position=pos,
            salience=sal,
            capability=cap,
            reservation=res,
            status_quo=sq,
            engaged=eng,
            veto=vet,
        )


@dataclass(frozen=True)
class Input:
    """One uncertain number of a scenario: what it is, where it goes, and its range."""

    field: Field
    actor: int | None
    issue: int | None
    estimate: Estimate  # on the 0–100 scale (or capability's own scale)
    lower: float
    upper: float
    label: str

    def transform(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF: uniforms in (0, 1) -> values of this input."""
        return inverse_cdf(self.estimate, u, self.lower, self.upper)


def inverse_cdf(est: Estimate, u: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """Values of an estimate at probabilities u (triangular, or normal truncated to [lower, upper])."""
    if est.kind == "fixed":
        return np.full(np.shape(u), est.mode)
    if est.kind == "triangular":
        lo, mo, hi = est.low, est.mode, est.high
        cut = (mo - lo) / (hi - lo)
        left = lo + np.sqrt(u * (hi - lo) * (mo - lo))
        right = hi - np.sqrt((1.0 - u) * (hi - lo) * (hi - mo))
        return np.where(u < cut, left, right)
    from scipy.special import ndtr, ndtri  # only normal estimates need it; keeps start-up fast

    a = ndtr((lower - est.mode) / est.sd)
    b = ndtr((upper - est.mode) / est.sd) if np.isfinite(upper) else 1.0
    p = a + u * (b - a)
    x = est.mode + est.sd * ndtri(np.clip(p, 1e-300, 1 - 1e-16))
    return np.clip(x, lower, upper)


@dataclass(frozen=True)
class Layout:
    """How a scenario maps to arrays: the point values and the list of uncertain inputs."""

    actors: tuple[str, ...]
    issues: tuple[str, ...]
    base: Batch  # D = 1, every estimate at its mode
    inputs: tuple[Input, ...]

    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    @cached_property
    def plan(self) -> _Plan:
        """The inputs grouped by distribution and by target field (built on first sampling)."""
        return _Plan.of(self)


_LAYOUTS: list[tuple[Scenario, Layout]] = []
"""The last few layouts, by scenario object: `parley run` lays out the same (frozen) scenario
for every model, the zone, and the lead's comparison."""
_LAST_SAMPLE: list[tuple[Layout, int, int, Batch]] = []
"""The last sampled block (layout, seed, start, batch): the models of one run, the zone check
and the lead's comparison all start from the same draws; its arrays are read-only."""
CACHE_LAYOUTS = 4


def layout(scenario: Scenario) -> Layout:
    """Point values and uncertain inputs of a scenario, in scenario order (cached per scenario
    object; its arrays are read-only because callers share it)."""
    for known, lay in _LAYOUTS:
        if known is scenario:
            return lay
    lay = _layout(scenario)
    _LAYOUTS.insert(0, (scenario, lay))
    del _LAYOUTS[CACHE_LAYOUTS:]
    return lay


def _freeze(b: Batch) -> Batch:
    for name in ("position", "salience", "capability", "reservation", "status_quo", "engaged", "veto"):
        getattr(b, name).flags.writeable = False
    return b


def _layout(scenario: Scenario) -> Layout:
    actors = tuple(scenario.actor_ids)
    issues = tuple(scenario.issue_ids)
    n, k = len(actors), len(issues)
    a_idx = {a: i for i, a in enumerate(actors)}
    i_idx = {x: j for j, x in enumerate(issues)}
    position = np.zeros((1, n, k))
    salience = np.zeros((1, n, k))
    reservation = np.full((1, n, k), np.nan)
    status_quo = np.full((1, k), np.nan)
    capability = np.zeros((1, n))
    engaged = np.zeros((n, k), bool)
    inputs: list[Input] = []

    def add(
        field: Field, i: int | None, j: int | None, est: Estimate, lo: float, hi: float, label: str
    ) -> float:
        if est.is_uncertain:
            inputs.append(Input(field, i, j, est, lo, hi, label))
        return est.mode

    for i, actor in enumerate(scenario.actors):
        cap = actor.capability
        capability[0, i] = add(
            "capability", i, None, cap, 1e-9 * max(cap.mode, 1e-300), np.inf, f"{actor.id}.capability"
        )
    for j, issue in enumerate(scenario.issues):
        if issue.status_quo is not None:
            status_quo[0, j] = add(
                "status_quo", None, j, issue.to_scale(issue.status_quo), 0, 100, f"{issue.id}.status_quo"
            )
    for st in scenario.stances:
        i, j = a_idx[st.actor], i_idx[st.issue]
        issue = scenario.issues[j]
        engaged[i, j] = True
        tag = f"{st.actor}.{st.issue}"
        position[0, i, j] = add("position", i, j, issue.to_scale(st.position), 0, 100, f"{tag}.position")
        salience[0, i, j] = add("salience", i, j, st.salience, 0, 100, f"{tag}.salience") / 100.0
        if st.reservation is not None:
            reservation[0, i, j] = add(
                "reservation", i, j, issue.to_scale(st.reservation), 0, 100, f"{tag}.reservation"
            )
    veto = np.array([a.veto for a in scenario.actors], bool)
    base = Batch(actors, issues, position, salience, capability, reservation, status_quo, engaged, veto)
    return Layout(actors, issues, _freeze(base), tuple(inputs))


def seed_problems(seed: int) -> list[Problem]:
    """The seed must be a whole number >= 0: numpy's SeedSequence takes no negative seed."""
    if seed >= 0:
        return []
    return [Problem("seed", f"the seed must be a whole number >= 0, got {seed}",
                    "use e.g. 7 (any number from 0 up)")]


def check_run(draws: int, seed: int) -> None:
    """Refuse a run parley cannot do: at least one draw, and a seed numpy accepts."""
    problems = seed_problems(seed)
    if draws < 1:
        problems.insert(0, Problem("draws", f"draws must be >= 1, got {draws}", "use e.g. 10000"))
    if problems:
        raise ParleyInputError(problems)


def uniforms(seed: int, n_inputs: int, start: int, stop: int) -> np.ndarray:
    """U[stop - start, n_inputs] for draws [start, stop) of the stream fixed by `seed`."""
    return draw_uniforms(seed, (), start, stop, (n_inputs,))


def draw_uniforms(
    seed: int, key: tuple[int, ...], start: int, stop: int, shape: tuple[int, ...]
) -> np.ndarray:
    """U[stop - start, *shape] whose row i depends only on (seed, key, start + i).

    Block b of a stream comes from SeedSequence(seed, spawn_key=(*key, b)): the scenario's
    inputs use key () and models' own randomness other keys, so the streams never overlap.
    """
    out = np.empty((stop - start, *shape))
    if out.size == 0:
        return out
    for rng, lo, hi, first in _blocks(seed, key, start, stop):
        if hi - lo == BLOCK:  # a whole block: generated straight into place (same stream)
            rng.random(out=out[lo - start : hi - start])
            continue
        out[lo - start : hi - start] = rng.random((BLOCK, *shape))[first : first + hi - lo]
    return out


def _blocks(
    seed: int, key: tuple[int, ...], start: int, stop: int
) -> Iterator[tuple[np.random.Generator, int, int, int]]:
    """The RNG blocks that draws [start, stop) fall in: (generator, first draw, end draw, index
    of the first draw within the block)."""
    if stop <= start:
        return
    for block in range(start // BLOCK, (stop - 1) // BLOCK + 1):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(*key, block)))
        lo, hi = max(start, block * BLOCK), min(stop, (block + 1) * BLOCK)
        yield rng, lo, hi, lo - block * BLOCK


FIELDS: tuple[Field, ...] = ("position", "salience", "reservation", "status_quo", "capability")


@dataclass(frozen=True)
class _Triangular:
    """Triangular inputs as columns: per-input constants of the inverse CDF, computed once."""

    index: np.ndarray  # which inputs (columns of u)
    low: np.ndarray
    high: np.ndarray
    width: np.ndarray  # high - low
    left: np.ndarray  # mode - low
    right: np.ndarray  # high - mode
    cut: np.ndarray  # (mode - low) / (high - low)

    def values(self, u: np.ndarray, out: np.ndarray, work: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """`inverse_cdf` of every column at once, into `out` (`work` and `mask` are scratch of
        the same shape). The same operations in the same order as `inverse_cdf`, hence the same
        bits: low + sqrt(u*width*left) below the cut, high - sqrt((1-u)*width*right) above.
        The two are merged with bit operations: np.where on a random mask costs several times
        more (a branch per element)."""
        below = np.multiply(u, self.width, out=work)
        below *= self.left
        np.sqrt(below, out=below)
        below += self.low
        above = np.subtract(1.0, u, out=out)
        above *= self.width
        above *= self.right
        np.sqrt(above, out=above)
        np.subtract(self.high, above, out=above)
        np.negative(np.less(u, self.cut).view(np.int8), out=mask)  # all bits set below the cut
        b, a = below.view(np.int64), above.view(np.int64)
        np.bitwise_xor(b, a, out=b)
        b &= mask
        a ^= b  # above where mask is 0, below where it is all ones
        return out


@dataclass(frozen=True)
class _Normal:
    """Truncated normal inputs as columns (their CDF at the bounds computed once)."""

    index: np.ndarray
    mode: np.ndarray
    sd: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    at_lower: np.ndarray  # CDF at the lower bound
    mass: np.ndarray  # CDF at the upper bound minus at_lower

    def values(self, u: np.ndarray) -> np.ndarray:
        """`inverse_cdf` of every column at once, with the same operations in the same order."""
        from scipy.special import ndtri

        p = np.multiply(u, self.mass)
        p += self.at_lower
        np.clip(p, 1e-300, 1 - 1e-16, out=p)
        ndtri(p, out=p)
        p *= self.sd
        p += self.mode
        return np.clip(p, self.lower, self.upper, out=p)


@dataclass(frozen=True)
class _Plan:
    """How uniforms become field values: inputs grouped by distribution (transformed a block of
    columns at a time), then every field gathered in one indexed copy from a table of columns
    [input values (saliences / 100) | point values of the cells without an input]."""

    n_inputs: int
    triangular: _Triangular | None
    normal: _Normal | None
    other: tuple[int, ...]  # inputs of any other kind: their own inverse_cdf, column by column
    scale: np.ndarray  # [P] divisor of each input: 100 for saliences, else 1 (x / 1 is x exactly)
    constants: np.ndarray  # point values of the cells without an input, all fields in turn
    sources: dict[str, np.ndarray]  # field -> table column of each of its flat cells

    @classmethod
    def of(cls, lay: Layout) -> _Plan:
        tri = [q for q, i in enumerate(lay.inputs) if i.estimate.kind == "triangular"]
        nor = [q for q, i in enumerate(lay.inputs) if i.estimate.kind == "normal"]
        other = tuple(q for q in range(lay.n_inputs) if q not in set(tri) | set(nor))
        p, k = lay.n_inputs, len(lay.issues)
        column = {(i.field, _cell(i, k)): q for q, i in enumerate(lay.inputs)}
        constants: list[float] = []
        sources = {}
        for name in FIELDS:
            cols = []
            for cell, value in enumerate(getattr(lay.base, name).reshape(-1)):
                if (name, cell) not in column:
                    cols.append(p + len(constants))
                    constants.append(float(value))
                else:
                    cols.append(column[name, cell])
            sources[name] = np.array(cols, np.intp)
        scale = np.array([100.0 if i.field == "salience" else 1.0 for i in lay.inputs])
        return cls(p, _triangular(lay, tri), _normal(lay, nor), other, scale,
                   np.array(constants, float), sources)

    def scratch(self, rows: int) -> dict[str, np.ndarray]:
        """Arrays reused from block to block: a fresh array this size would be page-faulted in
        on every use, which costs more than the arithmetic done in it."""
        out = {name: np.empty((rows, self.n_inputs)) for name in ("values", "work")}
        out["mask"] = np.empty((rows, self.n_inputs), np.int64)
        table = np.empty((rows, self.n_inputs + self.constants.size))
        table[:, self.n_inputs :] = self.constants
        out["table"] = table
        return out

    def values(self, lay: Layout, u: np.ndarray, scratch: dict[str, np.ndarray]) -> np.ndarray:
        """Values [B, P] of every input at uniforms u[B, P]."""
        rows = u.shape[0]
        out, work, mask = (scratch[name][:rows] for name in ("values", "work", "mask"))
        t = self.triangular
        if t is not None and len(t.index) == self.n_inputs:  # the usual case: all triangular
            return t.values(u, out, work, mask)
        if t is not None:
            ut = u[:, t.index]
            out[:, t.index] = t.values(ut, np.empty_like(ut), np.empty_like(ut),
                                       np.empty(ut.shape, np.int64))
        if self.normal is not None:
            out[:, self.normal.index] = self.normal.values(u[:, self.normal.index])
        for q in self.other:
            out[:, q] = lay.inputs[q].transform(u[:, q])
        return out

    def table(self, lay: Layout, u: np.ndarray, scratch: dict[str, np.ndarray]) -> np.ndarray:
        """The table of columns for uniforms u[B, P]: every field's cells are columns of it."""
        table = scratch["table"][: u.shape[0]]
        np.divide(self.values(lay, u, scratch), self.scale, out=table[:, : self.n_inputs])
        return table


def _cell(inp: Input, k: int) -> int:
    """Flat index of an input's cell in its field's [N, K], [K] or [N] trailing shape."""
    if inp.field == "capability":
        return int(inp.actor)  # type: ignore[arg-type]
    if inp.field == "status_quo":
        return int(inp.issue)  # type: ignore[arg-type]
    return int(inp.actor) * k + int(inp.issue)  # type: ignore[operator]


def _triangular(lay: Layout, chosen: list[int]) -> _Triangular | None:
    if not chosen:
        return None
    est = [lay.inputs[p].estimate for p in chosen]
    return _Triangular(
        index=np.array(chosen, np.intp),
        low=np.array([e.low for e in est]),
        high=np.array([e.high for e in est]),
        width=np.array([e.high - e.low for e in est]),
        left=np.array([e.mode - e.low for e in est]),
        right=np.array([e.high - e.mode for e in est]),
        cut=np.array([(e.mode - e.low) / (e.high - e.low) for e in est]),
    )


def _normal(lay: Layout, chosen: list[int]) -> _Normal | None:
    if not chosen:
        return None
    from scipy.special import ndtr

    inputs = [lay.inputs[p] for p in chosen]
    at_lower, mass = [], []
    for i in inputs:
        e = i.estimate
        a = ndtr((i.lower - e.mode) / e.sd)
        b = ndtr((i.upper - e.mode) / e.sd) if np.isfinite(i.upper) else 1.0
        at_lower.append(a)
        mass.append(b - a)
    return _Normal(
        index=np.array(chosen, np.intp),
        mode=np.array([i.estimate.mode for i in inputs]),
        sd=np.array([i.estimate.sd for i in inputs]),
        lower=np.array([i.lower for i in inputs], float),
        upper=np.array([i.upper for i in inputs], float),
        at_lower=np.array(at_lower, float),
        mass=np.array(mass, float),
    )


def from_uniforms(lay: Layout, u: np.ndarray) -> Batch:
    """Batch whose uncertain inputs take the values at uniforms u[D, P]."""
    d = u.shape[0]
    return _fill(lay, d, ((r0, min(d, r0 + BLOCK), u[r0 : r0 + BLOCK]) for r0 in range(0, d, BLOCK)))


def _sampled(lay: Layout, seed: int, start: int, stop: int) -> Batch:
    """from_uniforms(lay, uniforms(seed, ...)) without the [D, P] array of uniforms: each RNG
    block is generated into one reused array and transformed while it is in cache."""
    buf = np.empty((BLOCK, lay.n_inputs))

    def blocks() -> Iterator[tuple[int, int, np.ndarray]]:
        for rng, lo, hi, first in _blocks(seed, (), start, stop):
            rng.random(out=buf)
            yield lo - start, hi - start, buf[first : first + hi - lo]

    return _fill(lay, stop - start, blocks())


def _fill(lay: Layout, d: int, blocks: Iterable[tuple[int, int, np.ndarray]]) -> Batch:
    """The batch for draws [0, d) from blocks (first row, end row, uniforms of those rows).

    Same values as pushing each column of uniforms through its input's `inverse_cdf` and
    writing it into the base arrays, computed a block at a time for all inputs together.
    """
    b = lay.base
    fields = {name: np.empty((d, *getattr(b, name).shape[1:])) for name in FIELDS}
    flat = {name: a.reshape(d, -1) for name, a in fields.items()}
    if not lay.n_inputs:
        for name, a in flat.items():
            a[:] = getattr(b, name).reshape(1, -1)
        return replace(b, **fields)
    plan = lay.plan
    scratch = plan.scratch(min(BLOCK, d))  # a block never has more rows than the batch
    for r0, r1, u in blocks:
        table = plan.table(lay, u, scratch)
        for name, a in flat.items():
            np.take(table, plan.sources[name], axis=1, out=a[r0:r1], mode="clip")
    return replace(b, **fields)


def sample(scenario: Scenario | Layout, draws: int, seed: int, start: int = 0) -> Batch:
    """Draws [start, start + draws) of the scenario's uncertain inputs.

    The last block sampled is kept: asking again for it, or for part of it, returns views of
    the same (read-only) arrays; a draw's values depend only on (seed, its index) either way.
    """
    lay = scenario if isinstance(scenario, Layout) else layout(scenario)
    for known, s0, a0, b0 in _LAST_SAMPLE:
        if known is lay and s0 == seed and a0 <= start and start + draws <= a0 + b0.draws:
            return b0.take(slice(start - a0, start - a0 + draws))
    b = _sampled(lay, seed, start, start + draws)
    b = _freeze(replace(b, seed=seed, draw_start=start))
    _LAST_SAMPLE[:] = [(lay, seed, start, b)]
    return b


def point(scenario: Scenario | Layout) -> Batch:
    """One draw with every estimate at its most likely value."""
    lay = scenario if isinstance(scenario, Layout) else layout(scenario)
    return lay.base
