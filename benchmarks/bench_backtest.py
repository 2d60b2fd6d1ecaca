"""Time the full DEU development backtest (bar: all static models under 10 s on 2 cores).

Run: `/work/venv/bin/python benchmarks/bench_backtest.py [repeats]`. Prints the wall time of
loading the data, forecasting every issue with each static model, and the whole leaderboard
(forecasts, grouped-CV ensemble, 2000 proposal-bootstrap replicates, interval coverage).
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings

from parley.backtest.capability import CapabilitySpec
from parley.backtest.data import load_deu
from parley.backtest.leaderboard import leaderboard
from parley.backtest.runner import issue_batches, run_model
from parley.models import registry

STATIC_MODELS = [*registry.STATIC, "ensemble"]


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(repeats: int = 3) -> None:
    warnings.simplefilter("ignore")
    print(f"load DEU dev split: {best_of(load_deu, repeats):.3f} s")
    d = load_deu()
    spec = CapabilitySpec("votes")
    batches = issue_batches(d, spec)
    for name in registry.STATIC:
        failed = run_model(name, batches, d).error
        if failed:
            print(f"forecast with {name}: FAILED ({failed}); its timing would mean nothing")
            continue
        t = best_of(lambda name=name: run_model(name, batches, d), repeats)
        t1 = best_of(lambda name=name: run_model(name, batches, d, stack=False), 1)
        print(f"forecast {len(batches)} issues with {name:<10}: {t:.3f} s stacked, "
              f"{t1:.3f} s issue by issue")
    for conv in ("votes", "ssi"):
        t = best_of(lambda conv=conv: leaderboard(d, CapabilitySpec(conv), STATIC_MODELS),
                    repeats)
        print(f"full leaderboard ({', '.join(STATIC_MODELS)}; capability {conv}): {t:.2f} s")
    times = [best_of(lambda: leaderboard(d, spec, None), 1) for _ in range(repeats)]
    print(f"full leaderboard, every registered model ({', '.join(registry.names())}): "
          f"{statistics.median(times):.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
