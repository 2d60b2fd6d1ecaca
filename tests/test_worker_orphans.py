"""Worker pools die with their parent: `kill -9` of a pooled run leaves no worker computing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parent.parent / "src")

# Starts a pool the way simulate does and the way sweeps do, keeps every worker busy, prints
# the workers' pids and waits to be killed.
PARENT = """
import sys, time
from concurrent.futures import ProcessPoolExecutor
from parley.analysis import parallel

def busy(seconds):
    end = time.time() + seconds
    while time.time() < end:
        sum(range(10_000))

own = ProcessPoolExecutor(max_workers=1, initializer=parallel.worker_init)
own.submit(busy, 120)
with parallel.executor(workers=2) as pool:
    futs = [pool.submit(busy, 120) for _ in range(2)]
    time.sleep(1.0)
    pids = list(pool._processes) + list(own._processes)
    print(" ".join(map(str, pids)), flush=True)
    time.sleep(120)
"""


def _alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads process states from /proc")
def test_kill_9_of_the_parent_ends_its_workers() -> None:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        pids = [int(p) for p in line.split()]
        assert len(pids) == 3 and all(_alive(p) for p in pids)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    left = [p for p in pids if _alive(p)]
    for p in left:  # never leave them behind, even when the test fails
        os.kill(p, signal.SIGKILL)
    assert not left, f"workers {left} outlived their killed parent"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads process states from /proc")
def test_ctrl_c_cancels_a_pooled_run_and_leaves_no_worker(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT) during a pooled `parley run`: exit 130, the run recorded as cancelled,
    no worker left, nothing printed to stdout."""
    from parley.store import runs

    db = tmp_path / "runs.sqlite"
    env = {**os.environ, "PARLEY_DB": str(db),
           "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "parley", "run", "-m", "bdm", "--draws", "500000", "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 60
    kids: list[int] = []
    while time.time() < deadline and len(kids) < 2:
        time.sleep(0.2)
        out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout
        kids = [int(p) for p in out.split()]
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    deadline = time.time() + 10
    while time.time() < deadline and any(_alive(p) for p in kids):
        time.sleep(0.1)
    assert proc.returncode == 130 and out == ""
    assert kids and not any(_alive(p) for p in kids)
    (row,) = runs.Registry(db).list()
    assert row.status == "cancelled"
