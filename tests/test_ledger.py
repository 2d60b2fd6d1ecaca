"""The forecast ledger: tampering is found and named, resolutions grade to hand-computed scores."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from parley.analysis.ledger import Ledger, grade, resolve, seal, verify
from parley.backtest.metrics import crps_samples
from parley.cli import app

runner = CliRunner()
QUESTION = dict(
    question="Will Russia and Ukraine sign a ceasefire by 31 December 2025?",
    resolves=dt.date(2025, 12, 31),
    criteria="A signed ceasefire or peace agreement",
)


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger of three forecasts and one resolution (small runs: the chain is what is tested)."""
    path = tmp_path_factory.mktemp("ledger") / "forecasts.jsonl"
    for seed in (1, 2, 3):
        seal("ukraine-2025-05", ledger=path, models=["compromise"], draws=300, seed=seed, **QUESTION)
    resolve(1, settled=False, source="no agreement by the date", outcomes={"us_aid": 30.0}, ledger=path)
    return path


def copy_of(path: Path, tmp_path: Path) -> Path:
    out = tmp_path / "forecasts.jsonl"
    shutil.copy(path, out)
    shutil.copy(path.with_name(path.name + ".head"), out.with_name(out.name + ".head"))
    return out


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_a_fresh_ledger_verifies_and_reruns(sealed: Path) -> None:
    result = verify(sealed)
    assert result.ok and not result.tampering
    assert result.reproduced == [1, 2, 3]


@pytest.mark.parametrize("line", [0, 1, 2, 3])
def test_one_changed_byte_in_any_entry_is_named(sealed: Path, tmp_path: Path, line: int) -> None:
    path = copy_of(sealed, tmp_path)
    rows = lines(path)
    text = rows[line]
    at = text.index('"question"') if '"question"' in text else text.index('"source"')
    at += 12  # inside the value
    changed = text[:at] + ("X" if text[at] != "X" else "Y") + text[at + 1 :]
    rows[line] = changed
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = verify(path, rerun=False)
    assert not result.ok
    assert any(p.line == line + 1 for p in result.tampering), result.tampering
    out = runner.invoke(app, ["ledger", "verify", "--ledger", str(path), "--no-rerun"])
    assert out.exit_code == 1
    assert f"line {line + 1}" in out.output


@pytest.mark.parametrize("line", [0, 1, 2, 3])
def test_a_removed_entry_is_found(sealed: Path, tmp_path: Path, line: int) -> None:
    path = copy_of(sealed, tmp_path)
    rows = lines(path)
    del rows[line]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = verify(path, rerun=False)
    assert not result.ok
    out = runner.invoke(app, ["ledger", "verify", "--ledger", str(path), "--no-rerun"])
    assert out.exit_code == 1 and "tampered" in out.output


def test_two_swapped_entries_are_named(sealed: Path, tmp_path: Path) -> None:
    path = copy_of(sealed, tmp_path)
    rows = lines(path)
    rows[1], rows[2] = rows[2], rows[1]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = verify(path, rerun=False)
    assert {p.line for p in result.tampering} >= {2, 3}
    assert runner.invoke(app, ["ledger", "verify", "--ledger", str(path), "--no-rerun"]).exit_code == 1


def test_an_edited_forecast_with_a_recomputed_hash_does_not_reproduce(sealed: Path, tmp_path: Path) -> None:
    """Forging the numbers and the whole chain after them is caught by the re-run."""
    from parley.analysis.ledger.chain import GENESIS, canonical, entry_hash

    path = copy_of(sealed, tmp_path)
    entries = [json.loads(x) for x in lines(path)]
    entries[0]["forecast"]["compromise"]["issues"]["territory"]["median"] += 5.0
    prev = GENESIS
    for e in entries:
        e["prev"] = prev
        if e.get("kind") == "resolution":
            e["resolves_hash"] = entries[0]["hash"]
        e["hash"] = entry_hash(e)
        prev = e["hash"]
    path.write_text("".join(canonical(e) + "\n" for e in entries), encoding="utf-8")
    path.with_name(path.name + ".head").write_text(json.dumps({"entries": 4, "hash": prev}))
    result = verify(path)
    assert not result.tampering
    assert [r["seq"] for r in result.not_reproduced] == [1] and not result.ok


def test_resolving_an_unknown_entry_names_the_forecasts(sealed: Path, tmp_path: Path) -> None:
    path = copy_of(sealed, tmp_path)
    out = runner.invoke(
        app, ["ledger", "resolve", "9", "--settled", "no", "--source", "x", "--ledger", str(path)]
    )
    assert out.exit_code == 2 and "1, 2, 3" in out.output


def test_crps_of_an_ensemble_matches_the_integral() -> None:
    # two members 0 and 100, outcome 50: F is 0.5 on [0, 100), so the integral of (F - 1{x >= 50})^2
    # is 0.25 * 100 = 25 (= E|X - y| - E|X - X'| / 2 = 50 - 25)
    assert crps_samples(np.array([0.0, 100.0]), 50.0) == pytest.approx(25.0)
    # a point forecast: the absolute error
    assert crps_samples(np.full(99, 40.0), 50.0) == pytest.approx(10.0)
    # against numerical integration for an uneven ensemble
    x = np.array([10.0, 20.0, 20.0, 65.0])
    grid = np.linspace(-10, 110, 240_001)
    cdf = (x[None, :] <= grid[:, None]).mean(axis=1)
    y = 30.0
    integral = np.trapezoid((cdf - (grid >= y)) ** 2, grid)
    assert crps_samples(x, y) == pytest.approx(integral, abs=1e-2)


def test_three_resolved_entries_grade_to_hand_computed_scores(tmp_path: Path) -> None:
    path = tmp_path / "forecasts.jsonl"
    book = Ledger(path)
    quantiles = {
        "point40": [40.0] * 99,  # CRPS at outcome 50: 10
        "spread": [0.0] * 49 + [50.0] + [100.0] * 49,
    }
    cases = [(0.2, False, "point40", 50.0), (0.7, True, "point40", 40.0), (0.5, True, "spread", 50.0)]
    for p, settled, shape, outcome in cases:
        q = quantiles[shape]
        issue = {"q05": q[4], "q25": q[24], "median": q[49], "q75": q[74], "q95": q[94], "quantiles": q}
        e = book.append(
            {
                "kind": "forecast",
                "question": "q",
                "forecast": {"m": {"p_settlement": p, "issues": {"i": issue}}},
            }
        )
        book.append(
            {
                "kind": "resolution",
                "resolves_entry": e["seq"],
                "resolves_hash": e["hash"],
                "settled": settled,
                "outcomes": {"i": {"value": outcome, "scale_0_100": outcome}},
            }
        )
    g = grade(path)
    (row,) = g.by_model
    # Brier: (0.2-0)^2 = 0.04, (0.7-1)^2 = 0.09, (0.5-1)^2 = 0.25 -> mean 0.38/3
    assert row["brier"] == pytest.approx(0.38 / 3)
    # log score: -ln 0.8, -ln 0.7, -ln 0.5
    assert row["log_score"] == pytest.approx(-(np.log(0.8) + np.log(0.7) + np.log(0.5)) / 3)
    # CRPS: 10 (point 40, outcome 50), 0 (point 40, outcome 40), and the spread ensemble at 50:
    # E|X - 50| = 98*50/99, E|X - X'|/2 = (2 * 49*49*100 + 2 * 49*50) / 99^2 / 2 ... computed exactly:
    x = np.array(quantiles["spread"])
    spread_crps = np.abs(x - 50).mean() - np.abs(x[:, None] - x[None, :]).mean() / 2
    assert row["crps"] == pytest.approx((10.0 + 0.0 + spread_crps) / 3)
    # 90% interval: [40, 40] misses 50, holds 40; [0, 100] holds 50 -> 2/3; 50%: same pattern
    assert row["cover90"] == pytest.approx(2 / 3)
    assert row["cover50"] == pytest.approx(2 / 3)
    assert {c["bin"] for c in g.calibration} == {"0.2-0.3", "0.7-0.8", "0.5-0.6"}


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")
def test_signed_entries_verify_and_a_forged_signature_fails(tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    path = tmp_path / "forecasts.jsonl"
    entry = seal(
        "ukraine-2025-05", ledger=path, models=["compromise"], draws=100, seed=1, sign_key=key, **QUESTION
    )
    assert "BEGIN SSH SIGNATURE" in entry["signature"]
    assert verify(path, rerun=False).ok
    other = tmp_path / "other.jsonl"
    e2 = seal(
        "ukraine-2025-05", ledger=other, models=["compromise"], draws=100, seed=2, sign_key=key, **QUESTION
    )
    rows = lines(path)
    forged = json.loads(rows[0])
    forged["signature"] = e2["signature"]
    from parley.analysis.ledger.chain import canonical

    path.write_text(canonical(forged) + "\n", encoding="utf-8")
    assert any("signature" in p.what for p in verify(path, rerun=False).tampering)


def test_the_worked_example_in_the_docs_verifies_reproduces_and_grades() -> None:
    example = Path(__file__).resolve().parents[1] / "docs" / "examples" / "forecasts-example.jsonl"
    result = verify(example)
    assert result.ok and result.reproduced == [1], result.to_dict()
    g = grade(example)
    assert {r["model"] for r in g.by_model} == {"compromise", "median", "nash"}
    first = Ledger(example).entries()[0]
    assert first["retrospective"] is True
    assert all(
        r["brier"] == pytest.approx(first["forecast"][r["model"]]["p_settlement"] ** 2) for r in g.by_model
    )
