"""Forecast jobs for the web app: run in worker threads, report progress, keep the result.

A page starts a job and polls it; a small pool (two workers by default) bounds how many
forecasts run at once, so a burst of clicks queues instead of overloading the machine.
Every job's forecast is recorded in the runs registry with source `web`.

A job can be cancelled. The Monte Carlo calls the job's progress callback after every chunk of
draws; the callback raises `JobCancelled` once the user asked to stop, so the work ends at the
next chunk boundary without any thread being killed. `forecast()` then marks the registry row
`cancelled` with the reason and no results, so a cancelled run never appears as a finished one;
a job cancelled while still queued never starts and is not recorded.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.core.errors import Cancelled, ParleyInputError
from parley.core.jsonable import finite
from parley.core.scenario import Scenario

KEEP = 200


@dataclass
class Job:
    id: str
    scenario: Scenario
    models: list[str]
    draws: int
    seed: int
    rule: str
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    draft_id: str | None = None
    kind: str = "forecast"  # forecast, or compare (baseline against `levers`)
    levers: list[str] = field(default_factory=list)
    status: str = "queued"  # queued, running, done, failed, cancelled
    done: int = 0
    error: str | None = None
    run_id: int | None = None
    result: dict[str, Any] | None = None
    trajectories: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    seconds: float | None = None
    stop: threading.Event = field(default_factory=threading.Event, repr=False)
    stop_asked: float | None = None  # perf_counter when Cancel was pressed

    @property
    def cancelling(self) -> bool:
        """Cancel was pressed and the job has not reached a chunk boundary yet."""
        return self.stop.is_set() and self.status in ("queued", "running")

    @property
    def total(self) -> int:
        # compare() reports draws done across all models at once; forecast() per model
        return self.draws if self.kind == "compare" else self.draws * len(self.models)

    @property
    def elapsed(self) -> float:
        return self.seconds if self.seconds is not None else time.perf_counter() - self.started

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 1.0


class Jobs:
    """The job table and the worker pool."""

    def __init__(self, db: Path | None, workers: int = 2):
        self.db = db
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="parley-job")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def submit(self, job: Job) -> Job:
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP:
                self._jobs.popitem(last=False)
        self._pool.submit(self._run, job)
        return job

    def get(self, job_id: str) -> Job:
        with self._lock:
            return self._jobs[job_id]

    def cancel(self, job_id: str) -> Job:
        """Ask a job to stop. A queued job is cancelled at once (it will never start); a
        running one stops after the chunk it is working on; a finished one is left as it is."""
        with self._lock:
            job = self._jobs[job_id]
            if job.status in ("queued", "running") and not job.stop.is_set():
                job.stop_asked = time.perf_counter()
                job.stop.set()
                if job.status == "queued":
                    job.status = "cancelled"
                    job.seconds = 0.0
        return job

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, job: Job) -> None:
        from parley.analysis.forecast import forecast
        from parley.store import runs

        with self._lock:  # a job cancelled while queued never starts
            if job.stop.is_set():
                return
            job.status = "running"
        job.started = time.perf_counter()
        before = runs.last_id()

        def progress(n: int) -> None:
            job.done += n
            if job.stop.is_set():
                raise JobCancelled(f"cancelled from the web page after {job.done:,} of {job.total:,} draws")

        try:
            if job.kind == "compare":
                self._compare(job, progress)
                return
            with runs.recording(self.db, source="web", enabled=self.db is not None):
                fc = forecast(
                    job.scenario,
                    job.models,
                    draws=job.draws,
                    seed=job.seed,
                    params=job.params,
                    rule=job.rule,  # type: ignore[arg-type]
                    progress=progress,
                )
                job.run_id = runs.last_id() if self.db is not None else None
            job.result = finite(fc.to_dict())
            job.trajectories = trajectories(job.scenario, job.models, job.params)
            job.status = "done"
        except JobCancelled as exc:
            job.error = str(exc)
            after = runs.last_id() if self.db is not None else None
            job.run_id = after if after != before else None  # the row forecast() marked cancelled
            job.status = "cancelled"
        except ParleyInputError as exc:
            job.error = exc.render()
            job.status = "failed"
        except Exception as exc:  # shown on the page; the registry has the run marked failed
            job.error = f"{type(exc).__name__}: {exc}"
            job.status = "failed"
        finally:
            job.seconds = time.perf_counter() - job.started

    @staticmethod
    def _compare(job: Job, progress: Any) -> None:
        """Baseline and the chosen levers on common random numbers (not a forecast: the
        registry records forecasts, so comparisons are not recorded there)."""
        from parley.analysis.compare import compare
        from parley.analysis.levers import variants

        vs = variants(job.scenario, job.levers)
        cmp = compare(
            job.scenario,
            vs,
            job.models,
            draws=job.draws,
            seed=job.seed,
            params=job.params,
            rule=job.rule,  # type: ignore[arg-type]
            progress=progress,
        )
        job.result = finite(cmp.to_dict())
        job.status = "done"


class JobCancelled(Cancelled):
    """Raised from a job's progress callback to stop its Monte Carlo between two chunks."""


def new_id() -> str:
    return secrets.token_hex(12)


def trajectories(
    scenario: Scenario, models: list[str], params: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Rounds of the dynamic models on the point estimates: positions[T][N][K] per model.

    Only the point estimate: one run of each dynamic model, cheap, and what the chart shows."""
    from parley.core import batch as batching
    from parley.models import registry

    out: dict[str, Any] = {}
    dynamic = [m for m in models if registry.MODELS.get(m) and registry.MODELS[m].dynamic]
    if not dynamic:
        return out
    lay = batching.layout(scenario)
    for name in dynamic:
        p = registry.make_params(name, (params or {}).get(name))
        res = registry.module(name).solve(lay.base, p)
        if res.trajectory is not None:
            out[name] = res.trajectory[0].tolist()  # [T, N, K]
    return out
