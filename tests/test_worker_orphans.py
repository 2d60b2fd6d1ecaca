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
from parley import parallel

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
