"""The web app under hostile requests (issue 19): forged origins, absurd ids, large uploads."""

from __future__ import annotations

import threading
import time

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("multipart")


from parley.web.app import MAX_UPLOAD_BYTES


def test_origin_null_is_refused(client) -> None:
    """A sandboxed iframe or a data: page sends `Origin: null`; it could create drafts."""
    r = client.post("/open", data={"name": "ukraine-2025-05"}, headers={"origin": "null"})
    assert r.status_code == 403


def test_a_run_id_beyond_sqlite_integers_is_not_found(client) -> None:
    """GET /runs/99999999999999999999999 answered 500."""
    for path in ("/runs/99999999999999999999999", "/runs/99999999999999999999999/results.json",
                 "/runs/0"):
        assert client.get(path).status_code == 404, path


def big_yaml() -> bytes:
    """Just under the upload limit: a valid scenario with many actors."""
    head = ("id: big\ntitle: Big\nas_of: 2025-01-01\nquestion: q\nsettlement_test: false\n"
            "issues:\n  - {id: x, name: X, low: a, high: b}\nactors:\n")
    actor = "  - {{id: a{n}, name: Actor number {n} with a long name, capability: 1}}\n"
    text, n = head, 0
    while len(text) < MAX_UPLOAD_BYTES - 2000:
        text += actor.format(n=n)
        n += 1
    return text.encode("utf-8")


def test_a_large_upload_never_delays_healthz(client) -> None:
    """One 960 kB upload froze every request, /healthz included, for 38–50 s: parsing ran on the
    event loop. It runs in a worker thread now; /healthz must answer within 0.5 s throughout."""
    body = big_yaml()
    done = threading.Event()
    result: dict[str, int] = {}

    def post() -> None:
        r = client.post("/upload", files={"file": ("big.yaml", body, "application/octet-stream")},
                        data={"format": "yaml"}, follow_redirects=False)
        result["status"] = r.status_code
        done.set()

    worker = threading.Thread(target=post)
    worker.start()
    slowest, polls = 0.0, 0
    while not done.is_set() or polls < 3:
        start = time.perf_counter()
        assert client.get("/healthz").status_code == 200
        slowest = max(slowest, time.perf_counter() - start)
        polls += 1
        time.sleep(0.02)
    worker.join()
    assert result["status"] == 303
    assert slowest < 0.5, slowest
