"""`parley run -m focal`: where each issue is likely to land, with probabilities and holders."""

from __future__ import annotations

from rich.table import Table

from parley.analysis.forecast import Forecast
from parley.cli.app import console
from parley.present.landing import NOTE, landing
from parley.present.narrative import pct


def show_landing(fc: Forecast) -> None:
    """A table per model of each issue's most likely landing points ("lands at Russia's
    position: 31%") and the chance of landing elsewhere."""
    for model, rows in landing(fc).items():
        t = Table(title=f"Where each issue lands ({model}, learnt from EU law-making)")
        t.add_column("issue")
        t.add_column("most likely landing points (0–100): probability")
        t.add_column("elsewhere", justify="right")
        for row in rows:
            text = "\n".join(f"lands at {p['label']} [{p['point']:.0f}]: {pct(p['probability'])}"
                             for p in row["points"])
            t.add_row(row["issue_name"], text, pct(row["elsewhere"]))
        console.print(t)
        console.print(f"{NOTE} See docs/models/focal.md.", style="dim")
