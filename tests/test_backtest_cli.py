"""`parley backtest`: deu, own files, cases; JSON/CSV output; exit code 2 on bad data."""

from __future__ import annotations

import csv
import json
import shutil

from typer.testing import CliRunner

from parley.backtest.data import deu_directory
from parley.cli import app

runner = CliRunner()


def test_deu_json_lists_every_requested_model_with_intervals(tmp_path):
    out = tmp_path / "pred.csv"
    result = runner.invoke(app, ["backtest", "deu", "-m", "median", "--reps", "100", "--json",
                                 "--csv", str(out), "-c", "ssi"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["setting"] == "development (grouped CV)" and data["capability"] == ["ssi"]
    assert all(r["capability"] == "ssi" for r in data["rows"])
    models = [r["model"] for r in data["rows"]]
    assert models == ["compromise", "median"]  # the baseline is always included
    row = data["rows"][1]
    assert set(row["metrics"]) == {"mae", "rmse", "median_ae", "within10", "crps", "exact_hit"}
    assert set(row["coverage"]) == {"50%", "80%"}
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 2 * 229 and {"forecast", "low80", "high80", "capability"} <= set(rows[0])


def test_table_output_names_the_convention():
    result = runner.invoke(app, ["backtest", "deu", "-m", "compromise", "--reps", "50"])
    assert result.exit_code == 0, result.output
    assert "capability votes" in result.output and "compromise" in result.output


def test_own_files_are_scored_with_fixed_parameters(tmp_path):
    for name in ("issues.csv", "stances.csv", "actors.csv"):
        shutil.copy(deu_directory() / name, tmp_path / name)
    result = runner.invoke(app, [
        "backtest", "--issues", str(tmp_path / "issues.csv"), "--stances",
        str(tmp_path / "stances.csv"), "--actors", str(tmp_path / "actors.csv"),
        "-m", "ensemble", "--reps", "50", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["setting"] == "new data (fixed parameters)"
    assert data["rows"][1]["evaluation"] == "shipped parameters"
    assert "in-sample" in data["notes"][0]  # these are the development issues themselves


def test_malformed_file_exits_2_naming_file_and_row(tmp_path):
    issues = tmp_path / "issues.csv"
    stances = tmp_path / "stances.csv"
    issues.write_text("isnr,prnr,outcome\ni1,p1,120\n")
    stances.write_text("isnr,actor,position,salience\ni1,a,0,50\ni1,b,100,50\ni1,c,50,50\n")
    result = runner.invoke(app, ["backtest", "--issues", str(issues), "--stances",
                                 str(stances), "-c", "equal"])
    assert result.exit_code == 2
    assert "issues.csv:2" in result.output and "outcome 120" in result.output
    assert "Traceback" not in result.output


def test_bad_options_exit_2():
    assert runner.invoke(app, ["backtest", "deu", "-c", "weird"]).exit_code == 2
    assert runner.invoke(app, ["backtest", "mars"]).exit_code == 2
    assert runner.invoke(app, ["backtest"]).exit_code == 2
    assert runner.invoke(app, ["backtest", "deu", "-m", "nosuchmodel"]).exit_code == 2


def test_cases_forecast_against_outcome():
    result = runner.invoke(app, ["backtest", "cases", "-m", "compromise", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["rows"]
    bdm = next(r for r in rows if r["case"] == "bdm1994_ec_emissions")
    # published: the capability x salience weighted mean is about 7.4 years = 56.7 on 0-100
    assert abs(bdm["forecast"] - 56.7) < 1.0 and bdm["outcome"] == 80.55
    assert {r["horizon"] for r in rows} >= {"about 2017", "about 2020"}


def test_counts_are_checked():
    result = runner.invoke(app, ["backtest", "deu", "--reps", "0", "--folds", "1"])
    assert result.exit_code == 2
    assert "--reps 0 is too small" in result.output and "--folds 1" in result.output


def test_cases_table_for_people():
    # EC case, compromise: the c*s weighted mean of 4, 7 and 10 years is 7.39 years (56.5 on
    # 0-100); the published outcome 8.833 years is 80.55, so the error is -24.1.
    result = runner.invoke(app, ["backtest", "cases", "-m", "compromise"])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines()
               if "bdm1994_ec_emissions" in line and "compromise" in line)
    assert "80.5" in row and "56.5" in row and "-24.1" in row
    assert "Three cases cannot rank models" in result.stdout


def test_own_files_report_distribution_metrics_for_every_model(tmp_path):
    """Held-out data are scored with the shipped focal coefficients; every row has crps, mae and
    exact_hit under `metrics`, and --pit writes the calibration figure."""
    for name in ("issues.csv", "stances.csv"):
        shutil.copy(deu_directory() / name, tmp_path / name)
    pit = tmp_path / "pit.png"
    result = runner.invoke(app, [
        "backtest", "--issues", str(tmp_path / "issues.csv"), "--stances",
        str(tmp_path / "stances.csv"), "-c", "equal", "-m", "focal", "-m", "median",
        "--reps", "50", "--json", "--pit", str(pit)])
    assert result.exit_code == 0, result.output
    rows = {r["model"]: r for r in json.loads(result.output)["rows"]}
    assert set(rows) == {"compromise", "focal", "median"}
    for row in rows.values():
        assert {"crps", "mae", "exact_hit"} <= set(row["metrics"])
        assert sum(row["pit_histogram"]) == 229
    assert rows["focal"]["evaluation"] == "shipped parameters"
    assert rows["focal"]["forecast_kind"] == "distribution"
    assert rows["focal"]["crps_minus_baseline"]["value"] < 0
    assert pit.stat().st_size > 1000
