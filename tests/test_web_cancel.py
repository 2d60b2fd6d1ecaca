"""Cancelling web jobs: a running forecast stops between chunks of draws, a queued one never
starts, nothing is recorded as a finished run, and the next run starts right after."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("multipart")

from fastapi.testclient import TestClient

from parley.store import runs
from parley.web.app import create_app

BIG = "1000000"  # far more draws than the test waits for: the job is surely still running


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # Inline chunks (no process pool, for forecasts and lever comparisons alike): the job's
    # progress then arrives chunk by chunk, in order.
    monkeypatch.setattr("parley.analysis.simulate.PARALLEL_THRESHOLD", 10**12)
    app = create_app(data_dir=tmp_path / "d", db=tmp_path / "r.sqlite", wait_for_short_runs=0.0, workers=1)
    with TestClient(app) as c:
        c.db = tmp_path / "r.sqlite"  # type: ignore[attr-defined]
        yield c


def draft_of(client: TestClient) -> str:
    return client.post("/open", data={"name": "ukraine-2025-05"}, follow_redirects=False).headers["location"]


def job_id(html: str) -> str:
    m = re.search(r'hx-get="/jobs/([a-f0-9]+)"', html)
    assert m is not None, html[:300]
    return m.group(1)


def wait_for(client: TestClient, job: str, pred, timeout: float = 30.0) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        p = client.get(f"/jobs/{job}/progress.json").json()
        if pred(p):
            return p
        time.sleep(0.01)
    raise AssertionError(f"job {job} never reached the state: {p}")


def test_running_forecast_stops_at_a_chunk_boundary_and_is_not_recorded_as_finished(client) -> None:
    draft = draft_of(client)
    r = client.post(f"{draft}/run", data={"model": ["compromise"], "draws": BIG})
    job = job_id(r.text)
    assert 'id="cancel-job"' in r.text and f'hx-post="/jobs/{job}/cancel"' in r.text
    wait_for(client, job, lambda p: p["done"] > 0)  # running, with a chunk behind it
    r = client.post(f"/jobs/{job}/cancel")
    assert r.status_code == 200
    assert ("Cancelling" in r.text and "disabled>Cancel" in r.text) or 'data-status="cancelled"' in r.text
    p = wait_for(client, job, lambda p: p["status"] != "running")
    assert p["status"] == "cancelled" and 0 < p["done"] < p["total"] and not p["cancelling"]
    assert p["done"] % 1024 == 0  # whole chunks only: nothing half-done
    page = client.get(f"/jobs/{job}").text
    assert 'data-status="cancelled"' in page and "hx-trigger" not in page  # polling stops
    assert client.get(f"/jobs/{job}/results.json").status_code == 409
    reg = runs.Registry(client.db)
    rows = reg.list()
    assert [x.status for x in rows] == ["cancelled"] and "cancelled" in (rows[0].error or "")
    assert reg.get(rows[0].id).results is None and reg.list(status="ok") == []
    assert p["run_id"] == rows[0].id and f'href="/runs/{rows[0].id}"' in page
    # the worker is free again: the next run starts and finishes
    r = client.post(f"{draft}/run", data={"model": ["compromise"], "draws": "300", "seed": "2"})
    p = wait_for(client, job_id(r.text), lambda p: p["status"] not in ("queued", "running"))
    assert p["status"] == "done" and [x.status for x in reg.list(limit=1)] == ["ok"]


def test_queued_job_is_cancelled_at_once_and_never_runs(client) -> None:
    draft = draft_of(client)
    first = job_id(client.post(f"{draft}/run", data={"model": ["compromise"], "draws": BIG}).text)
    second = job_id(client.post(f"{draft}/run", data={"model": ["median"], "draws": BIG}).text)
    assert client.get(f"/jobs/{second}/progress.json").json()["status"] == "queued"  # one worker
    r = client.post(f"/jobs/{second}/cancel")
    assert 'data-status="cancelled"' in r.text and "not recorded" in r.text
    client.post(f"/jobs/{first}/cancel")
    wait_for(client, first, lambda p: p["status"] == "cancelled")
    time.sleep(0.1)  # the pool picks the cancelled job up and drops it
    assert client.get(f"/jobs/{second}/progress.json").json() == {
        "status": "cancelled", "done": 0, "total": 1000000, "run_id": None, "error": None,
        "cancelling": False}
    assert len(runs.Registry(client.db).list()) == 1  # only the first job ever started


def test_lever_comparison_can_be_cancelled(client) -> None:
    draft = draft_of(client)
    r = client.post(f"{draft}/compare", data={"lever": ["no_minerals_deal"], "model": ["compromise"],
                                              "draws": BIG})
    job = job_id(r.text)
    wait_for(client, job, lambda p: p["done"] > 0)
    client.post(f"/jobs/{job}/cancel")
    p = wait_for(client, job, lambda p: p["status"] != "running")
    assert p["status"] == "cancelled" and p["done"] < p["total"]
    assert "not recorded in the runs registry" in client.get(f"/jobs/{job}").text


def test_cancel_of_a_finished_or_unknown_job_and_from_another_site(client) -> None:
    draft = draft_of(client)
    r = client.post(f"{draft}/run", data={"model": ["compromise"], "draws": "200"})
    job = job_id(r.text)
    wait_for(client, job, lambda p: p["status"] == "done")
    again = client.post(f"/jobs/{job}/cancel")
    assert again.status_code == 200 and 'id="results"' in again.text  # finished: left as it is
    assert client.post("/jobs/ffffffffffffffffffffffff/cancel").status_code == 404
    assert client.post("/jobs/../cancel").status_code == 404
    running = job_id(client.post(f"{draft}/run", data={"model": ["compromise"], "draws": BIG}).text)
    evil = client.post(f"/jobs/{running}/cancel", headers={"origin": "http://evil.example"})
    assert evil.status_code == 403
    assert client.post(f"/jobs/{running}/cancel", headers={"host": "evil.example"}).status_code == 400
    assert client.get(f"/jobs/{running}/progress.json").json()["cancelling"] is False
    assert client.get(f"/jobs/{running}/cancel").status_code == 405  # a GET never cancels
    client.post(f"/jobs/{running}/cancel", headers={"origin": "http://testserver"})
    assert wait_for(client, running, lambda p: p["status"] != "running")["status"] == "cancelled"
