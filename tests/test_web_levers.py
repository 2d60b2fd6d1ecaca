"""Editing levers in the web editor: cells, adding and removing levers and changes, problems
next to the cell with the fix, hostile input, and edited levers in the YAML and in compare."""

from __future__ import annotations

import hashlib
import io
import re
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("multipart")

from fastapi.testclient import TestClient
from ruamel.yaml import YAML

from parley.analysis.compare import compare
from parley.analysis.levers import variants
from parley.io import bundled
from parley.io.scenario_file import scenario_from_data
from parley.web import lever_edit as le


def yaml_bytes(data) -> bytes:
    buf = io.StringIO()
    YAML().dump(data, buf)
    return buf.getvalue().encode()


def open_tiny(client: TestClient, data) -> str:
    r = client.post("/upload", files={"file": ("tiny.yaml", yaml_bytes(data), "application/octet-stream")},
                    data={"format": "yaml"}, follow_redirects=False)
    assert r.status_code == 303
    return r.headers["location"]


def cell(client: TestClient, draft: str, path: str, value: str):
    return client.post(f"{draft}/cell", data={"path": path, "value": value})


def err(html: str, path: str) -> str:
    slug = re.sub(r"[\[\].]+", "-", path).strip("-")
    m = re.search(rf'<span class="err" id="e-{re.escape(slug)}"[^>]*>(.*?)</span>', html, re.S)
    assert m is not None, f"no error span for {path}"
    return m.group(1).strip()


def levers_form(client: TestClient, draft: str, **form):
    return client.post(f"{draft}/levers", data=form, follow_redirects=False)


def test_edited_lever_goes_into_the_yaml_and_into_compare(client) -> None:
    draft = client.post("/open", data={"name": "ukraine-2025-05"}, follow_redirects=False).headers["location"]
    page = client.get(draft).text
    assert 'id="levers-editor"' in page and 'id="c-levers-0-changes-2-value"' in page
    for path, value in [("levers[0].id", "no_deal"), ("levers[0].name", "Without the deal"),
                        ("levers[0].description", "Edited in the page."),
                        ("levers[0].changes[0].value", "-20"), ("levers[0].changes[1].op", "set"),
                        ("levers[0].changes[1].value", "70"), ("levers[0].changes[2].actors", "US, EU"),
                        ("levers[0].changes[2].note", "")]:
        r = cell(client, draft, path, value)
        assert r.status_code == 200 and "Valid scenario" in r.text, (path, r.text[:400])
    # the compare panel is redrawn with the new id and name
    assert 'hx-swap-oob="true"' in r.text and 'value="no_deal"' in r.text and "Without the deal" in r.text
    text = client.get(f"{draft}/scenario.yaml").text
    data = YAML(typ="safe").load(text)
    lever = data["levers"][0]
    assert lever["id"] == "no_deal" and lever["name"] == "Without the deal"
    assert lever["description"] == "Edited in the page."
    assert lever["changes"][0]["shift"] == -20
    assert lever["changes"][1]["set"] == 70 and "shift" not in lever["changes"][1]
    assert lever["changes"][2]["actors"] == ["US", "EU"] and "note" not in lever["changes"][2]
    s = scenario_from_data(data, "download")
    r = client.post(f"{draft}/compare", data={"lever": ["no_deal"], "model": ["compromise"],
                                              "draws": "1000", "seed": "5"})
    html = r.text
    deadline = time.time() + 30
    while 'id="comparison"' not in html and time.time() < deadline:
        time.sleep(0.1)
        html = client.get(f"/jobs/{re.search(r'hx-get=.?/jobs/([a-f0-9]+)', html).group(1)}").text
    row = compare(s, variants(s, ["no_deal"]), ["compromise"], draws=1000, seed=5).to_dict()["settlement"][1]
    m = re.search(r'data-variant="no_deal">.*?</tr>', html, re.S)
    assert m is not None and "Without the deal" in m.group(0)
    assert f"{100 * row['delta']:+.1f} pts" in m.group(0)
    stale = client.post(f"{draft}/compare", data={"lever": ["no_minerals_deal"], "model": ["compromise"]})
    assert stale.status_code == 422  # the old id is gone


def test_levers_and_changes_are_added_and_removed(client, tiny_data) -> None:
    draft = open_tiny(client, tiny_data)
    page = client.get(draft).text
    assert 'id="add-lever"' in page and 'id="levers-panel"' not in page  # no levers yet
    assert levers_form(client, draft, action="add_lever", id="push", name="Push A").status_code == 303
    page = client.get(draft).text
    assert "Valid scenario" in page and 'id="levers-panel"' in page and 'value="push"' in page
    r = levers_form(client, draft, action="add_change", lever="0", field="salience", actors="B",
                    issues="x", op="scale", value="1.2", note="B cares more")
    assert r.status_code == 303
    data = YAML(typ="safe").load(client.get(f"{draft}/scenario.yaml").text)
    assert data["levers"] == [{"id": "push", "name": "Push A", "changes": [
        {"field": "position", "actors": ["A"], "issues": ["x"], "shift": 0},
        {"field": "salience", "actors": ["B"], "issues": ["x"], "scale": 1.2, "note": "B cares more"}]}]
    assert levers_form(client, draft, action="remove", path="levers[0].changes[0]").status_code == 303
    last = levers_form(client, draft, action="remove", path="levers[0].changes[0]")
    assert last.status_code == 422 and "at least one change" in last.text
    dup = levers_form(client, draft, action="add_lever", id="push")
    assert dup.status_code == 422 and "already" in dup.text
    base = levers_form(client, draft, action="add_lever", id="baseline")
    assert base.status_code == 422 and "reserved" in base.text
    for path in ("levers[3]", "levers[0].changes[7]", "levers", "../x", "actors[0]"):
        assert levers_form(client, draft, action="remove", path=path).status_code == 422, path
    assert levers_form(client, draft, action="add_change", lever="5").status_code == 422
    assert levers_form(client, draft, action="explode").status_code == 422
    assert levers_form(client, draft, action="remove", path="levers[0]").status_code == 303
    data = YAML(typ="safe").load(client.get(f"{draft}/scenario.yaml").text)
    assert "levers" not in data or data["levers"] == []


def test_bad_lever_cells_show_the_problem_and_the_fix_next_to_the_cell(client, tiny_data) -> None:
    draft = open_tiny(client, tiny_data)
    levers_form(client, draft, action="add_lever", id="push", name="Push A")
    cases = [  # (cell, typed, cell the problem is shown at, words in the message)
        ("levers[0].changes[0].value", "lots", "levers[0].changes[0].value", "not a finite number"),
        ("levers[0].changes[0].value", "1e999", "levers[0].changes[0].value", "not a finite number"),
        ("levers[0].changes[0].value", "1e308", "levers[0].changes[0].value", "ordinary size"),
        ("levers[0].changes[0].actors", "A, Q", "levers[0].changes[0].actors", "unknown actor 'Q'"),
        ("levers[0].changes[0].issues", "x y zz", "levers[0].changes[0].issues", "unknown issue 'zz'"),
        ("levers[0].changes[0].field", "morale", "levers[0].changes[0].field", "not a field a lever"),
        ("levers[0].changes[0].issues", "y", "levers[0].changes[0]", "no stance on issue"),  # C on y
        ("levers[0].id", "2bad", "levers[0].id", "not a valid id"),
        ("levers[0].name", "x" * 5000, None, None),  # cut to the cell limit, still valid
    ]
    for path, typed, at, words in cases:
        r = cell(client, draft, path, typed)
        assert r.status_code == 200, path
        if words is not None:
            shown = err(r.text, at)
            assert words in shown.replace("&#39;", "'") and "Fix:" in shown, (path, typed, shown)
            page = client.get(draft).text  # the full page shows it at the same cell
            assert words in err(page, at).replace("&#39;", "'")
        else:
            assert "Valid scenario" in r.text
        cell(client, draft, path, RESET.get(path, typed[:10]))  # valid again for the next case
    page = client.get(draft).text
    assert "Valid scenario" in page and 'value="lots"' not in page


RESET = {"levers[0].changes[0].value": "0", "levers[0].changes[0].actors": "C",
         "levers[0].changes[0].issues": "x", "levers[0].changes[0].field": "position", "levers[0].id": "push"}


def test_hostile_lever_input_is_refused_or_escaped(client, tiny_data) -> None:
    draft = open_tiny(client, tiny_data)
    levers_form(client, draft, action="add_lever", id="push", name="<script>alert(1)</script>")
    for path in ("levers[0].changes[0].bogus", "levers[0].bogus", "levers[9].name",
                 "levers[0].changes[9].value", "levers[-1].name", "levers[0].changes[0]"):
        assert cell(client, draft, path, "1").status_code == 422, path
    assert cell(client, draft, "levers[0].changes[0].op", "explode").status_code == 422
    r = cell(client, draft, "levers[0].changes[0].field", '"><script>alert(2)</script>')
    assert "<script>alert(2)" not in r.text
    page = client.get(draft).text
    assert "<script>alert(" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(2)" in page  # the unknown field is shown as typed, as text
    r = cell(client, draft, "levers[0].changes[0].note", "<img src=x onerror=alert(3)>")
    assert "<img src=x" not in client.get(draft).text
    big = levers_form(client, draft, action="add_change", lever="0", value="9" * 400, op="shift")
    assert big.status_code == 303
    page = client.get(draft).text
    assert "not a finite number" in err(page, "levers[0].changes[1].value")
    bad = levers_form(client, draft, action="add_lever", id="<b>x</b>")
    assert bad.status_code == 422 and "<b>x</b>" not in bad.text


def test_levers_file_of_the_wrong_shape_is_explained_not_edited(client, tiny_data) -> None:
    data = {**tiny_data, "levers": [{"id": "a", "name": "A", "changes": "shift everything"}]}
    draft = open_tiny(client, data)
    page = client.get(draft).text
    assert "cannot be shown as tables" in page and 'id="add-lever"' not in page
    assert "levers[0].changes" in page  # the model's problem, in the page-level list
    assert cell(client, draft, "levers[0].name", "B").status_code == 422


def test_nothing_on_disk_is_overwritten(client, tiny_data, tmp_path: Path) -> None:
    name = "ukraine-2025-05"
    path = bundled.path(name)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    draft = client.post("/open", data={"name": name}, follow_redirects=False).headers["location"]
    cell(client, draft, "levers[0].name", "changed")
    levers_form(client, draft, action="add_lever", id="new_one")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    raw = yaml_bytes(tiny_data)
    up = open_tiny(client, tiny_data)
    levers_form(client, up, action="add_lever", id="new_one")
    saved = list((tmp_path / "data" / "uploads").rglob("*.yaml"))
    assert len(saved) == 1 and saved[0].read_bytes() == raw


@pytest.mark.parametrize("text, value", [
    ("5", 5), ("-10", -10), ("0.8", 0.8), (" +3 ", 3), ("1e3", 1000.0), ("1e999", "1e999"),
    ("nan", "nan"), ("inf", "inf"), ("", ""), ("10%", "10%"),
])
def test_parse_value(text, value) -> None:
    got = le.parse_value(text)
    assert got == value and type(got) is type(value)


def test_problem_paths_map_to_the_page_cells() -> None:
    assert le.cell_of("levers[2].changes[1].scale") == "levers[2].changes[1].value"
    assert le.cell_of("levers[0].changes[0].actors[3]") == "levers[0].changes[0].actors"
    assert le.cell_of("levers[0].changes[0]") == "levers[0].changes[0]"
    assert le.cell_of("stances[1].salience") == "stances[1].salience"
