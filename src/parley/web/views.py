"""Shape a forecast's JSON for the result pages: numbers for tables, geometry for SVG charts.

Charts are drawn as inline SVG on the server, so the pages need no charting JavaScript and
work offline; this module only computes coordinates.
"""

from __future__ import annotations

from typing import Any

from parley.core.scenario import Scenario
from parley.present.narrative import pct

WIDTH = 640
LEFT = 150
RIGHT = 20
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
           "#7f7f7f", "#bcbd22")


def x_of(value: float | None) -> float | None:
    """Pixel x of a 0–100 value on the issue charts."""
    if value is None:
        return None
    return round(LEFT + max(0.0, min(100.0, value)) / 100.0 * (WIDTH - LEFT - RIGHT), 1)


def num(v: float | None, digits: int = 0) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def issue_charts(result: dict[str, Any], scenario: Scenario | None) -> list[dict[str, Any]]:
    """Per issue: one band per model (5–95%), its median and point forecast, the actors'
    positions and the status quo, in pixels."""
    models = [r["model"] for r in result.get("settlement", [])]
    by = {(r["model"], r["issue"]): r for r in result.get("outcomes", [])}
    issue_ids = list(dict.fromkeys(r["issue"] for r in result.get("outcomes", [])))
    charts = []
    for k, iid in enumerate(issue_ids):
        issue = next((i for i in scenario.issues if i.id == iid), None) if scenario else None
        rows = []
        for j, m in enumerate(models):
            r = by.get((m, iid))
            if r is None:
                continue
            rows.append(
                {
                    "model": m,
                    "y": 34 + 22 * j,
                    "x05": x_of(r["p05"]),
                    "x95": x_of(r["p95"]),
                    "xmed": x_of(r["median"]),
                    "xpt": x_of(r["point"]),
                    "median": r["median"],
                    "point": r["point"],
                    "p05": r["p05"],
                    "p95": r["p95"],
                    "units": _in_units(issue, r),
                    "color": PALETTE[j % len(PALETTE)],
                }
            )
        actors = []
        sq = None
        if scenario is not None and issue is not None:
            for st in scenario.stances:
                if st.issue == iid:
                    pos = issue.to_scale(st.position).mode
                    actors.append({"id": st.actor, "x": x_of(pos), "value": pos})
            if issue.status_quo is not None:
                sq = x_of(issue.to_scale(issue.status_quo).mode)
        levels = _label_levels(actors)
        extra = 10 * levels
        for r in rows:
            r["y"] += extra
        height = 34 + extra + 22 * max(len(rows), 1) + 10
        charts.append(
            {
                "id": iid,
                "k": k,
                "name": issue.name if issue else iid,
                "low": issue.low if issue else "0",
                "high": issue.high if issue else "100",
                "rows": rows,
                "actors": actors,
                "sq": sq,
                "height": height,
                "x0": x_of(0),
                "x100": x_of(100),
            }
        )
    return charts


LABEL_CHAR_PX = 6.0
"""Width of one character of an actor label (9 px sans-serif), for spacing the labels."""


def _label_levels(actors: list[dict[str, Any]]) -> int:
    """Give each actor label a line (`label_y`) so that no two labels on one line overlap: labels
    of actors with close positions go one line up. Returns the number of extra lines used."""
    ends: list[float] = []  # right edge of the last label on each line
    for a in sorted(actors, key=lambda a: a["x"]):
        half = len(str(a["id"])) * LABEL_CHAR_PX / 2 + 2
        line = next((i for i, end in enumerate(ends) if a["x"] - half > end), len(ends))
        if line == len(ends):
            ends.append(0.0)
        ends[line] = a["x"] + half
        a["line"] = line
    lines = max(len(ends), 1)
    for a in actors:
        a["label_y"] = 11 + 10 * (lines - 1 - a["line"])
        a["tick_y1"] = 14 + 10 * (lines - 1)
        a["tick_y2"] = a["tick_y1"] + 8
    return lines - 1


def _in_units(issue: Any, r: dict[str, Any]) -> str | None:
    """Median and band in the issue's own units, where it declares a scale."""
    if issue is None or issue.scale is None or r.get("median") is None:
        return None
    sc = issue.scale
    lo, hi = sorted((r["p05"], r["p95"]), key=sc.to_units)
    return f"{sc.show(r['median'])} [{sc.show(lo)}–{sc.show(hi)}] {sc.unit}"


def acceptance(result: dict[str, Any]) -> dict[str, Any]:
    """Veto players x models P(accept) table, lowest first."""
    models = [r["model"] for r in result.get("settlement", [])]
    table: dict[str, dict[str, Any]] = {}
    for r in result.get("actors", []):
        row = table.setdefault(r["actor"], {"actor": r["actor"], "name": r["actor_name"], "p": {}})
        row["p"][r["model"]] = r["p_accept"]
    rows = sorted(table.values(), key=lambda r: min((v for v in r["p"].values() if v is not None), default=1))
    return {"models": models, "rows": rows}


def blockers(result: dict[str, Any], scenario: Scenario | None, limit: int = 12) -> list[dict[str, Any]]:
    """The (model, actor, issue) rows that drive refusals most, for the 'who blocks' table."""
    rows = [r for r in result.get("blockers", []) if (r.get("share_driving") or 0) > 0]
    rows.sort(key=lambda r: (-(r.get("p_refuse") or 0), -(r.get("share_driving") or 0)))
    out = []
    for r in rows[:limit]:
        name = r["actor"]
        iname = r["issue"]
        in_units = None
        if scenario is not None:
            name = next((a.name for a in scenario.actors if a.id == r["actor"]), name)
            issue = next((i for i in scenario.issues if i.id == r["issue"]), None)
            if issue is not None:
                iname = issue.name
                if issue.scale is not None and r.get("median_move") is not None:
                    in_units = issue.scale.move(r["median_move"])
        out.append({**r, "actor_name": name, "issue_name": iname, "move_in_units": in_units})
    return out


def trajectory_charts(traj: dict[str, Any], scenario: Scenario | None) -> list[dict[str, Any]]:
    """Per dynamic model and issue: one polyline per actor over the rounds."""
    if not traj or scenario is None:
        return []
    charts = []
    actors = scenario.actor_ids
    for model, t in traj.items():
        rounds = len(t)
        if rounds < 1:
            continue
        for k, issue in enumerate(scenario.issues):
            lines = []
            for n, aid in enumerate(actors):
                if scenario.stance(aid, issue.id) is None:
                    continue
                pts = []
                for r in range(rounds):
                    v = t[r][n][k]
                    if v is None:
                        continue
                    px = LEFT + (r / max(rounds - 1, 1)) * (WIDTH - LEFT - RIGHT)
                    py = 10 + (100 - max(0.0, min(100.0, v))) / 100 * 140
                    pts.append(f"{px:.1f},{py:.1f}")
                last = t[-1][n][k]
                lines.append(
                    {"actor": aid, "points": " ".join(pts), "color": PALETTE[n % len(PALETTE)],
                     "end": last, "y_end": 10 + (100 - max(0.0, min(100.0, last or 0))) / 100 * 140}
                )
            charts.append({"model": model, "issue": issue.name, "rounds": rounds, "lines": lines})
    return charts


def context(result: dict[str, Any], scenario: Scenario | None, traj: dict[str, Any] | None = None) -> dict:
    """Everything the results template needs."""
    return {
        "result": result,
        "settlement": result.get("settlement", []),
        "charts": issue_charts(result, scenario),
        "accept": acceptance(result),
        "blockers": blockers(result, scenario),
        "trajectories": trajectory_charts(traj or {}, scenario),
        "zone": result.get("zone_of_agreement"),
        "provenance": result.get("provenance", {}),
        "x_of": x_of,
        "pct": pct,
        "num": num,
    }
