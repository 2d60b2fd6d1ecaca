"""Speed of the web app and the runs registry.

    python benchmarks/bench_web.py            # prints one line per figure, JSON at the end

Measures, on this machine:
- `parley ui` start-up: process start -> address printed -> first page served;
- a 10^4-draw static run (compromise) on the bundled scenario, POST to results on the page;
- the cost of recording a forecast in the registry (forecast with and without it);
- the registry under 8 processes writing at once (runs per second, nothing lost);
- Cancel: POST /jobs/ID/cancel to the job reported cancelled, per kind of job (in-process
  TestClient, so no browser polling interval is included).
Needs the `web` extra. Uses temporary files only (never the user's registry).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path


def startup_and_run(tmp: Path) -> dict[str, float]:
    env = {**os.environ, "PARLEY_DB": str(tmp / "ui.sqlite")}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from parley.cli import main; main()", "ui", "--port", "0",
         "--data-dir", str(tmp / "data")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        line = proc.stdout.readline()
        t1 = time.perf_counter()
        url = re.search(r"http://\S+/", line).group(0)
        urllib.request.urlopen(url).read()
        t2 = time.perf_counter()
        opener = urllib.request.build_opener(NoRedirect)
        data = urllib.parse.urlencode({"name": "ukraine-2025-05"}).encode()
        try:
            opener.open(url + "open", data)
            raise SystemExit("expected a redirect")
        except urllib.error.HTTPError as exc:
            draft = exc.headers["location"]
        times = []
        for seed in range(5):
            body = urllib.parse.urlencode(
                {"model": "compromise", "draws": "10000", "seed": str(seed)}
            ).encode()
            t = time.perf_counter()
            html = urllib.request.urlopen(url + draft.lstrip("/") + "/run", body).read().decode()
            while 'id="results"' not in html:
                job = re.search(r'hx-get="/jobs/([a-f0-9]+)"', html).group(1)
                time.sleep(0.05)
                html = urllib.request.urlopen(f"{url}jobs/{job}").read().decode()
            times.append(time.perf_counter() - t)
        return {
            "ui_process_start_to_address_s": t1 - t0,
            "ui_address_to_first_page_s": t2 - t1,
            "web_static_run_10k_median_s": statistics.median(times),
            "web_static_run_10k_max_s": max(times),
        }
    finally:
        proc.terminate()
        proc.wait(10)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def recording_cost(tmp: Path) -> dict[str, float]:
    from parley.analysis.forecast import forecast
    from parley.io.loading import load
    from parley.store import runs

    s = load("ukraine-2025-05")
    forecast(s, "compromise", draws=1000)  # warm up imports and caches
    out = {}
    for label, db in (("off", None), ("on", tmp / "rec.sqlite")):
        ts = []
        for seed in range(7):
            t = time.perf_counter()
            with runs.recording(db, enabled=db is not None):
                forecast(s, "compromise", draws=10_000, seed=seed)
            ts.append(time.perf_counter() - t)
        out[f"forecast_10k_compromise_recording_{label}_s"] = statistics.median(ts)
    out["recording_overhead_s"] = (
        out["forecast_10k_compromise_recording_on_s"] - out["forecast_10k_compromise_recording_off_s"]
    )
    return out


def _writer(db: str, worker: int, n: int) -> None:
    from parley.io.loading import load
    from parley.store import runs

    reg = runs.Registry(db)
    s = load("ukraine-2025-05")
    result = {"settlement": [{"model": "compromise", "p_settlement": 0.5}], "pad": "x" * 10_000}
    for i in range(n):
        rid = reg.start(s, ["compromise"], {}, 10, worker * 10_000 + i, "compensatory")
        reg.finish(rid, result)


def registry_concurrency(tmp: Path, procs: int = 8, each: int = 50) -> dict[str, float]:
    from parley.store import runs

    db = tmp / "busy.sqlite"
    runs.Registry(db).count()
    ctx = mp.get_context("fork")
    ps = [ctx.Process(target=_writer, args=(str(db), w, each)) for w in range(procs)]
    t = time.perf_counter()
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    seconds = time.perf_counter() - t
    count = runs.Registry(db).count()
    return {
        "registry_runs_written": count,
        "registry_runs_expected": procs * each,
        "registry_8proc_runs_per_s": count / seconds,
    }


CANCEL_CASES = (  # label, form posted, endpoint
    ("compromise_1e6_process_pool", {"model": "compromise", "draws": "1000000"}, "run"),
    ("compromise_150k_inline", {"model": "compromise", "draws": "150000"}, "run"),
    ("nash_150k_inline", {"model": "nash", "draws": "150000"}, "run"),
    ("bdm_100k_inline", {"model": "bdm", "draws": "100000"}, "run"),
    ("compare_1e6_one_lever", {"model": "compromise", "draws": "1000000", "lever": "no_minerals_deal"},
     "compare"),
)


def cancel_latency(tmp: Path, repeats: int = 3) -> dict[str, float]:
    """Seconds from the cancel request to the job being cancelled, pressed mid-chunk."""
    from fastapi.testclient import TestClient

    from parley.web.app import create_app

    app = create_app(data_dir=tmp / "cancel", db=tmp / "cancel.sqlite", wait_for_short_runs=0.0)
    client = TestClient(app)
    draft = client.post("/open", data={"name": "ukraine-2025-05"}, follow_redirects=False).headers["location"]
    out: dict[str, float] = {}
    for label, form, endpoint in CANCEL_CASES:
        times = []
        for _ in range(repeats):
            html = client.post(f"{draft}/{endpoint}", data=form).text
            job = re.search(r'hx-get="/jobs/([a-f0-9]+)"', html).group(1)
            while client.get(f"/jobs/{job}/progress.json").json()["done"] == 0:
                time.sleep(0.005)
            time.sleep(0.05)  # somewhere inside the next chunk
            t = time.perf_counter()
            client.post(f"/jobs/{job}/cancel")
            while (p := client.get(f"/jobs/{job}/progress.json").json())["status"] == "running":
                time.sleep(0.005)
            if p["status"] != "cancelled":
                raise SystemExit(f"{label}: the job ended {p['status']} before the cancel arrived")
            times.append(time.perf_counter() - t)
        out[f"cancel_{label}_median_s"] = statistics.median(times)
        out[f"cancel_{label}_max_s"] = max(times)
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        figures: dict[str, float] = {}
        figures.update(startup_and_run(tmp))
        figures.update(recording_cost(tmp))
        figures.update(registry_concurrency(tmp))
        figures.update(cancel_latency(tmp))
    for k, v in figures.items():
        print(f"{k:48s} {v:.3f}" if isinstance(v, float) else f"{k:48s} {v}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
