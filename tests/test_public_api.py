"""The public names the layout change must not move: `parley.load`, `parley.forecast`,
`parley.compare`, `parley.advise` and the types, the command line's commands and the web app's
routes."""

from __future__ import annotations

import inspect
import subprocess
import sys

import parley
from parley.cli import COMMANDS

WEB_ROUTES = {
    "/", "/d/{draft_id}", "/d/{draft_id}/advise", "/d/{draft_id}/cell", "/d/{draft_id}/compare",
    "/d/{draft_id}/levers", "/d/{draft_id}/rows", "/d/{draft_id}/run", "/d/{draft_id}/scenario.yaml",
    "/d/{draft_id}/settlement", "/d/{draft_id}/undo", "/healthz", "/jobs/{job_id}",
    "/jobs/{job_id}/cancel", "/jobs/{job_id}/progress.json", "/jobs/{job_id}/results.json", "/open",
    "/runs", "/runs/diff", "/runs/{run_id}", "/runs/{run_id}/edit", "/runs/{run_id}/report.html",
    "/runs/{run_id}/results.json", "/runs/{run_id}/scenario.yaml", "/static", "/upload",
}


def test_package_names() -> None:
    assert set(parley.__all__) >= {"Forecast", "ParleyInputError", "Problem", "Scenario", "__version__",
                                   "advise", "compare", "forecast", "load"}
    assert inspect.isfunction(parley.load) and inspect.isfunction(parley.forecast)
    assert inspect.isfunction(parley.advise)
    assert inspect.ismodule(parley.compare) and inspect.isfunction(parley.compare.compare)
    assert inspect.isclass(parley.Forecast) and inspect.isclass(parley.Scenario)
    assert issubclass(parley.ParleyInputError, Exception)
    assert isinstance(parley.__version__, str)


def test_forecast_through_the_public_names() -> None:
    s = parley.load("ukraine-2025-05")
    fc = parley.forecast(s, model="compromise", draws=200, seed=1)
    assert isinstance(fc, parley.Forecast)
    data = fc.to_dict()  # the answer comes from the presentation layer, attached on first use
    assert data["answer"] and list(data)[:2] == ["scenario", "answer"]
    assert "<table" in s._repr_html_() and "<table" in fc._repr_html_()


def test_commands_and_routes(tmp_path) -> None:
    assert set(COMMANDS) == {"run", "scenarios", "validate", "schema", "compare", "levers", "advise",
                             "sensitivity", "report", "trajectory", "exchanges", "import", "backtest",
                             "draft", "ui", "runs", "ledger"}
    from parley.web.app import create_app

    app = create_app(data_dir=tmp_path / "web", db=tmp_path / "runs.sqlite")
    assert {r.path for r in app.routes} == WEB_ROUTES


def test_import_parley_stays_light() -> None:
    """`import parley` alone loads no numpy, pandas or pydantic: names come on first use."""
    code = "import sys, parley; print(sorted(m for m in ('numpy', 'pandas', 'pydantic') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
