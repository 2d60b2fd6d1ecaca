"""The HTML report: answer first, real charts, self-contained (no network fetches), small."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from typer.testing import CliRunner

import parley
from parley.cli import app
from parley.io.scenario_file import scenario_from_data
from parley.present.report import build_report, render

runner = CliRunner()
FAST = {"draws": 1000, "lever_draws": 400, "sensitivity_samples": 16}


class Fetches(HTMLParser):
    """Collects every tag and attribute that would make a browser load something."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "srcset", "data", "poster", "action") and value:
                self.urls.append((tag, name, value))


def external_fetches(html: str) -> list[str]:
    parser = Fetches()
    parser.feed(html)
    bad = [f"<{t} {a}={v}>" for t, a, v in parser.urls if not v.startswith(("#", "data:"))]
    bad += [f"<{t}>" for t in parser.tags if t in ("script", "link", "iframe", "object", "embed", "img")]
    bad += re.findall(r"url\(\s*['\"]?(?!#|data:)[^)]*\)", html)
    bad += re.findall(r"@import", html)
    return bad


@pytest.fixture(scope="module")
def bundled_html() -> str:
    s = parley.load("ukraine-2025-05")
    return render(build_report(s, ["compromise", "median"], **FAST))


def test_answer_comes_first_and_leads_with_the_deal(bundled_html):
    html = bundled_html
    question = html.index("Will the United States, Ukraine and Russia settle")
    lead = html.index("What difference does the US–Ukraine minerals deal make?")
    forecast = html.index('id="forecast"')
    assert question < lead < forecast
    assert "Almost certainly not" in html[:forecast] or "P(settlement)" in html[:forecast]


def test_sections_and_charts(bundled_html):
    html = bundled_html
    for anchor in ("forecast", "settlement", "levers", "sensitivity", "inputs", "provenance"):
        assert f'id="{anchor}"' in html
    assert html.count("<svg") >= 4  # outcomes, settlement, levers, tornado
    for lever_id in ("no_minerals_deal", "security_guarantee", "ukraine_cedes_crimea"):
        assert lever_id in html
    assert "kyivindependent.com" in html  # sources are listed
    assert parley.load("ukraine-2025-05").content_hash() in html


def test_report_fetches_nothing(bundled_html):
    assert external_fetches(bundled_html) == []


def test_fetch_detector_catches_external_resources():
    assert external_fetches('<img src="https://x.org/a.png">')
    assert external_fetches('<link rel="stylesheet" href="//cdn.x/a.css">')
    assert external_fetches("<style>body{background:url(http://x/y.png)}</style>")
    assert external_fetches('<a href="#levers">x</a>') == []


def test_report_is_small(bundled_html):
    assert len(bundled_html.encode()) < 3_000_000


def test_dynamic_model_trajectories_and_no_levers():
    data = {
        "id": "tiny", "title": "Tiny", "as_of": "2025-01-01", "question": "Deal?",
        "actors": [
            {"id": "A", "name": "A", "capability": {"low": 2, "mode": 3, "high": 4}, "veto": True},
            {"id": "B", "name": "B", "capability": 1, "veto": True},
            {"id": "C", "name": "C", "capability": 2},
        ],
        "issues": [{"id": "x", "name": "X", "low": "none", "high": "all"}],
        "stances": [
            {"actor": "A", "issue": "x", "position": 20, "salience": 50, "reservation": 40},
            {"actor": "B", "issue": "x", "position": {"low": 70, "mode": 80, "high": 90}, "salience": 60,
             "reservation": 50},
            {"actor": "C", "issue": "x", "position": 50, "salience": {"low": 30, "mode": 50, "high": 70}},
        ],
    }
    s = scenario_from_data(data)
    rep = build_report(s, ["compromise", "bdm"], **FAST)
    assert "bdm" in rep.trajectories
    html = render(rep)
    assert 'id="trajectories"' in html
    assert 'id="levers"' not in html
    assert external_fetches(html) == []


def test_cli_report(tmp_path):
    out = tmp_path / "r.html"
    r = runner.invoke(app, ["report", "ukraine-2026-02", "-o", str(out), "-m", "compromise", "-n", "800",
                            "--lever-draws", "300", "--sensitivity-samples", "0", "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["bytes"] == len(out.read_bytes()) and info["sections"]["sensitivity"] is False
    assert "Peace talks after the 28-point plan" in out.read_text(encoding="utf-8")
    r = runner.invoke(app, ["report", "ukraine-2026-02", "-o", str(tmp_path / "no" / "dir.html"),
                            "-m", "compromise", "-n", "100", "--lever-draws", "100",
                            "--sensitivity-samples", "0"])
    assert r.exit_code == 2 and "cannot write" in r.output


def test_report_shows_each_models_track_record(bundled_html):
    from parley.backtest import track_record

    html = bundled_html
    assert 'id="track-record"' in html and "not as this forecast" in html
    for model in ("compromise", "median"):
        r = track_record.of(model)
        assert f"{r['mae']:.1f} [{r['mae_low']:.1f}–{r['mae_high']:.1f}]" in html


def test_report_of_an_outcome_only_scenario():
    from pathlib import Path

    ec = Path(__file__).resolve().parent.parent / "docs" / "examples" / "ec-car-emissions.yaml"
    html = render(build_report(parley.load(str(ec)), ["compromise"], **FAST))
    assert "This scenario has no settlement test" in html
    assert "ΔP(settlement)" not in html and "Δ mean outcome per issue" in html
    # Germany's lever moves the compromise up by about 5.4 points (tests/test_levers.py has
    # the point-estimate hand computation, 5.90)
    assert re.search(r"Delay before the new standards apply</span> \+5\.\d", html)
    assert "What drives" in html or 'id="sensitivity"' in html
    assert external_fetches(html) == []
