"""The web app through FastAPI's TestClient: every endpoint, hostile input, concurrent runs."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("multipart")

from fastapi.testclient import TestClient
from ruamel.yaml import YAML

from parley.analysis.forecast import forecast
from parley.io.loading import load
from parley.io.scenario_file import scenario_from_data
from parley.store import runs
from parley.web import drafts as dr
from parley.web.app import MAX_UPLOAD_BYTES, create_app

KTAB = Path(__file__).parent / "data" / "ktab" / "dummyData_3Dim.csv"


def yaml_bytes(data) -> bytes:
    import io

    buf = io.StringIO()
    YAML().dump(data, buf)
    return buf.getvalue().encode()


@pytest.fixture
def env(tmp_path: Path):
    data_dir = tmp_path / "data"
    db = tmp_path / "runs.sqlite"
    app = create_app(data_dir=data_dir, db=db)
    with TestClient(app) as client:
        yield client, data_dir, db


def open_bundled(client: TestClient, name: str = "ukraine-2025-05") -> str:
    r = client.post("/open", data={"name": name}, follow_redirects=False)
    assert r.status_code == 303
    return r.headers["location"]


def upload(client: TestClient, content: bytes, filename: str = "s.yaml", fmt: str = "yaml"):
    return client.post(
        "/upload", files={"file": (filename, content, "application/octet-stream")}, data={"format": fmt},
        follow_redirects=False,
    )


def err_span(html: str, slug: str) -> str:
    m = re.search(rf'<span class="err" id="e-{re.escape(slug)}"[^>]*>(.*?)</span>', html, re.S)
    assert m is not None, f"no error span for {slug}"
    return m.group(1).strip()


def run_and_wait(client: TestClient, draft: str, action: str = "run", done: str = 'id="results"',
                 **form) -> str:
    """POST a run (or `action="compare"`) and poll its job until the page shows `done`."""
    data = {"model": ["compromise"], "draws": "500", "seed": "3", **form}
    r = client.post(f"{draft}/{action}", data=data)
    assert r.status_code == 200, r.text
    html = r.text
    deadline = time.time() + 60
    while done not in html and time.time() < deadline:
        job = re.search(r'hx-get="/jobs/([a-f0-9]+)"', html)
        assert job, html[:500]
        time.sleep(0.2)
        html = client.get(f"/jobs/{job.group(1)}").text
    assert done in html, html[:500]
    return html


# --- pages --------------------------------------------------------------------------------
def test_index_lists_bundled_scenarios_formats_and_static_files_are_local(env) -> None:
    client, _, _ = env
    r = client.get("/")
    assert r.status_code == 200
    assert "ukraine-2025-05" in r.text and "minerals deal" in r.text
    assert 'value="yaml"' in r.text
    assert "http://" not in r.text and "https://" not in r.text  # nothing from a CDN
    js = client.get("/static/htmx.min.js")
    assert js.status_code == 200 and "htmx" in js.text[:200]
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/healthz").json()["status"] == "ok"


def test_open_bundled_shows_editable_tables(env) -> None:
    client, _, _ = env
    draft = open_bundled(client)
    r = client.get(draft)
    assert r.status_code == 200
    s = load("ukraine-2025-05")
    for section, n in (("actors", len(s.actors)), ("issues", len(s.issues)), ("stances", len(s.stances))):
        assert f'id="{section}"' in r.text
        assert f'id="c-{section}-{n - 1}-' in r.text
    assert "Valid scenario" in r.text
    assert client.post("/open", data={"name": "../../etc/passwd"}).status_code == 404


def test_cell_edit_shows_problems_next_to_the_field_and_clears_them(env) -> None:
    client, _, _ = env
    draft = open_bundled(client)
    bad = client.post(f"{draft}/cell", data={"path": "stances[0].salience", "value": "lots"})
    assert bad.status_code == 200
    assert "is not a value" in err_span(bad.text, "stances-0-salience")
    assert "1 problem" in bad.text
    out = client.post(f"{draft}/cell", data={"path": "stances[0].salience", "value": "150"})
    assert "salience must lie in 0–100" in err_span(out.text, "stances-0-salience")
    assert err_span(out.text, "stances-1-salience") == ""
    good = client.post(f"{draft}/cell", data={"path": "stances[0].salience", "value": "40/50/60"})
    assert "Valid scenario" in good.text and err_span(good.text, "stances-0-salience") == ""
    page = client.get(draft).text
    assert 'value="40/50/60"' in page  # the edit is kept
    # reservations are optional: an empty cell removes them; veto is a checkbox
    assert "Valid scenario" in client.post(f"{draft}/cell", data={"path": "issues[0].status_quo"}).text
    client.post(f"{draft}/cell", data={"path": "actors[0].veto"})
    assert 'id="c-actors-0-veto" name="value" checked' not in client.get(draft).text


def test_cell_edit_refuses_unknown_paths(env) -> None:
    client, _, _ = env
    draft = open_bundled(client)
    for path in ("stances[999].salience", "actors[0].id", "../../x", "stances[0].__class__", ""):
        assert client.post(f"{draft}/cell", data={"path": path, "value": "1"}).status_code == 422
    assert client.post("/d/notadraft/cell", data={"path": "actors[0].name", "value": "x"}).status_code == 404
    assert client.get("/d/..%2F..%2Fetc").status_code == 404


def test_run_returns_the_same_numbers_as_the_library_and_records_the_run(env) -> None:
    client, _, db = env
    draft = open_bundled(client)
    html = run_and_wait(client, draft, model=["compromise", "median"], draws="2000", seed="11")
    fc = forecast(load("ukraine-2025-05"), ["compromise", "median"], draws=2000, seed=11)
    for row in fc.settlement().itertuples():
        from parley.web.views import pct

        m = re.search(rf'id="p-settle-{row.model}">([^<]+)<', html)
        assert m and m.group(1) == pct(row.p_settlement).replace("<", "&lt;").replace(">", "&gt;")
    assert "Outcome per issue" in html and "<svg" in html
    assert "Who blocks" in html
    assert 'id="track-record"' in html and "<td>median</td>" in html.split('id="track-record"')[1]
    (rec,) = runs.Registry(db).list()
    assert (rec.source, rec.status, rec.draws, rec.seed) == ("web", "ok", 2000, 11)
    full = runs.Registry(db).get(rec.id)
    ours = {r["model"]: r["p_settlement"] for r in full.results["settlement"]}
    assert ours == pytest.approx(dict(zip(fc.settlement().model, fc.settlement().p_settlement, strict=True)))
    assert f'href="/runs/{rec.id}/results.json"' in html


def test_dynamic_model_shows_trajectories(env) -> None:
    client, _, _ = env
    draft = open_bundled(client)
    html = run_and_wait(client, draft, model=["bdm"], draws="200")
    assert "Trajectories" in html and "<polyline" in html


def test_focal_run_shows_where_each_issue_lands(env) -> None:
    client, _, _ = env
    draft = open_bundled(client)
    html = run_and_wait(client, draft, model=["focal"], draws="200")
    assert 'id="landing-focal"' in html and "lands at" in html
    assert "learnt from EU law-making" in html


def test_run_refuses_an_invalid_scenario_or_form(env) -> None:
    client, _, _ = env
    draft = open_bundled(client)
    r = client.post(f"{draft}/run", data={"model": ["compromise"], "draws": "0", "seed": "x"})
    assert r.status_code == 422
    assert "draws must be" in r.text and "seed must be" in r.text
    r = client.post(f"{draft}/run", data={"model": ["nope"], "draws": "10"})
    assert r.status_code == 422 and "known model" in r.text
    client.post(f"{draft}/cell", data={"path": "stances[0].position", "value": "500"})
    r = client.post(f"{draft}/run", data={"model": ["compromise"], "draws": "10"})
    assert r.status_code == 422 and "Not run" in r.text and "position" in r.text


def test_long_run_reports_progress_then_the_result(tmp_path: Path) -> None:
    app = create_app(data_dir=tmp_path / "d", db=tmp_path / "r.sqlite", wait_for_short_runs=0.0)
    client = TestClient(app)
    draft = open_bundled(client)
    r = client.post(f"{draft}/run", data={"model": ["compromise", "median"], "draws": "20000"})
    assert r.status_code == 200
    job = re.search(r'hx-get="/jobs/([a-f0-9]+)"', r.text)
    assert job is not None and "<progress" in r.text
    seen = []
    deadline = time.time() + 120
    while time.time() < deadline:
        p = client.get(f"/jobs/{job.group(1)}/progress.json").json()
        seen.append(p["done"])
        if p["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert p["status"] == "done" and p["done"] == p["total"] == 40000
    assert seen == sorted(seen)
    assert 'id="results"' in client.get(f"/jobs/{job.group(1)}").text
    assert client.get(f"/jobs/{job.group(1)}/results.json").json()["settlement"]


def test_runs_pages_and_downloads(env) -> None:
    client, _, db = env
    draft = open_bundled(client)
    run_and_wait(client, draft)
    with runs.recording(db, source="cli"):
        forecast(load("ukraine-2025-05"), "median", draws=100, seed=1)
    listing = client.get("/runs").text
    assert "web" in listing and "cli" in listing
    assert 'href="/runs/1"' in listing and 'href="/runs/2"' in listing
    page = client.get("/runs/2")
    assert page.status_code == 200 and "P(settlement)" in page.text and "median" in page.text
    data = client.get("/runs/1/results.json")
    assert data.status_code == 200 and "attachment" in data.headers["content-disposition"]
    body = data.json()
    assert body["scenario"]["id"] == "ukraine-2025-05" and body["results"]["settlement"]
    yml = client.get("/runs/1/scenario.yaml")
    assert scenario_from_data(YAML(typ="safe").load(yml.text)) == load("ukraine-2025-05")
    edit = client.post("/runs/1/edit", follow_redirects=False)
    assert edit.status_code == 303 and client.get(edit.headers["location"]).status_code == 200
    assert client.get("/runs/999").status_code == 404
    assert client.get("/jobs/ffff").status_code == 404
    assert client.get("/jobs/ffff/progress.json").status_code == 404
    assert "Recent runs" in client.get("/").text


def test_draft_yaml_download_round_trips_edits(env) -> None:
    client, _, _ = env
    draft = open_bundled(client)
    client.post(f"{draft}/cell", data={"path": "stances[2].salience", "value": "33"})
    r = client.get(f"{draft}/scenario.yaml")
    assert r.status_code == 200 and r.headers["content-disposition"].endswith('ukraine-2025-05.yaml"')
    s = scenario_from_data(YAML(typ="safe").load(r.text))
    assert s.stances[2].salience.mode == 33
    client.post(f"{draft}/cell", data={"path": "stances[2].salience", "value": "oops"})
    assert client.get(f"{draft}/scenario.yaml").text.startswith("# This scenario does not validate")


# --- uploads ------------------------------------------------------------------------------
def test_upload_valid_yaml_and_ktab(env, tiny_data) -> None:
    client, _, _ = env
    r = upload(client, yaml_bytes(tiny_data), "tiny.yaml")
    assert r.status_code == 303
    assert "Tiny test negotiation" in client.get(r.headers["location"]).text
    k = upload(client, KTAB.read_bytes(), KTAB.name, "ktab")
    assert k.status_code == 303, k.text
    page = client.get(k.headers["location"]).text
    assert "Valid scenario" in page and "no veto players" in page
    html = run_and_wait(client, k.headers["location"], model=["compromise", "pce"], draws="200")
    assert 'id="p-settle-compromise"' in html and "Trajectories" in html


def test_settlement_switch_of_an_imported_file(env) -> None:
    client, _, _ = env
    where = upload(client, KTAB.read_bytes(), KTAB.name, "ktab").headers["location"]
    page = client.get(where).text
    assert "Outcomes only: the settlement test is off" in page
    assert '<input type="checkbox" name="on" value="on"> Assess a settlement' in page  # unticked
    draft = where.split("#")[0]
    # Switched on, the KTAB file's missing veto players become a problem to fix ...
    r = client.post(f"{draft}/settlement", data={"on": "on"}, follow_redirects=True)
    assert r.status_code == 200 and "no actor has `veto: true`" in r.text
    assert 'value="on" checked> Assess a settlement' in r.text
    assert "settlement_test" not in client.get(f"{draft}/scenario.yaml").text
    # ... and switched off again the scenario is valid for outcome forecasts.
    r = client.post(f"{draft}/settlement", data={}, follow_redirects=True)
    assert "Valid scenario" in r.text and "Outcomes only" in r.text
    assert "settlement_test: false" in client.get(f"{draft}/scenario.yaml").text


def test_upload_hostile_input_is_refused_with_a_reason(env) -> None:
    client, data_dir, _ = env
    r = upload(client, b"title: [unclosed\n", "broken.yaml")
    assert r.status_code == 422 and "YAML syntax error" in r.text and "line" in r.text
    r = upload(client, "title: caf\u00e9\n".encode("latin-1"), "latin1.yaml")
    assert r.status_code == 422 and "not valid UTF-8" in r.text
    r = upload(client, b"\x00\x01binary", "bin.yaml")
    assert r.status_code == 422 and "binary" in r.text
    r = upload(client, b"x" * (MAX_UPLOAD_BYTES + 10), "big.yaml")
    assert r.status_code == 413
    r = upload(client, b"- just\n- a list\n", "list.yaml")
    assert r.status_code == 422 and "mapping" in r.text
    r = upload(client, b"title: x\n", "x.yaml", fmt="exe")
    assert r.status_code == 422 and "unknown format" in r.text
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    t = time.perf_counter()
    r = upload(client, bomb.encode(), "bomb.yaml")
    assert time.perf_counter() - t < 5
    assert r.status_code == 422 and "anchors and aliases" in r.text
    assert data_dir.exists()


def test_upload_names_never_become_paths_outside_the_data_dir(env, tiny_data, tmp_path: Path) -> None:
    client, data_dir, _ = env
    before = {p for p in tmp_path.rglob("*")}
    for name in ("../../evil.yaml", "..\\..\\evil.yaml", "/etc/passwd", "a/../../b.yaml", "....//x.yaml"):
        r = upload(client, yaml_bytes(tiny_data), name)
        assert r.status_code == 303
    created = {p for p in tmp_path.rglob("*")} - before
    assert created and all(data_dir in p.parents for p in created), created - {
        p for p in created if data_dir in p.parents
    }
    uploads = [p.relative_to(data_dir).parts for p in created if p.is_file() and "uploads" in p.parts]
    assert len(uploads) == 5 and all(len(parts) == 3 and parts[0] == "uploads" for parts in uploads)


def test_scripts_in_names_are_shown_escaped(env, tiny_data) -> None:
    client, _, _ = env
    evil = "<script>alert(1)</script>"
    tiny_data["title"] = evil
    tiny_data["actors"][0]["name"] = evil + "A"
    r = upload(client, yaml_bytes(tiny_data), evil + ".yaml")
    page = client.get(r.headers["location"]).text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    html = run_and_wait(client, r.headers["location"])
    assert "<script>alert" not in html
    listing = client.get("/runs").text + client.get("/runs/1").text
    assert "<script>alert" not in listing
    bad = upload(client, b"title: [", evil + ".yaml")
    assert "<script>alert" not in bad.text


# --- concurrency and security headers -----------------------------------------------------
def test_concurrent_runs_all_finish_and_are_all_recorded(env) -> None:
    client, _, db = env
    drafts = [open_bundled(client) for _ in range(4)]
    results: list[str] = []
    errors: list[BaseException] = []

    def go(d: str, seed: int) -> None:
        try:
            results.append(run_and_wait(client, d, seed=str(seed), draws="3000"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(d, i)) for i, d in enumerate(drafts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors and len(results) == 4
    rows = runs.Registry(db).list()
    assert sorted(r.seed for r in rows) == [0, 1, 2, 3]
    assert all(r.status == "ok" and r.source == "web" for r in rows)


def test_foreign_hosts_and_cross_site_posts_are_refused(env) -> None:
    client, _, _ = env
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400
    r = client.post("/open", data={"name": "ukraine-2025-05"}, headers={"origin": "http://evil.example"})
    assert r.status_code == 403
    ok = client.post(
        "/open", data={"name": "ukraine-2025-05"}, headers={"origin": "http://testserver"},
        follow_redirects=False,
    )
    assert ok.status_code == 303


def test_recording_off_still_runs_and_offers_the_json(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PARLEY_DB", "off")
    app = create_app(data_dir=tmp_path / "d")
    with TestClient(app) as client:
        assert "turned off" in client.get("/").text
        html = run_and_wait(client, open_bundled(client))
        job = re.search(r'href="/jobs/([a-f0-9]+)/results.json"', html)
        assert job and client.get(f"/jobs/{job.group(1)}/results.json").json()["settlement"]
        assert client.get("/runs/1").status_code == 404


# --- pieces -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "value", "error"),
    [
        ("50", 50, False),
        (" 12.5 ", 12.5, False),
        ("40/50/70", {"low": 40, "mode": 50, "high": 70}, False),
        ("50±10", {"mean": 50, "sd": 10}, False),
        ("50 +- 10", {"mean": 50, "sd": 10}, False),
        ("", None, False),
        ("fifty", "fifty", True),
        ("1/2", "1/2", True),
    ],
)
def test_parse_estimate(text, value, error) -> None:
    got, message = dr.parse_estimate(text)
    assert got == value and (message is not None) == error


def test_estimate_text_round_trips() -> None:
    for text in ("50", "40/50/70", "50±10", "12.5"):
        assert dr.estimate_text(dr.parse_estimate(text)[0]) == text


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("../../evil.yaml", "evil"),
        ("C:\\x\\y.csv", "y"),
        ("<script>.yaml", "script"),
        ("1.yaml", "upload_1"),
        ("", "upload"),
        ("a b.c.yaml", "a_b_c"),
    ],
)
def test_safe_stem(name, stem) -> None:
    assert dr.safe_stem(name) == stem


def test_ui_command_guards_remote_hosts_and_missing_extra(monkeypatch) -> None:
    import sys

    from typer.testing import CliRunner

    from parley.cli import app
    from parley.cli.web import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1")
    runner = CliRunner()
    r = runner.invoke(app, ["ui", "--host", "0.0.0.0"])
    assert r.exit_code == 2 and "--allow-remote" in r.output
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    r = runner.invoke(app, ["ui", "--port", "0"])
    assert r.exit_code == 2 and "pip install 'parley[web]'" in r.output


# --- levers, compare and the HTML report ------------------------------------------------------
def test_levers_are_listed_and_compared_on_common_random_numbers(env) -> None:
    from parley.analysis.compare import compare
    from parley.analysis.levers import variants

    client, _, _ = env
    draft = open_bundled(client)
    page = client.get(draft).text
    s = load("ukraine-2025-05")
    assert 'id="levers-panel"' in page
    for lv in s.levers:
        assert f'value="{lv.id}"' in page
    chosen = [s.levers[0].id, s.levers[-1].id]
    html = run_and_wait(client, draft, "compare", 'id="comparison"', lever=chosen, draws="2000",
                        seed="4")
    cmp = compare(s, variants(s, chosen), ["compromise"], draws=2000, seed=4).to_dict()
    for row in cmp["settlement"][1:]:
        m = re.search(rf'data-variant="{row["variant"]}">.*?</tr>', html, re.S)
        assert m is not None
        assert f"{100 * row['delta']:+.1f} pts" in m.group(0)
    bad = client.post(f"{draft}/compare", data={"lever": ["no_such_lever"], "model": ["compromise"]})
    assert bad.status_code == 422 and "levers" in bad.text


def test_no_lever_panel_without_levers(env, tiny_data) -> None:
    client, _, _ = env
    r = upload(client, yaml_bytes(tiny_data), "tiny.yaml")
    assert 'id="levers-panel"' not in client.get(r.headers["location"]).text


def test_html_report_of_a_run_is_self_contained(env, tiny_data) -> None:
    client, _, _ = env
    r = upload(client, yaml_bytes(tiny_data), "tiny.yaml")
    html = run_and_wait(client, r.headers["location"], draws="300")
    run_id = re.search(r'data-run-id="(\d+)"', html).group(1)
    assert f'href="/runs/{run_id}/report.html"' in html
    rep = client.get(f"/runs/{run_id}/report.html")
    assert rep.status_code == 200 and rep.headers["content-disposition"].endswith(f'run-{run_id}.html"')
    assert rep.headers["content-disposition"].startswith("inline")  # opens in the tab, not a download
    assert "Tiny test negotiation" in rep.text and "<script src=" not in rep.text
    assert client.get(f"/runs/{run_id}/report.html").text == rep.text  # cached, same file
    assert client.get("/runs/999/report.html").status_code == 404


def test_request_bodies_over_the_limit_are_refused_before_parsing(env) -> None:
    client, data_dir, _ = env
    big = b"x" * (2 * MAX_UPLOAD_BYTES)
    r = upload(client, big, "big.yaml")  # Content-Length says too much
    assert r.status_code == 413 and "limited" in r.text

    def chunks():  # no Content-Length: counted as it arrives
        yield (b'--zz\r\nContent-Disposition: form-data; name="file"; filename="a.yaml"\r\n'
               b"Content-Type: text/plain\r\n\r\n")
        for _ in range(40):
            yield b"y" * 65_536

    r = client.post("/upload", content=chunks(), headers={"content-type": "multipart/form-data; boundary=zz"})
    assert r.status_code == 413
    assert not list((data_dir / "uploads").iterdir())


def test_rows_can_be_added_and_removed(env, tiny_data) -> None:
    client, _, _ = env
    draft = upload(client, yaml_bytes(tiny_data), "tiny.yaml").headers["location"]

    def rows(**form):
        return client.post(f"{draft}/rows", data=form, follow_redirects=False)

    assert rows(action="add_actor", id="D", name="Actor D").status_code == 303
    assert rows(action="add_issue", id="z", name="Issue z").status_code == 303
    assert rows(action="add_stance", actor="D", issue="z").status_code == 303
    page = client.get(draft).text
    assert 'id="c-actors-3-name" name="value" class="text" value="Actor D"' in page
    assert 'id="c-stances-5-salience" name="value" class="est" value="50"' in page
    assert "Valid scenario" in page
    dup = rows(action="add_stance", actor="D", issue="z")
    assert dup.status_code == 422 and "already has a stance" in dup.text
    bad = rows(action="add_actor", id="1 bad<script>")
    assert bad.status_code == 422 and "not a valid actor id" in bad.text and "<script>" not in bad.text
    # removing an actor removes its stances too; the scenario stays valid
    assert rows(action="remove", path="actors[3]").status_code == 303
    page = client.get(draft).text
    assert 'id="c-actors-3-name"' not in page and 'id="c-stances-5-salience"' not in page
    assert "no actor has a stance on issue" in page  # issue z is now uncovered, said so
    assert rows(action="remove", path="issues[2]").status_code == 303
    assert "Valid scenario" in client.get(draft).text
    for path in ("stances[99]", "../x", "actors"):
        assert rows(action="remove", path=path).status_code == 422
    assert rows(action="explode").status_code == 422


def test_errors_are_pages_for_browsers_and_json_for_scripts(env) -> None:
    client, _, _ = env
    page = client.get("/runs/999", headers={"accept": "text/html"})
    assert page.status_code == 404 and 'id="error-detail"' in page.text and "No run with id 999" in page.text
    assert client.get("/runs/999").json() == {"detail": "No run with id 999."}
    frag = client.get("/jobs/abc", headers={"hx-request": "true"})
    assert frag.status_code == 404 and frag.text.startswith('<div class="problems">')


def test_concurrent_cell_edits_are_all_kept(env) -> None:
    client, _, _ = env
    draft = open_bundled(client)
    n = len(load("ukraine-2025-05").stances)
    values = {j: str(10 + j) for j in range(min(n, 16))}
    threads = [
        threading.Thread(
            target=client.post,
            args=(f"{draft}/cell",),
            kwargs={"data": {"path": f"stances[{j}].salience", "value": v}},
        )
        for j, v in values.items()
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    page = client.get(draft).text
    for j, v in values.items():
        assert f'id="c-stances-{j}-salience" name="value" class="est" value="{v}"' in page


def test_ui_command_warns_for_remote_hosts_and_prints_the_address(monkeypatch, tmp_path: Path) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from parley.cli import app

    served = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: served.append(sockets))
    runner = CliRunner()
    args = ["ui", "--port", "0", "--data-dir", str(tmp_path / "d"), "--db", str(tmp_path / "r.sqlite")]
    r = runner.invoke(app, [*args, "--host", "0.0.0.0", "--allow-remote"])
    assert r.exit_code == 0, r.output
    assert "warning" in r.output and "no login" in r.output.replace("\n", " ")
    assert re.search(r"http://0\.0\.0\.0:\d+/", r.output)
    r = runner.invoke(app, args)
    assert r.exit_code == 0 and "warning" not in r.output
    assert re.search(r"http://127\.0\.0\.1:\d+/", r.output)
    assert len(served) == 2


def test_decide_upload_and_its_errors(env) -> None:
    client, _, _ = env
    folder = Path(__file__).parent / "data" / "decide"
    ok = upload(client, (folder / "decide_small.csv").read_bytes(), "decide_small.csv", "decide")
    assert ok.status_code == 303, ok.text
    assert "Valid scenario" in client.get(ok.headers["location"]).text
    errors = folder / "decide_small_errors.csv"
    bad = upload(client, errors.read_bytes(), errors.name, "decide")
    assert bad.status_code == 422 and "could not be opened" in bad.text
    assert str(folder) not in bad.text and "uploads/" not in bad.text  # no server paths shown


def test_uploaded_invalid_scenario_opens_with_problems_next_to_cells(env, tiny_data) -> None:
    client, _, _ = env
    tiny_data["stances"][0]["salience"] = 150
    tiny_data["actors"][1]["capability"] = -1
    r = upload(client, yaml_bytes(tiny_data), "bad.yaml")
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "salience must lie in 0–100" in err_span(page, "stances-0-salience")
    assert "capability must be &gt; 0" in err_span(page, "actors-1-capability")
    assert "2 problems" in page
    run = client.post(f"{r.headers['location']}/run", data={"model": ["compromise"], "draws": "10"})
    assert run.status_code == 422


def test_uploaded_file_of_the_wrong_shape_explains_instead_of_tables(env) -> None:
    client, _, _ = env
    r = upload(client, b"title: x\nactors: not a list\n", "shape.yaml")
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "tables cannot be shown" in page and 'id="stances"' not in page
    assert "expected a list" in page or "required field" in page


def test_runs_diff_page_names_the_changed_field(env) -> None:
    client, _, _ = env
    draft = open_bundled(client)
    run_and_wait(client, draft, draws="1000", seed="5")
    client.post(f"{draft}/cell", data={"path": "stances[0].salience", "value": "99"})
    run_and_wait(client, draft, draws="1000", seed="5")
    assert 'id="diff-form"' in client.get("/runs").text
    page = client.get("/runs/diff", params={"a": 1, "b": 2})
    assert page.status_code == 200
    s = load("ukraine-2025-05")
    st = s.stances[0]
    assert f"stances[{st.actor}/{st.issue}].salience" in page.text and "99" in page.text
    assert 'id="diff-settlement"' in page.text
    assert client.get("/runs/diff", params={"a": 1, "b": 99}).status_code == 404


def test_issue_units_are_shown_where_the_issue_has_them(env) -> None:
    client, _, _ = env
    html = run_and_wait(client, open_bundled(client, "ukraine-2026-02"), draws="500")
    s = load("ukraine-2026-02")
    unit = next(i.scale.unit for i in s.issues if i.scale is not None)
    assert "in units: median [band]" in html and unit in html


def test_start_page_offers_recent_drafts(env) -> None:
    client, data_dir, _ = env
    assert 'id="recent-drafts"' not in client.get("/").text
    draft = open_bundled(client)
    (data_dir / "drafts" / "not-a-draft.json").write_text("{")  # ignored, never shown
    page = client.get("/").text
    assert 'id="recent-drafts"' in page and f'href="{draft}"' in page


def test_levers_of_an_outcome_only_scenario_compare_the_outcomes(env) -> None:
    client, _, _ = env
    ec = Path(__file__).resolve().parent.parent / "docs" / "examples" / "ec-car-emissions.yaml"
    # its `as_of: 1989-06-01` is an unquoted YAML date: the upload used to fail storing it
    r = upload(client, ec.read_bytes(), ec.name)
    assert r.status_code == 303, r.text
    where = r.headers["location"]
    assert "1989-06-01" in client.get(where).text
    draft = where.split("#")[0]
    html = run_and_wait(client, draft, "compare", 'id="comparison"', lever=["germany_softens"],
                        seed="4")
    assert "no settlement test" in html
    assert "Germany cares less about an early date moves" in html


def test_upload_detects_the_format(env) -> None:
    client, _, _ = env
    data = Path(__file__).parent / "data"
    for path, fmt in ((data / "ktab" / "dummyData_3Dim.xml", "ktab"),
                      (data / "decide" / "decide_small.csv", "decide"),
                      (data / "ktab" / "SOE-Policy.csv", "ktab")):
        r = upload(client, path.read_bytes(), path.name, "auto")
        assert r.status_code == 303, (path.name, r.text)
        page = client.get(r.headers["location"]).text
        assert "Valid scenario" in page and f"a {fmt} file has no veto players" in page
    assert 'option value="auto" selected' in client.get("/").text
