"""Where each issue is likely to land, for models that forecast landing points (focal).

One plain-data summary shared by the terminal, the JSON output, the HTML report and the web app:
per model and issue, the most likely landing points with their probability (mean over draws),
position and holders, and the probability of landing anywhere else.
"""

from __future__ import annotations

from typing import Any

from parley.models import focal

NOTE = ("The probabilities were learnt from EU law-making (Commission, Parliament and Council "
        "positions on EU legislative proposals); on another kind of negotiation they are a "
        "transfer, not a measurement.")


def landing(fc: Any, top: int = 4) -> dict[str, list[dict[str, Any]]]:
    """{model: [{issue, issue_name, points: [{label, point, probability}], elsewhere}]} for
    every model of the forecast that reports landing points (empty when none does). Kept on
    the forecast once computed: `parley run` shows it and records it (grouping the landing
    points of 10^4 draws is the slow part of a focal run's output)."""
    memo = fc.__dict__.setdefault("_landing", {})
    if top not in memo:
        memo[top] = _landing(fc, top)
    return memo[top]


def _landing(fc: Any, top: int) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    s = fc.scenario
    for name, res in fc.results.items():
        info = res.draws.info
        if "landing_point" not in info:
            continue
        names = tuple(_name(s, a) for a in info.get("landing_actors", ()))
        rows = []
        for k, issue in enumerate(s.issues):
            points = focal.landing_summary(info, names, k, top=top)
            rows.append({
                "issue": issue.id, "issue_name": issue.name,
                "points": [{"label": p["label"], "point": round(float(p["point"]), 2),
                            "probability": round(float(p["probability"]), 4)} for p in points],
                "elsewhere": round(float(info["landing_remainder"][:, k].mean()), 4),
            })
        out[name] = rows
    return out


def _name(scenario: Any, actor_id: str) -> str:
    try:
        return scenario.actor(actor_id).name
    except Exception:
        return actor_id
