"""Fuzz campaign: mutate real input files and feed them to parley, saving every crash or hang.

    PYTHONPATH=src python scripts/fuzz_campaign.py --cases 100000 --workers 2

Seeds are the bundled scenarios, the docs examples, the KTAB samples and the Decide samples
(tests/data, plus ../shared/data/decide when that folder is present). Each case is a seed file
changed by a few random mutations (see `mutate`), written to a temporary file and given to
`parley.io.loading.load` in every format that could apply; a share of the accepted cases also goes
through the CLI (`validate`, and a short `run`, `compare`, `trajectory` or `exchanges`) so
rich-output and model crashes on odd but valid input are caught too.

Cases run in worker processes with a time limit (default 10 s, the parent kills a worker that
overruns) and an address-space limit (default 1 GB, `resource.setrlimit(RLIMIT_AS)`). Outcomes:

- `clean`: a `ParleyInputError` (the message a user sees); `accepted`: loaded (and ran) fine;
- `crash`: any other exception (a traceback a user would see), `memory`: MemoryError,
- `timeout`: over the time limit, `died`: the worker died (e.g. killed by the kernel).

Every new finding (one per exception type and innermost parley frame) is saved under the results
folder (default `fuzz-results/`, gitignored) as `<kind>-<n>/input<suffix>` with `traceback.txt`
and `case.json` (seed file, case number, mutations) so it can be replayed:

    PYTHONPATH=src python scripts/fuzz_campaign.py --replay fuzz-results/crash-1/input.yaml

A summary (`summary.json`) records cases, outcomes, the slowest case, the largest peak memory of
a worker and the command line. Cases are reproducible: case k of seed `--seed S` always gets the
same mutations.

Plain mutation (not atheris or hypothesis): parley's inputs are small text files whose
interesting breakages (huge numbers, deep nesting, odd dates, markup, stray quotes and carriage
returns, duplicated lines) come from a dictionary of tokens spliced into real files rather than
from coverage feedback; plain Python needs no compiled instrumentation (atheris has no wheels
for every Python version parley supports), runs the real loaders unmodified in many processes,
and keeps each case's input as a file a maintainer can open. hypothesis covers the same ground
in the normal test suite, with a small budget (tests/test_fuzz_properties.py).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import multiprocessing as mp
import os
import random
import re
import resource
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

TOKENS = [
    "[/]", "[bold]", "[/bold]", "[link=x]", "1e308", "-1e308", "1.7e308", "1e20", "-1e20", "1e15",
    "9" * 400, "9" * 4400, "0", "-0", "0.0", "1e-320", "-1", "100", "101", ".nan", ".inf", "-.inf",
    "NaN", "inf", "2025-02-30", "2025-13-01", "0000-00-00", "9999-12-31", "!!float x", "!!int 1.5",
    "!!str", "!!binary", "!!timestamp x", "&a", "*a", "&a x", "*a\n", "<<: *a", "? ", "- ", ": ",
    "{", "}", "[", "]", "[" * 300, "{a: " * 200, "- " * 200, "\r", "\r\n", "\n", "\t", '"', "'",
    "\\", "#", "%YAML 1.1\n", "---\n", "...\n", "\x00", "\ufeff", "\u2028", "\x85", "é", "😀",
    "<", ">", "&amp;", "<!DOCTYPE x [<!ENTITY e \"x\">]>", "<?xml version='1.0' encoding='x-bogus'?>",
    "&e;", "]]>", "<![CDATA[", ";", ",", "#A", "#P", "#M", "#D", "'#A'", "TODO", "true", "null",
    "~", "yes", "NO", "x" * 5000, "a" * 140000, "veto: true", "reservation: 50",
    "{low: 90, mode: 10, high: 50}", "{mean: 50, sd: -1}", "{mean: 1e300, sd: 1e300}",
    "scale: {unit: u, at_0: 1e20, at_100: 10}", "scale: {unit: u, at_0: -1e308, at_100: 1e308}",
    "scale: {unit: u, at_0: 5, at_100: 5}", "capability: 0", "salience: 1000", "position: -5",
]
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")
NUMBERS = ["0", "-0", "1e308", "-1e308", "1e15", "1e16", "9" * 30, "9" * 4400, "1e-300", "-1",
           "100.0000001", "nan", "inf", "0x10", "1_000", "1e", "."]


# --- mutation ---------------------------------------------------------------------------------
MAX_CASE_CHARS = 6_000_000
"""Cases are cut to 6 MB: above every input limit of parley (so the limits are exercised), and
small enough that a worker never runs out of memory holding one."""


def mutate(text: str, rng: random.Random, others: list[str]) -> tuple[str, list[str]]:
    """`text` changed by 1–4 random mutations; also returns their names (for case.json)."""
    done = []
    for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
        op = rng.choice(_OPS)
        text = op(text, rng, others)[:MAX_CASE_CHARS]
        done.append(op.__name__)
    return text, done


def _pos(text: str, rng: random.Random) -> int:
    return rng.randrange(len(text) + 1)


def insert_token(text: str, rng: random.Random, _o: list[str]) -> str:
    i = _pos(text, rng)
    return text[:i] + rng.choice(TOKENS) + text[i:]


def replace_token(text: str, rng: random.Random, _o: list[str]) -> str:
    i = _pos(text, rng)
    return text[:i] + rng.choice(TOKENS) + text[i + rng.randint(1, 8):]


def replace_number(text: str, rng: random.Random, _o: list[str]) -> str:
    found = list(NUMBER.finditer(text))
    if not found:
        return insert_token(text, rng, _o)
    m = rng.choice(found)
    return text[: m.start()] + rng.choice(NUMBERS) + text[m.end():]


def flip_byte(text: str, rng: random.Random, _o: list[str]) -> str:
    if not text:
        return chr(rng.randrange(256))
    i = rng.randrange(len(text))
    return text[:i] + chr(rng.choice((rng.randrange(32, 127), rng.randrange(0, 0x3000)))) + text[i + 1:]


def delete_range(text: str, rng: random.Random, _o: list[str]) -> str:
    i = _pos(text, rng)
    return text[:i] + text[i + rng.randint(1, 200):]


def duplicate_line(text: str, rng: random.Random, _o: list[str]) -> str:
    lines = text.splitlines(keepends=True)
    if not lines:
        return text
    k = rng.randrange(len(lines))
    times = rng.choice((1, 2, 10, 100, 2000))
    return "".join(lines[:k] + [lines[k]] * times + lines[k:])


def swap_lines(text: str, rng: random.Random, _o: list[str]) -> str:
    lines = text.splitlines(keepends=True)
    if len(lines) < 2:
        return text
    a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[a], lines[b] = lines[b], lines[a]
    return "".join(lines)


def change_indent(text: str, rng: random.Random, _o: list[str]) -> str:
    lines = text.splitlines(keepends=True)
    if not lines:
        return text
    k = rng.randrange(len(lines))
    lines[k] = rng.choice(("", " ", "  ", "    ", "\t")) + lines[k].lstrip(" ")
    return "".join(lines)


def splice(text: str, rng: random.Random, others: list[str]) -> str:
    other = rng.choice(others)
    i, j = _pos(text, rng), _pos(other, rng)
    return text[:i] + other[j: j + rng.randint(1, 2000)] + text[i:]


def truncate(text: str, rng: random.Random, _o: list[str]) -> str:
    return text[: _pos(text, rng)]


_OPS = [insert_token, insert_token, replace_token, replace_number, replace_number, flip_byte,
        delete_range, duplicate_line, swap_lines, change_indent, splice, truncate]


# --- seeds --------------------------------------------------------------------------------------
def seed_files() -> list[Path]:
    """The files mutated: bundled scenarios, docs examples, KTAB and Decide samples."""
    found = sorted((ROOT / "src/parley/data/scenarios").glob("*.yaml"))
    found += sorted((ROOT / "docs/examples").glob("*.yaml"))
    found += sorted(p for p in (ROOT / "tests/data/ktab").glob("*") if p.suffix in (".csv", ".xml"))
    found += sorted(p for p in (ROOT / "tests/data/decide").glob("*") if p.suffix in (".csv", ".txt"))
    if (SHARED / "data/decide").is_dir():  # GPL data: used only where the shared folder exists
        found += sorted(p for p in (SHARED / "data/decide").glob("*") if p.suffix in (".csv", ".txt"))
    return found


# --- one case, in a worker ------------------------------------------------------------------------
@dataclass
class Case:
    number: int
    seed_file: str
    text: str
    mutations: list[str]
    cli: list[str]


def make_case(number: int, campaign_seed: int, seeds: list[Path], texts: list[str],
              cli_share: float) -> Case:
    rng = random.Random(f"{campaign_seed}:{number}")
    k = rng.randrange(len(seeds))
    text, done = mutate(texts[k], rng, texts)
    cli: list[str] = []
    if rng.random() < cli_share:
        cli = rng.choice((["validate"], ["run", "-n", "64", "-m", "compromise", "-m", "median"],
                          ["run", "-n", "64"], ["compare", "-n", "64", "-m", "compromise"],
                          ["trajectory"], ["exchanges"], ["run", "-n", "32", "--json"]))
    return Case(number, str(seeds[k].relative_to(ROOT.parent)), text, done, cli)


def run_case(case: Case, folder: Path) -> dict[str, Any]:
    """Load the case in every format that could apply (and run the CLI on it when asked)."""
    from parley.core.errors import ParleyInputError
    from parley.io.loading import load

    suffix = Path(case.seed_file).suffix
    path = folder / f"case{suffix}"
    path.write_bytes(case.text.encode("utf-8", "surrogatepass"))
    outcome = "clean"
    formats = ["auto"] + (["ktab", "decide"] if suffix in (".csv", ".txt", ".xml") else [])
    for fmt in formats:
        try:
            load(path, format=fmt)
            outcome = "accepted"
        except ParleyInputError as exc:
            exc.render()
    ran_cli = bool(case.cli) and outcome == "accepted"
    if ran_cli:
        outcome = _run_cli(case.cli, path)
    return {"outcome": outcome, "cli": ran_cli}


def _run_cli(args: list[str], path: Path) -> str:
    from typer.testing import CliRunner

    from parley.cli import app

    result = CliRunner().invoke(app, [args[0], str(path), *args[1:]])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return "accepted" if result.exit_code == 0 else "clean"


def worker(conn: Any, memory_mb: int, work: str, campaign_seed: int, cli_share: float) -> None:
    """Serve cases from the parent until told to stop; report outcome, time and peak memory.
    The parent sends case numbers only: the worker builds each case itself, so the parent never
    holds large inputs (its memory is what every replacement worker starts from)."""
    os.environ["PARLEY_DB"] = "off"
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    folder = Path(tempfile.mkdtemp(prefix="case-", dir=work))
    parent = os.getppid()
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    import parley.cli
    import parley.io.loading

    parley.cli.load()  # every command module, once, outside the timed cases

    seeds = seed_files()
    texts = [p.read_text(encoding="utf-8-sig") for p in seeds]
    while True:
        number = conn.recv()
        if number is None:
            return
        case = make_case(number, campaign_seed, seeds, texts, cli_share)
        start = time.perf_counter()
        try:
            out = run_case(case, folder)
        except MemoryError:
            out = {"outcome": "memory", "traceback": traceback.format_exc()}
        except BaseException:  # a fuzz worker reports everything, SystemExit included
            out = {"outcome": "crash", "traceback": traceback.format_exc()}
        out["seconds"] = time.perf_counter() - start
        out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        conn.send(out)


def _exit_with_parent(parent: int) -> None:
    """A worker never outlives the campaign (e.g. when the parent is killed mid-case)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


# --- the parent ------------------------------------------------------------------------------------
class Pool:
    """Worker processes, one case at a time each; a worker that overruns is killed and replaced."""

    def __init__(self, n: int, memory_mb: int, work: str, campaign_seed: int, cli_share: float):
        self.ctx = mp.get_context("fork")
        self.args = (memory_mb, work, campaign_seed, cli_share)
        self.slots: list[Any] = [self._start() for _ in range(n)]

    def _start(self) -> tuple[Any, Any]:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=worker, args=(child, *self.args), daemon=True)
        proc.start()
        return proc, parent

    def replace(self, i: int) -> None:
        proc, conn = self.slots[i]
        if proc.is_alive():
            os.kill(proc.pid, signal.SIGKILL)  # a worker this campaign started, by its pid
        proc.join(5)
        conn.close()
        self.slots[i] = self._start()

    def close(self) -> None:
        for proc, conn in self.slots:
            with contextlib.suppress(OSError):
                conn.send(None)
            proc.join(5)
            if proc.is_alive():
                os.kill(proc.pid, signal.SIGKILL)


def signature(tb: str) -> str:
    """Exception type and innermost parley frame: one saved finding per distinct defect."""
    lines = [ln for ln in tb.strip().splitlines() if ln.strip()]
    last = lines[-1].split(":")[0] if lines else "?"
    frames = [ln.strip() for ln in lines if ln.strip().startswith('File "') and "parley" in ln]
    return f"{last} @ {frames[-1] if frames else '?'}"


def save(results: Path, kind: str, case: Case, out: dict[str, Any], seen: dict[str, str]) -> None:
    sig = signature(out.get("traceback", "")) if kind in ("crash", "memory") else kind + ":" + \
        hashlib.sha1(case.text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    if kind in ("crash", "memory") and sig in seen:
        return
    n = sum(1 for k in seen.values() if k == kind) + 1
    folder = results / f"{kind}-{n}"
    folder.mkdir(parents=True, exist_ok=True)
    seen[sig] = kind
    suffix = Path(case.seed_file).suffix
    (folder / f"input{suffix}").write_bytes(case.text.encode("utf-8", "surrogatepass"))
    (folder / "traceback.txt").write_text(out.get("traceback", f"{kind}\n"), encoding="utf-8")
    (folder / "case.json").write_text(json.dumps(
        {"case": case.number, "seed_file": case.seed_file, "mutations": case.mutations,
         "cli": case.cli, "signature": sig, "seconds": out.get("seconds")}, indent=2),
        encoding="utf-8")


def campaign(args: argparse.Namespace) -> dict[str, Any]:
    seeds = seed_files()
    texts = [p.read_text(encoding="utf-8-sig") for p in seeds]
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    work = tempfile.mkdtemp(prefix="parley-fuzz-")
    pool = Pool(args.workers, args.memory_mb, work, args.seed, args.cli_share)
    counts: dict[str, int] = {}
    seen: dict[str, str] = {}
    slowest = (0.0, -1)
    max_rss = 0.0
    started = time.time()
    busy: dict[int, tuple[int, float]] = {}

    def case_of(number: int) -> Case:  # rebuilt only to save a finding
        return make_case(number, args.seed, seeds, texts, args.cli_share)

    reported = 0
    cli_runs = 0
    next_case = args.start
    end_case = args.start + args.cases
    deadline = started + args.seconds if args.seconds else float("inf")
    interrupted = False
    try:
        while busy or (next_case < end_case and time.time() < deadline):
            for i, (_proc, conn) in enumerate(pool.slots):
                if i not in busy and next_case < end_case and time.time() < deadline:
                    conn.send(next_case)
                    busy[i] = (next_case, time.time())
                    next_case += 1
            conns = {pool.slots[i][1]: i for i in busy}
            ready = mp.connection.wait(list(conns), timeout=0.5)
            for conn in ready:
                i = conns[conn]
                number, _t = busy.pop(i)
                try:
                    out = conn.recv()
                except (EOFError, OSError):
                    out = {"outcome": "died", "traceback": "the worker process died\n"}
                    pool.replace(i)
                kind = out["outcome"]
                counts[kind] = counts.get(kind, 0) + 1
                cli_runs += bool(out.get("cli"))
                max_rss = max(max_rss, out.get("maxrss_mb", 0.0))
                if out.get("seconds", 0.0) > slowest[0]:
                    slowest = (out["seconds"], number)
                if kind not in ("clean", "accepted"):
                    save(results, kind, case_of(number), out, seen)
            now = time.time()
            for i, (number, t0) in list(busy.items()):
                if now - t0 > args.timeout:
                    busy.pop(i)
                    counts["timeout"] = counts.get("timeout", 0) + 1
                    save(results, "timeout", case_of(number), {"traceback": f"over {args.timeout} s\n"},
                         seen)
                    pool.replace(i)
            done = sum(counts.values())
            if args.progress and done >= reported + args.progress:
                reported = done - done % args.progress
                print(f"{done:,} cases, {time.time() - started:,.0f} s: {counts}", flush=True)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: keep what was done, cases in flight are lost
        interrupted = True
    finally:
        pool.close()
        shutil.rmtree(work, ignore_errors=True)
    summary = {
        "command": " ".join(sys.argv), "seed": args.seed, "start": args.start,
        "interrupted": interrupted,
        "cases": sum(counts.values()), "outcomes": counts, "cli_runs": cli_runs,
        "tracebacks": counts.get("crash", 0) + counts.get("memory", 0) + counts.get("died", 0),
        "timeouts": counts.get("timeout", 0), "slowest_case": {"seconds": round(slowest[0], 3),
                                                               "case": slowest[1]},
        "max_worker_rss_mb": round(max_rss, 1), "memory_limit_mb": args.memory_mb,
        "time_limit_s": args.timeout, "workers": args.workers,
        "elapsed_s": round(time.time() - started, 1), "seeds": [str(p.relative_to(ROOT.parent))
                                                                 for p in seeds],
        "findings": sorted(seen),
    }
    (results / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def replay(path: str) -> int:
    """Load one saved input in the foreground, showing the full traceback of a crash."""
    from parley.core.errors import ParleyInputError
    from parley.io.loading import load

    for fmt in ("auto", "yaml", "ktab", "decide"):
        try:
            load(path, format=fmt)
            print(f"{fmt}: accepted")
        except ParleyInputError as exc:
            print(f"{fmt}: clean error: {exc.render()[:300]}")
    return 0


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=10_000, help="number of cases (default 10,000)")
    ap.add_argument("--seconds", type=float, default=0, help="stop after this many seconds")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per case")
    ap.add_argument("--memory-mb", type=int, default=1024, help="address-space limit per worker")
    ap.add_argument("--seed", type=int, default=0, help="campaign seed (cases are reproducible)")
    ap.add_argument("--start", type=int, default=0, help="first case number (to resume)")
    ap.add_argument("--cli-share", type=float, default=0.02,
                    help="share of cases also run through the CLI when they load")
    ap.add_argument("--results", default=str(ROOT / "fuzz-results"))
    ap.add_argument("--progress", type=int, default=5000, help="print a line every N cases")
    ap.add_argument("--replay", help="replay one saved input instead of running a campaign")
    args = ap.parse_args()
    if args.replay:
        return replay(args.replay)
    signal.signal(signal.SIGTERM, _interrupt)  # stop cleanly: summary written, workers ended
    summary = campaign(args)
    print(json.dumps({k: v for k, v in summary.items() if k != "seeds"}, indent=2))
    return 1 if summary["tracebacks"] or summary["timeouts"] else 0


if __name__ == "__main__":
    sys.exit(main())
