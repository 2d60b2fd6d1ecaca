"""`parley run -m focal`: where each issue is likely to land, with probabilities and holders."""

from __future__ import annotations

from rich.table import Table

from parley.cli.app import console
from parley.forecast import Forecast
from parley.models import focal
from parley.narrative import pct


def show_landing(fc: Forecast, model: str = "focal") -> None:
    """A table of each issue's most likely landing points ("lands at Russia's position: 31%")."""
    info = fc.results[model].draws.info
    if "landing_point" not in info:
        return
    s = fc.scenario
    names = tuple(_name(s, a) for a in info.get("landing_actors", ()))
    t = Table(title=f"Where each issue lands ({model}, learnt from EU law-making)")
    t.add_column("issue")
    t.add_column("most likely landing points (0–100): probability")
    t.add_column("elsewhere", justify="right")
    for k, issue in enumerate(s.issues):
        rows = focal.landing_summary(info, names, k)
        text = "\n".join(f"lands at {r['label']} [{r['point']:.0f}]: {pct(r['probability'])}"
                         for r in rows)
        rest = float(info["landing_remainder"][:, k].mean())
        t.add_row(issue.name, text, pct(rest))
    console.print(t)
    console.print("[dim]The probabilities were learnt from EU law-making (Commission, Parliament "
                  "and Council); on another kind of negotiation they are a transfer, not a "
                  "measurement. See docs/models/focal.md.[/]")


def _name(scenario, actor_id: str) -> str:
    try:
        return scenario.actor(actor_id).name
    except Exception:
        return actor_id
