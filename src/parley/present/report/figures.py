"""Charts for the report, drawn with matplotlib's object API and returned as inline SVG text.

No pyplot (no global state, no GUI backend); text stays text in the SVG (`svg.fonttype: none`)
so the charts are small, sharp in print and searchable.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

import numpy as np
from matplotlib import rc_context
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from parley.analysis.advice import Advice
    from parley.analysis.compare import Comparison
    from parley.analysis.decompose import Decomposition
    from parley.analysis.forecast import Forecast
    from parley.analysis.sensitivity import Sensitivity
    from parley.core.scenario import Scenario

PALETTE = ("#1b6ca8", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d6a9f", "#2e4057", "#b07c4f")
STYLE = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "svg.hashsalt": "parley",  # stable ids: the same report twice gives the same file
}


def to_svg(fig: Figure) -> str:
    buf = io.StringIO()
    with rc_context(STYLE):
        fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    text = text[text.index("<svg") :]  # drop the XML prolog and doctype: inline in HTML
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    return text


def _figure(width: float, height: float) -> Figure:
    with rc_context(STYLE):
        return Figure(figsize=(width, height))


def outcomes(fc: Forecast) -> str:
    """One row per issue on the 0–100 scale: each model's median and 5–95% band, the veto
    players' positions and reservations, and the status quo."""
    s = fc.scenario
    table = fc.outcomes()
    models = list(fc.results)
    from parley.core.batch import point

    base = point(s)
    with rc_context(STYLE):
        fig = _figure(7.5, 0.95 * len(s.issues) + 0.9)
        axes = fig.subplots(len(s.issues), 1, sharex=True, squeeze=False)[:, 0]
        for k, (ax, issue) in enumerate(zip(axes, s.issues, strict=True)):
            for m, model in enumerate(models):
                r = table[(table.model == model) & (table.issue == issue.id)].iloc[0]
                y = -m
                if np.isfinite(r["median"]):
                    ax.plot([r.p05, r.p95], [y, y], color=PALETTE[m % 8], lw=4, alpha=0.35,
                            solid_capstyle="butt")
                    ax.plot([r["median"]], [y], "o", color=PALETTE[m % 8], ms=5,
                            label=model if k == 0 else None)
                else:
                    ax.text(50, y, f"{model}: no package", ha="center", va="center", fontsize=7,
                            color=PALETTE[m % 8])
            for i, actor in enumerate(s.actors):
                if not actor.veto or not base.engaged[i, k]:
                    continue
                x = base.position[0, i, k]
                ax.annotate(actor.id, (x, 0.9), ha="center", va="bottom", fontsize=7, color="#333333",
                            annotation_clip=False)
                ax.plot([x], [0.7], marker="v", color="#333333", ms=4)
                res = base.reservation[0, i, k]
                if np.isfinite(res):
                    ax.plot([res], [0.7], marker="|", color="#333333", ms=8)
            sq = base.status_quo[0, k]
            if np.isfinite(sq):
                ax.axvline(sq, color="#999999", ls="--", lw=0.8)
            ax.set_ylim(-len(models) + 0.4, 1.6)
            ax.set_yticks([])
            ax.set_xlim(0, 100)
            ax.set_ylabel(_wrap(issue.name, 18), rotation=0, ha="right", va="center", fontsize=8)
        axes[-1].set_xlabel("0–100 scale of each issue (see the issue table for what the ends mean)")
        fig.legend(loc="upper center", ncol=len(models), frameon=False, bbox_to_anchor=(0.55, 1.02))
        fig.subplots_adjust(hspace=0.35)
    return to_svg(fig)


def settlement(fc: Forecast) -> str:
    """P(settlement) per model and P(accept) per veto player, with Monte Carlo intervals."""
    from parley.present.narrative import pct

    st = fc.settlement()
    ac = fc.actors()
    veto = [a for a in fc.scenario.actors if a.veto]
    models = list(fc.results)
    with rc_context(STYLE):
        fig = _figure(7.5, 2.6)
        ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2]})
        y = np.arange(len(models))
        p = st.set_index("model").loc[models]
        ax1.barh(y, 100 * p.p_settlement, color=[PALETTE[i % 8] for i in range(len(models))])
        ax1.errorbar(100 * p.p_settlement, y, xerr=[100 * (p.p_settlement - p.ci_low),
                                                    100 * (p.ci_high - p.p_settlement)],
                     fmt="none", ecolor="#333333", capsize=3)
        for yy, val in zip(y, p.p_settlement, strict=True):
            ax1.text(min(100 * val + 3, 80), yy, pct(val), va="center", fontsize=8)
        ax1.set_yticks(y, models)
        ax1.invert_yaxis()
        ax1.set_xlim(0, 100)
        ax1.set_xlabel("P(settlement) %")
        width = 0.8 / max(len(models), 1)
        x = np.arange(len(veto))
        for m, model in enumerate(models):
            vals = [ac[(ac.model == model) & (ac.actor == a.id)].p_accept.iloc[0] for a in veto]
            ax2.bar(x + m * width - 0.4 + width / 2, 100 * np.nan_to_num(vals), width,
                    color=PALETTE[m % 8], label=model)
        ax2.set_xticks(x, [a.name for a in veto])
        ax2.set_ylim(0, 100)
        ax2.set_ylabel("P(accept) %")
        ax2.legend(frameon=False, fontsize=7)
        fig.subplots_adjust(wspace=0.45)
    return to_svg(fig)


def trajectories(s: Scenario, model: str, trajectory: np.ndarray) -> str:
    """Positions per round of every actor on every issue (point estimate), one panel per issue."""
    traj = trajectory[0]  # [T, N, K]
    t_n, n_act, k_n = traj.shape
    cols = min(3, k_n)
    rows = int(np.ceil(k_n / cols))
    with rc_context(STYLE):
        fig = _figure(7.5, 2.1 * rows + 0.4)
        axes = np.atleast_1d(fig.subplots(rows, cols, sharey=True, squeeze=False).ravel())
        for k in range(k_n):
            ax = axes[k]
            for i in range(n_act):
                ls = "-" if s.actors[i].veto else ":"
                ax.plot(range(t_n), traj[:, i, k], ls, color=PALETTE[i % 8], lw=1.4,
                        label=s.actors[i].id if k == 0 else None)
            ax.set_title(s.issues[k].name, fontsize=8)
            ax.set_ylim(0, 100)
            ax.set_xlabel("round")
        for ax in axes[k_n:]:
            ax.set_visible(False)
        fig.legend(loc="upper center", ncol=n_act, frameon=False, bbox_to_anchor=(0.5, 1.03))
        fig.suptitle(f"{model}: positions per round (solid: veto players)", y=1.07, fontsize=9)
        fig.subplots_adjust(hspace=0.6)
    return to_svg(fig)


def levers(cmp: Comparison, model: str) -> str:
    """Change each lever makes in P(settlement) and in each veto player's P(accept)."""
    st = cmp.settlement()
    st = st[(st.model == model) & (st.variant != cmp.variants[0].id)]
    ac = cmp.actors()
    ac = ac[ac.model == model]
    veto = [a for a in cmp.scenario.actors if a.veto]
    ids = list(st.variant)
    names = [_wrap(n, 34) for n in st.name]
    y = np.arange(len(ids))
    with rc_context(STYLE):
        fig = _figure(7.5, 0.5 * len(ids) + 1.2)
        ax = fig.subplots()
        height = 0.8 / (len(veto) + 1)
        ax.barh(y - 0.4 + height / 2, 100 * st.delta, height, color="#222222", label="P(settlement)",
                xerr=[100 * (st.delta - st.delta_low), 100 * (st.delta_high - st.delta)],
                error_kw={"capsize": 2, "ecolor": "#777777"})
        for j, a in enumerate(veto):
            vals = [ac[(ac.variant == v) & (ac.actor == a.id)].delta.iloc[0] for v in ids]
            ax.barh(y - 0.4 + height * (j + 1.5), 100 * np.nan_to_num(vals), height, color=PALETTE[j % 8],
                    label=f"P({a.id} accepts)")
        ax.axvline(0, color="#333333", lw=0.8)
        ax.set_yticks(y, names)
        ax.invert_yaxis()
        ax.set_xlabel(f"change from the baseline, percentage points ({model} model, same draws)")
        ax.legend(frameon=False, fontsize=7, loc="lower right")
    return to_svg(fig)


def tornado(sens: Sensitivity, output: str, k: int = 12) -> str:
    """Inputs ranked by their total-order Sobol index (or Morris mu*) for one output, as SVG."""
    return to_svg(tornado_figure(sens, output, k))


def tornado_figure(sens: Sensitivity, output: str, k: int = 12) -> Figure:
    """The tornado chart as a matplotlib Figure (for saving as PNG or SVG)."""
    top = sens.top(output, k).iloc[::-1]
    score = sens.score
    with rc_context(STYLE):
        fig = _figure(7.5, 0.28 * len(top) + 1.0)
        ax = fig.subplots()
        y = np.arange(len(top))
        conf = top[f"{score}_conf"].to_numpy()
        ax.barh(y, top[score], color=PALETTE[0], alpha=0.85, xerr=conf,
                error_kw={"capsize": 2, "ecolor": "#777777"},
                label="total-order index ST" if score == "ST" else "mu* (mean |elementary effect|)")
        if score == "ST":
            ax.barh(y, top["S1"].clip(lower=0), 0.4, color=PALETTE[1], label="first-order index S1")
        ax.set_yticks(y, list(top.input))
        ax.set_xlabel("share of the output's variance" if score == "ST" else "effect on the output")
        ax.set_title(f"What drives '{output}' ({sens.model} model, {sens.method})", fontsize=9)
        ax.legend(frameon=False, fontsize=7, loc="lower right")
    return fig


DECOMPOSITION_TOP = 4
"""Input groups drawn as their own segment in the variance bar; the rest are summed."""


def decomposition(dec: Decomposition) -> str:
    """One stacked bar per result: the shares of its variance by source, as SVG."""
    outputs = dec.outputs()
    # the largest input groups over all results get their own colour; the rest are "other inputs"
    totals: dict[str, float] = {}
    for r in dec.rows:
        if r["kind"] == "input":
            totals[r["component"]] = totals.get(r["component"], 0.0) + r["share"]
    top = sorted(totals, key=lambda g: -totals[g])[:DECOMPOSITION_TOP]
    segments = [*top, "other inputs", "interactions between inputs", "model choice", "model × inputs",
                "models' own randomness"]
    own = ["#4c72b0", "#55a868", "#8172b2", "#64b5cd"][: len(top)]
    colours = [*own, "#b0b0b0", "#d0d0d0", "#c44e52", "#dd8452", "#937860"]
    with rc_context(STYLE):
        fig = _figure(7.5, 0.35 * len(outputs) + 1.4)
        ax = fig.subplots()
        left = np.zeros(len(outputs))
        for seg, colour in zip(segments, colours, strict=True):
            widths = []
            for o in outputs:
                rows = dec.table(o)
                if seg == "other inputs":
                    rest = [r for r in rows if r["kind"] == "input" and r["component"] not in top]
                    widths.append(sum(r["share"] for r in rest))
                else:
                    widths.append(sum(r["share"] for r in rows if r["component"] == seg))
            w = np.array(widths)
            if w.sum() <= 0:
                continue
            ax.barh(np.arange(len(outputs)), w, left=left, color=colour, label=seg, height=0.6)
            left += w
        ax.set_yticks(np.arange(len(outputs)), outputs)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of the result's variance over draws and models")
        ax.legend(frameon=False, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3)
    return to_svg(fig)


def _wrap(text: str, width: int) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if len(line) + len(w) + 1 > width and line:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "\n".join(lines)


def tradeoff(adv: Advice, model: str) -> str:
    """Utility against P(settlement) along the actor's best own moves, one line per move from
    the baseline (size 0) to its largest size; without a settlement test, utility by size."""
    from parley.analysis.advice.words import possessive

    curves = adv.tradeoff(model)
    settles = adv.scenario.tests_settlement
    with rc_context(STYLE):
        fig = _figure(7.5, 3.6)
        ax = fig.subplots()
        for n, c in enumerate(curves):
            u = [p["utility"] for p in c["points"]]
            y = [100 * p["p_settlement"] if settles else p["size"] for p in c["points"]]
            ax.plot(u, y, marker="o", ms=3, lw=1.2, color=PALETTE[n % len(PALETTE)],
                    label=_wrap(c["label"], 40))
        base = next(b for b in adv.baseline if b["model"] == model)
        ax.plot([base["utility"]], [100 * base["p_settlement"] if settles else 0], marker="s",
                color="#222222", ls="none", label="baseline")
        ax.set_xlabel(f"{possessive(adv.actor_name)} expected utility (0–100)")
        ax.set_ylabel("P(settlement), %" if settles else "size of the move, points")
        if settles:  # a flat P(settlement) stays readable as a line at its level, not a zoom on noise
            top = max(100 * p["p_settlement"] for c in curves for p in c["points"]) if curves else 0.0
            ax.set_ylim(-1, max(5.0, top * 1.1 + 1))
        ax.legend(frameon=False, fontsize=7, loc="best")
    return to_svg(fig)
