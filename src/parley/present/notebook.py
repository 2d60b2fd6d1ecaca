"""Rich display in Jupyter: scenarios, forecasts, comparisons and backtests show tables.

Jupyter calls `_repr_html_` on the value a cell ends with. `Scenario`, `Forecast`, `Comparison`
and `Leaderboard` delegate here so the HTML lives in one place and nothing is computed until a
notebook asks for it. Every text from the scenario is escaped: a scenario file is user input.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from parley.analysis.compare import Comparison
    from parley.analysis.forecast import Forecast
    from parley.backtest.leaderboard import Leaderboard
    from parley.core.scenario import Scenario

STYLE = ("font-family: system-ui, sans-serif; max-width: 60em; "
         "line-height: 1.4")
PERCENT_COLUMNS = ("p_settlement", "ci_low", "ci_high", "p_accept", "p_package")
SIGNED_PERCENT_COLUMNS = ("delta", "delta_low", "delta_high")
HEADERS = {"model": "model", "issue_name": "issue", "point": "at point inputs", "median": "median",
           "p05": "5%", "p95": "95%", "p_settlement": "P(settlement)", "ci_low": "90% CI low",
           "ci_high": "90% CI high", "draws": "draws", "actor_name": "veto player",
           "p_accept": "P(accept)", "name": "variant", "delta": "change",
           "delta_low": "change, low", "delta_high": "change, high"}


def forecast_html(fc: Forecast) -> str:
    """The answer, P(settlement), per-issue outcomes and veto players' acceptance of a forecast."""
    from parley.analysis.forecast import disclaimer
    from parley.present.narrative import answer

    sc = fc.scenario
    parts = [_heading(sc.title, sc.question, sc.as_of.isoformat()), _para(answer(fc))]
    if sc.tests_settlement:
        parts.append(_table("Settlement", fc.settlement(),
                            ["model", "p_settlement", "ci_low", "ci_high", "draws"]))
    parts.append(_table("Outcome per issue (0–100)", fc.outcomes(),
                        ["model", "issue_name", "point", "median", "p05", "p95"]))
    if sc.tests_settlement:
        parts.append(_table("Veto players", fc.actors(),
                            ["model", "actor_name", "p_accept", "ci_low", "ci_high"]))
    parts.append(_track_record(list(fc.results)))
    parts.append(_small(disclaimer(sc)))
    parts.append(_small(_provenance(fc.provenance)))
    return _wrap(parts)


def _track_record(models: list[str]) -> str:
    """Each model's record on DEU, as `parley run` shows it (parley.backtest.track_record)."""
    from parley.backtest import track_record

    title, rows = track_record.table(models)
    if not rows:
        return ""
    return _grid(title, list(track_record.COLUMNS), rows) + _small(track_record.CAVEAT)


def comparison_html(cmp: Comparison) -> str:
    """Baseline against levers on the same draws: the plain answer and the change per lever."""
    from parley.analysis.compare import lever_answer

    sc = cmp.scenario
    parts = [_heading(sc.title, sc.question, sc.as_of.isoformat()), _para(lever_answer(cmp))]
    if sc.tests_settlement:
        parts.append(_table("P(settlement) per variant", cmp.settlement(),
                            ["model", "name", "p_settlement", "delta", "delta_low", "delta_high"]))
    oc = cmp.outcomes()
    oc = oc[oc.variant != cmp.variants[0].id].copy()
    oc["name"] = oc.variant.map({v.id: v.name for v in cmp.variants})
    parts.append(_table("Change in the mean outcome per issue (points of 0–100)",
                        oc.rename(columns={"delta": "points", "delta_low": "low",
                                           "delta_high": "high"}),
                        ["model", "name", "issue_name", "points", "low", "high"]))
    parts.append(_small(_provenance(cmp.provenance)))
    return _wrap(parts)


def scenario_html(sc: Scenario) -> str:
    """What the file says: actors, and per actor and issue its position, salience and
    reservation (uncertain values as mode and range), so a reader can audit the inputs."""
    parts = [_heading(sc.title, sc.question, sc.as_of.isoformat())]
    actor_rows = [[a.id, a.name, a.capability.describe(), "yes" if a.veto else ""] for a in sc.actors]
    parts.append(_grid("Actors", ["id", "name", "capability", "veto"], actor_rows))
    stance_rows = []
    for a in sc.actors:
        row = [a.name]
        for issue in sc.issues:
            st = sc.stance(a.id, issue.id)
            row.append("" if st is None else (
                f"{st.position.describe()} · s {st.salience.describe()}"
                + (f" · r {st.reservation.describe()}" if st.reservation is not None else "")))
        stance_rows.append(row)
    parts.append(_grid("Stances: position · s salience · r reservation",
                       ["actor", *(i.name for i in sc.issues)], stance_rows))
    parts.append(_small(f"{len(sc.actors)} actors, {len(sc.issues)} issues, {len(sc.levers)} levers; "
                        f"sha256:{sc.content_hash()[:12]}"))
    return _wrap(parts)


def leaderboard_html(board: Leaderboard) -> str:
    """A backtest's table, best MAE first, with what the brackets and columns mean."""
    from parley.backtest.leaderboard import BASELINE, TABLE_COLUMNS

    parts = [f"<h3>{escape(board.title())}</h3>",
             _grid("", list(TABLE_COLUMNS), board.display_rows())]
    refit = [f"* {r.model}: {r.evaluation}" for r in board.ranked()
             if r.evaluation != "fixed parameters"]
    skipped = [f"skipped {r.model}: {r.error}" for r in board.rows if r.error]
    parts += [_small(line) for line in refit + skipped]
    parts.append(_small(
        "[brackets]: 95% bootstrap intervals resampling proposals. cov: share of outcomes inside "
        f"the 50%/80% conformal intervals ({board.setting}, {board.folds} folds, seed {board.seed}). "
        f"ΔMAE: MAE − {BASELINE} MAE on the same issues (paired); < 0 is better."))
    return _wrap(parts)


def _grid(caption: str, header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    title = f"<h4>{escape(caption)}</h4>" if caption else ""
    return f"{title}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _wrap(parts: list[str]) -> str:
    return f'<div class="parley" style="{STYLE}">' + "\n".join(p for p in parts if p) + "</div>"


def _heading(title: str, question: str, as_of: str) -> str:
    return (f"<h3>{escape(title)}</h3>"
            f"<p><em>{escape(question)}</em> <small>(as of {escape(as_of)})</small></p>")


def _para(text: str) -> str:
    return f"<p>{escape(text)}</p>" if text else ""


def _small(text: str) -> str:
    return f"<p><small>{escape(text)}</small></p>" if text else ""


def _provenance(prov: dict[str, Any]) -> str:
    return (f"parley {prov.get('parley_version', '?')} · scenario {prov.get('scenario_id', '?')} "
            f"sha256:{str(prov.get('scenario_hash', ''))[:12]} · draws {prov.get('draws', 0):,} · "
            f"seed {prov.get('seed', '?')} · rule {prov.get('settlement_rule', '?')}")


def _table(caption: str, df: pd.DataFrame, columns: list[str]) -> str:
    """A DataFrame's chosen columns as an HTML table, probabilities shown as percentages."""
    view = df[[c for c in columns if c in df.columns]].copy()
    for col in view.columns:
        if col in PERCENT_COLUMNS:
            view[col] = view[col].map(lambda v: _fmt(v, "{:.0%}"))
        elif col in SIGNED_PERCENT_COLUMNS:
            view[col] = view[col].map(lambda v: _fmt(v, "{:+.1%}"))
        elif view[col].dtype.kind == "f":
            view[col] = view[col].map(lambda v: _fmt(v, "{:.1f}"))
    body = view.rename(columns=HEADERS).to_html(index=False, escape=True, border=0)
    return f"<h4>{escape(caption)}</h4>{body}"


def _fmt(value: Any, pattern: str) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    return pattern.format(v) if v == v else "–"
