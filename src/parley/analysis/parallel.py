"""Executors for sweeps: in-process, local processes, or a Dask cluster.

Every sweep in parley (lever comparisons, sensitivity samples) is a list of independent tasks
whose results are merged *in task order*. Each task is a pure function of its arguments
(the seed and the draw range fix its random numbers), so the merged result is the same whether
the tasks ran inline, in a process pool or on Dask workers.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from parley.core.errors import ParleyInputError, Problem

T = TypeVar("T")
CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a Dask scheduler before saying it cannot be reached."""


ORPHAN_POLL = 0.5
"""Seconds between a worker's checks that its parent is still alive."""


def worker_init() -> None:
    """Initializer of every parley worker process.

    Workers leave Ctrl-C to the parent, which cancels the work and exits cleanly (otherwise
    every worker prints its own KeyboardInterrupt traceback). And they die with the parent: a
    `kill -9` of the parent would otherwise leave them computing their chunks to the end. A
    daemon thread compares os.getppid() with the parent's pid (the process is re-parented when
    the parent dies) and ends the worker at once; unlike Linux's PR_SET_PDEATHSIG it works on
    every POSIX system and does not fire when the thread that started the pool ends.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    threading.Thread(target=_watch_parent, args=(parent,), name="parley-orphan-watch",
                     daemon=True).start()


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(ORPHAN_POLL)
        if os.getppid() != parent:
            os._exit(1)


_ignore_sigint = worker_init  # the name earlier code used


@contextmanager
def executor(
    scheduler: str | None = None, workers: int | None = None, *, parallel: bool = True
) -> Iterator[Executor | None]:
    """The executor a sweep should use; None means run inline in this process.

    scheduler: a Dask scheduler address (``tcp://host:8786``); needs ``parley[distributed]``.
    workers: local worker processes (1 = inline; None = inline unless `parallel` says the work
    is big enough to pay for starting processes).
    """
    if scheduler:
        client = _dask_client(scheduler)
        try:
            yield client.get_executor()
        finally:
            client.close()
        return
    n = workers if workers is not None else (os.cpu_count() or 1) if parallel else 1
    if n <= 1:
        yield None
        return
    pool = ProcessPoolExecutor(max_workers=n, initializer=worker_init)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown()


def _dask_client(address: str) -> Any:
    try:
        from dask.distributed import Client
    except ImportError:
        raise ParleyInputError(
            [Problem("--scheduler", "running on a Dask cluster needs the `distributed` extra",
                     "install it with `pip install 'parley[distributed]'`")]
        ) from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ParleyInputError(
            [Problem("--scheduler", f"cannot reach the Dask scheduler at {address}: {exc}",
                     "check the address (e.g. tcp://127.0.0.1:8786) and that the scheduler is running")]
        ) from None


def run_tasks(
    fn: Callable[..., T],
    tasks: Sequence[tuple[Any, ...]],
    pool: Executor | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[T]:
    """fn(*task) for every task, results in task order; progress(1) after each task finishes."""
    if pool is None:
        out = []
        for task in tasks:
            out.append(fn(*task))
            if progress:
                progress(1)
        return out
    futures: list[Future[T]] = [pool.submit(fn, *task) for task in tasks]
    try:
        results = []
        for fut in futures:
            results.append(fut.result())
            if progress:
                progress(1)
        return results
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise


def can_fork() -> bool:
    """Whether a small piece of work may go to a forked process: Linux (forking a process that
    has threads is fragile elsewhere) with at least two cores."""
    import multiprocessing
    import sys

    return (sys.platform == "linux" and (os.cpu_count() or 1) >= 2
            and "fork" in multiprocessing.get_all_start_methods())


LOCK_WAIT = 2.0
"""Seconds this process waits for the lock it shares with a forked helper (held for a few
instructions at a time) before it takes the helper for dead."""


class Shared:
    """fn(item) for every item, shared between a forked process and this one.

    For work too small for a process pool (its start-up and per-task copies cost more than a
    fraction of a second saves) that can still use a second core: the forked process takes
    items from the front of the list as soon as it starts; this process, once it calls
    `results()`, takes the rest from the back itself instead of waiting, then collects what the
    other sent. Each item is computed once, by the same function, so the results are those of
    computing them all here. Where a process, pipe or semaphore cannot be had, or the other
    process dies, this one computes what is missing. The forked process leaves Ctrl-C to this
    one and ends with it (`worker_init`). Only where `can_fork`: elsewhere `results()` computes
    every item here."""

    def __init__(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> None:
        import multiprocessing

        self._fn, self._items = fn, list(items)
        self._conn: Any = None
        self._proc: Any = None
        self._ends: Any = None
        if len(self._items) < 2 or not can_fork():
            return
        ctx = multiprocessing.get_context("fork")
        try:
            self._ends = ctx.Array("i", [0, len(self._items)])  # [next from the front, back end]
            here, there = ctx.Pipe(duplex=False)
            self._proc = ctx.Process(target=_shared_child, args=(there, self._ends, fn, self._items),
                                     daemon=True)
            self._proc.start()
        except (OSError, ImportError):  # no process, pipe or semaphore (some sandboxes)
            self._ends = self._proc = None
            return
        there.close()
        self._conn = here

    def results(self) -> list[Any]:
        """fn(item) for every item, in the items' order."""
        out: dict[int, Any] = {}
        if self._conn is not None:
            lock = self._ends.get_lock()
            while True:  # from the back, while the other has not reached it
                if not lock.acquire(timeout=LOCK_WAIT):  # it died holding the lock
                    self._proc.kill()
                    break
                try:
                    if self._ends[0] >= self._ends[1]:
                        break
                    self._ends[1] -= 1
                    i = self._ends[1]
                finally:
                    lock.release()
                out[i] = self._fn(self._items[i])
            try:
                while (got := self._conn.recv()) is not None:
                    out[got[0]] = got[1]
            except (EOFError, OSError):  # it died: what it did not send is computed below
                pass
            finally:
                self._conn.close()
                self._conn = None
                self._proc.join(timeout=1.0)
        for i, item in enumerate(self._items):
            if i not in out:
                out[i] = self._fn(item)
        return [out[i] for i in range(len(self._items))]


def _shared_child(conn: Any, ends: Any, fn: Callable[[Any], Any], items: list[Any]) -> None:
    worker_init()
    done = []  # sent at the end: a result larger than the pipe would block the send until the
    try:  # other process reads, which it does only once it has no item left to take
        while True:
            with ends.get_lock():
                if ends[0] >= ends[1]:
                    break
                i = ends[0]
                ends[0] += 1
            done.append((i, fn(items[i])))
        for got in done:
            conn.send(got)
        conn.send(None)
    except Exception:  # this process computes what was not sent
        pass
    finally:
        conn.close()
