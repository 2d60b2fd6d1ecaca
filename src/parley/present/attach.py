"""Attach presentation to the types below it: Jupyter display of scenarios, forecasts,
comparisons and leaderboards, the answer and landing points in `Forecast.to_dict()`, and the
counterfactual lead a forecast opens with. Imported on first use through `parley.core.hooks`,
whose loader the package root installs; nothing below presentation imports it."""

from __future__ import annotations

from typing import Any

from parley.analysis.compare import counterfactual_lead
from parley.core import hooks
from parley.present import notebook
from parley.present.landing import landing
from parley.present.narrative import answer


def _forecast_extras(fc: Any) -> dict[str, Any]:
    return {"answer": answer(fc), "landing": landing(fc)}


hooks.register_html("scenario", notebook.scenario_html)
hooks.register_html("forecast", notebook.forecast_html)
hooks.register_html("comparison", notebook.comparison_html)
hooks.register_html("leaderboard", notebook.leaderboard_html)
hooks.register_extra("forecast", _forecast_extras)
hooks.register_compute("lead", counterfactual_lead)
