"""Before/after check for speed work on the exchange model: every output, bit for bit.

Solves the exchange model on the bundled scenarios and the tutorial's examples (sampled draws),
on the KTAB samples and Decide's inputs (one run each; Decide's only when ../shared is
present), under the default parameters and under each non-default choice (REX, random ties,
the cap modes, no move budget, full update, min_gain, the explained draw's log), in both
engines, and writes a SHA-256 digest of every array and log per case. Run it on the old source
tree and the new one and compare:

    PYTHONPATH=/tmp/old/src python benchmarks/exchange_identity.py -o /tmp/before.json
    PYTHONPATH=src python benchmarks/exchange_identity.py -o /tmp/after.json --against /tmp/before.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from parley.core import batch as batching
from parley.io.loading import load
from parley.models import exchange

ROOT = Path(__file__).resolve().parent.parent
SHARED_DECIDE = ROOT.parent / "shared" / "data" / "decide"
VARIANTS: dict[str, dict] = {
    "default": {},
    "ties-random": {"ties": "random", "seed": 3},
    "rex-0.5": {"rex": 0.5, "seed": 5},
    "rex-1-ties-random": {"rex": 1.0, "ties": "random", "seed": 11},
    "blocked": {"passed": "blocked"},
    "stops": {"at_demander": "stops"},
    "no-budget": {"move_budget": False},
    "full-update": {"update": "full"},
    "preference": {"outcome": "preference", "rounds": 4},
    "min-gain": {"min_gain": 0.05},
    "explain": {"explain": True, "log_draw": 3},
}


def digest(out: exchange.Outcome) -> str:
    h = hashlib.sha256()
    for arr in (out.outcome, out.agreement, out.trajectory):
        h.update(np.ascontiguousarray(arr).tobytes())
    for key in sorted(out.info):
        value = out.info[key]
        h.update(key.encode())
        if isinstance(value, np.ndarray):
            h.update(str(value.dtype).encode() + np.ascontiguousarray(value).tobytes())
        else:
            h.update(json.dumps(value, sort_keys=True).encode())
    return h.hexdigest()


def batches() -> list[tuple[str, batching.Batch, int]]:
    """(name, batch, draws for the numpy engine) for every input checked."""
    out = []
    for name in ("ukraine-2025-05", "ukraine-2026-02", str(ROOT / "docs/examples/ec-car-emissions.yaml"),
                 str(ROOT / "docs/examples/ec-car-emissions-veto.yaml")):
        b = batching.sample(load(name), 1024, seed=1)
        out.append((Path(name).stem, b, 96))
    for path in sorted((ROOT / "tests/data/ktab").glob("*.csv")):
        out.append((f"ktab/{path.stem}", batching.point(load(str(path))), 1))
    decide = sorted((ROOT / "tests/data/decide").glob("decide_small*"))
    decide = [p for p in decide if "errors" not in p.name]
    if SHARED_DECIDE.is_dir():
        decide += sorted(p for p in SHARED_DECIDE.iterdir() if p.suffix in (".csv", ".txt"))
    for path in decide:
        out.append((f"decide/{path.name}", batching.point(load(str(path))), 1))
    rng = np.random.default_rng(42)
    out.append(("random-50x10", batching.Batch.from_arrays(
        rng.uniform(0, 100, (50, 10)), rng.uniform(0.05, 1, (50, 10)), rng.uniform(0.1, 1, 50)), 1))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", required=True, help="where to write the digests (JSON)")
    ap.add_argument("--against", help="digests of another tree to compare with")
    args = ap.parse_args()
    result: dict[str, str] = {}
    for name, b, numpy_draws in batches():
        for label, kw in VARIANTS.items():
            for engine in ("compiled", "numpy"):
                if engine == "numpy" and name == "random-50x10" and label != "default":
                    continue  # a few seconds each in the numpy engine; the default covers it
                bb = b if engine == "compiled" else b.take(slice(0, numpy_draws))
                out = exchange.solve(bb, exchange.Params(engine=engine, **kw))
                result[f"{name} {label} {engine}"] = digest(out)
        print(name, "done", file=sys.stderr)
    Path(args.output).write_text(json.dumps(result, indent=1, sort_keys=True))
    print(f"{len(result)} cases written to {args.output}")
    if args.against:
        before = json.loads(Path(args.against).read_text())
        diff = sorted(k for k in before.keys() | result.keys() if before.get(k) != result.get(k))
        for k in diff:
            print("DIFFERS:", k)
        print(f"{len(result) - len(diff)} of {len(result)} cases identical, {len(diff)} differ")
        return 1 if diff else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
