"""Digests of sampled batches, settlement tests and zones: a before/after check for speed work.

    python scripts/sampling_digests.py --write before.json    # on the old code
    python scripts/sampling_digests.py --compare before.json  # on the new code: lists differences

Covers every bundled scenario, the tutorial examples, the KTAB and Decide fixtures in tests/data
(and ../shared's inputs when present), each lever variant of the bundled scenarios, several seeds,
block-aligned and unaligned draw ranges, the uniforms' edge values, both settlement rules and
the zone. Each array is reduced to a SHA-256 of its dtype, shape and bytes, so "same digest" is
"bit-identical". Uses only functions that existed before the speed work, so both sides run it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

import parley
from parley.analysis.agreement_zone import zone
from parley.analysis.settlement import evaluate
from parley.core import batch as batching
from parley.core import levers as core_levers
from parley.models import registry

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
SEEDS = (0, 1, 7, 20240531)
RANGES = ((0, 3000), (1000, 2500), (5000, 1))  # (start, draws): aligned, unaligned, one draw
MODELS = ("compromise", "median", "nash")
FIELDS = ("position", "salience", "capability", "reservation", "status_quo")


def digest(a: np.ndarray) -> str:
    a = np.ascontiguousarray(a)
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())
    return h.hexdigest()[:16]


def normal_variant(tmp: Path) -> Path:
    """ukraine-2025-05 with every other triangular salience, capability and status quo written
    as a normal estimate: no bundled file has one, and their inverse CDF is a separate path
    (positions and reservations stay triangular: normal ones could cross each other)."""
    import re

    from parley.io import bundled

    text = Path(bundled.path("ukraine-2025-05")).read_text()
    x = r"([-\d.]+)"
    pattern = re.compile(rf"(salience|capability|status_quo): \{{low: {x}, mode: {x}, high: {x}\}}")
    count = 0

    def swap(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        lo, mo, hi = (float(g) for g in m.groups()[1:])
        return m.group(0) if count % 2 else f"{m.group(1)}: {{mean: {mo:g}, sd: {(hi - lo) / 3:g}}}"

    path = tmp / "ukraine-normal.yaml"
    path.write_text(pattern.sub(swap, text))
    return path


def sources(tmp: Path) -> dict[str, str]:
    out = {name: name for name in ("ukraine-2025-05", "ukraine-2026-02")}
    out["ukraine-normal"] = str(normal_variant(tmp))
    for p in sorted((ROOT / "docs" / "examples").glob("*.yaml")):
        out[p.name] = str(p)
    for p in sorted((ROOT / "tests" / "data" / "ktab").glob("*.csv")):
        out[f"ktab/{p.name}"] = str(p)
    out["decide/decide_small.csv"] = str(ROOT / "tests" / "data" / "decide" / "decide_small.csv")
    if SHARED.is_dir():
        for p in sorted((SHARED / "decide").glob("*.csv")):
            out[f"shared/decide/{p.name}"] = str(p)
    return out


def batch_digests(prefix: str, b: batching.Batch, out: dict[str, str]) -> None:
    for name in FIELDS:
        out[f"{prefix}/{name}"] = digest(getattr(b, name))


def outcome_digests(prefix: str, b: batching.Batch, models: tuple[str, ...], out: dict[str, str]) -> None:
    for model in models:
        result = registry.module(model).solve(b, registry.make_params(model))
        out[f"{prefix}/{model}/outcome"] = digest(result.outcome)
        for rule in ("compensatory", "strict"):
            s = evaluate(b, result, rule)
            for name in ("accept", "deficit", "drives", "move", "settle"):
                out[f"{prefix}/{model}/{rule}/{name}"] = digest(getattr(s, name))
    if b.veto.any():
        for rule in ("compensatory", "strict"):
            z = zone(b, rule)
            out[f"{prefix}/zone/{rule}/exists"] = digest(z.exists)
            out[f"{prefix}/zone/{rule}/package"] = digest(z.package)


def collect(quick: bool, tmp: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for label, src in sources(tmp).items():
        s = parley.load(src)
        lay = batching.layout(s)
        small = len(lay.actors) * len(lay.issues) <= 60
        models = MODELS if small and not quick else MODELS[:2]
        for seed in SEEDS:
            for start, draws in RANGES:
                batching._LAST_SAMPLE.clear()  # the cache must not decide what is compared
                b = batching.sample(lay, draws, seed, start)
                prefix = f"{label}/seed={seed}/{start}+{draws}"
                batch_digests(prefix, b, out)
                out[f"{prefix}/noise"] = digest(b.noise((5, 2), (3,)))  # a model's own stream
                if seed in (1, 7):
                    outcome_digests(prefix, b, models, out)
                # a sub-range of the cached block must equal a fresh sample
                part = batching.sample(lay, max(1, draws // 3), seed, start + draws // 3)
                batch_digests(f"{prefix}/cached-part", part, out)
        if lay.n_inputs:
            edges = np.array([1e-12, 1e-6, 0.25, 0.5, 0.75, 1 - 1e-9, 1 - 1e-16])
            u = np.tile(edges[:, None], (1, lay.n_inputs))
            cuts = [(i.estimate.mode - i.estimate.low) / (i.estimate.high - i.estimate.low)
                    if i.estimate.kind == "triangular" else 0.5 for i in lay.inputs]
            u = np.vstack([u, np.array(cuts)[None], np.nextafter(np.array(cuts), 0)[None]])
            batch_digests(f"{label}/edges", batching.from_uniforms(lay, u), out)
        if s.levers:
            from parley.analysis.levers import variants

            batching._LAST_SAMPLE.clear()
            b = batching.sample(lay, 2000, 3, 0)
            for v in variants(s, [lv.id for lv in s.levers]):
                vb = core_levers.apply(b, v)
                prefix = f"{label}/lever={v.id}"
                batch_digests(prefix, vb, out)
                outcome_digests(prefix, vb, MODELS[:2], out)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", type=Path, help="write the digests to this JSON file")
    ap.add_argument("--compare", type=Path, help="compare with digests written before")
    ap.add_argument("--quick", action="store_true", help="skip nash on the larger fixtures")
    args = ap.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = collect(args.quick, Path(tmp))
    if args.write:
        args.write.write_text(json.dumps(out, indent=0, sort_keys=True))
        print(f"{len(out)} digests written to {args.write}")
    if args.compare:
        before = json.loads(args.compare.read_text())
        missing = sorted(set(before) ^ set(out))
        differ = sorted(k for k in set(before) & set(out) if before[k] != out[k])
        for k in differ:
            print(f"DIFFERENT {k}")
        for k in missing:
            print(f"ONLY ON ONE SIDE {k}")
        print(f"{len(set(before) & set(out))} digests compared: {len(differ)} different, "
              f"{len(missing)} on one side only")
        return 1 if differ or missing else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
