"""The track record shipped with parley: recomputed from the DEU development split, and shown
beside forecasts."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from parley.backtest import track_record
from parley.backtest.capability import CapabilitySpec
from parley.backtest.data import load_deu
from parley.backtest.runner import issue_batches, run_model
from parley.cli import app

runner = CliRunner()


def test_shipped_file_is_what_the_development_split_gives() -> None:
    # Regenerate with `python -m parley.backtest.track_record` when a model changes.
    assert track_record.compute() == track_record.shipped()


def test_compromise_record_is_its_mean_absolute_error_on_deu() -> None:
    dev = load_deu()
    run = run_model("compromise", issue_batches(dev, CapabilitySpec("votes")), dev)
    err = np.abs(run.forecast - dev.outcomes)
    rec = track_record.of("compromise")
    assert rec is not None and rec["issues"] == len(dev.outcomes) == 229
    assert rec["mae"] == round(float(err.mean()), 3)
    assert rec["within10"] == round(float((err <= 10).mean()), 3)
    assert rec["mae_low"] < rec["mae"] < rec["mae_high"]
    assert track_record.of("no-such-model") is None


def test_run_shows_the_record_of_the_models_it_ran() -> None:
    out = runner.invoke(app, ["run", "-n", "300", "-m", "compromise", "-m", "median"])
    assert out.exit_code == 0, out.output
    assert "EU legislative" in out.stdout and "not as this forecast's error" in out.stdout
    rec = track_record.of("compromise")
    assert f"{rec['mae']:.1f} [{rec['mae_low']:.1f}–{rec['mae_high']:.1f}]" in out.stdout
    data = json.loads(runner.invoke(app, ["run", "-n", "300", "-m", "median", "--json"]).stdout)
    assert list(data["track_record"]["models"]) == ["median"]
    assert data["track_record"]["issues"] == 229
