"""How long validation takes for a large scenario (issue 19: 1,000 actors in under 1 s).

Run: PYTHONPATH=src python benchmarks/bench_validate.py [ACTORS] [ISSUES]
Prints the best of five timings of `Scenario.model_validate` on plain data (every stance with
a reservation, every tenth actor a veto player), so the cross-field checks run in full.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from parley.io.scenario_file import scenario_from_data


def large_scenario(actors: int = 1000, issues: int = 5) -> dict[str, Any]:
    """A valid scenario of `actors` × `issues` stances, each with a reservation."""
    stances = []
    for a in range(actors):
        for k in range(issues):
            low = (a + k) % 2 == 0  # half the actors below the middle, half above
            pos = (10 if low else 60) + (a * 37 + k * 11) % 30
            res = pos + 5 if low else pos - 5  # towards the others' centre (about 50)
            stances.append({"actor": f"a{a}", "issue": f"i{k}", "position": pos,
                            "salience": 10 + (a + k) % 90, "reservation": res})
    return {
        "id": "large", "title": "Large", "as_of": "2025-01-01", "question": "?",
        "actors": [{"id": f"a{a}", "name": f"Actor {a}", "capability": 1 + a % 7,
                    "veto": a % 10 == 0} for a in range(actors)],
        "issues": [{"id": f"i{k}", "name": f"Issue {k}", "low": "0", "high": "100"}
                   for k in range(issues)],
        "stances": stances,
    }


def best_time(actors: int, issues: int, repeats: int = 5) -> float:
    data = large_scenario(actors, issues)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        scenario_from_data(data)
        best = min(best, time.perf_counter() - start)
    return best


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    print(f"{n} actors x {k} issues: validation best of 5 = {best_time(n, k):.3f} s")
