"""The user's command is the benchmark: time every documented command as a process.

Runs each command shown in README.md and docs/tutorial.md, and the table of issue 13 (the KTAB
samples with `-m pce`, the Decide inputs with `-m exchange` when ../shared is present), as a
fresh `python -m parley ...` process with default options, and prints the process wall time
beside the reference implementation's own time and the bar, with PASS or FAIL.

    python benchmarks/bench_commands.py                  # everything (a few minutes)
    python benchmarks/bench_commands.py --only ktab      # names matching a regular expression
    python benchmarks/bench_commands.py --repeat 3       # best of 3 runs per command
    python benchmarks/bench_commands.py --list           # the commands, not run
    python benchmarks/bench_commands.py --src /tmp/old/src   # time another source tree (before/after)

Bars (process wall, default options): every README/tutorial command under 10 s;
`parley run KTAB_FILE -m pce` at most max(0.7 s, KTAB's time / 10); `parley run DECIDE_FILE -m
exchange` at most Decide's command-line time / 10; `parley run` (bundled scenario) under 0.7 s;
10^4 draws of a dynamic model on the bundled scenario under 5 s. Reference times are those in
../shared/reference/README.md (KTAB `smpc`; Decide's CLI with its default writers). The bars
are on wall time; the CPU column (the process and its workers) tells what a loaded machine's
wall time hides: on 2 cores, wall ~ CPU / 2 for a pooled run, ~ CPU for an inline one.
Runs are recorded in a throwaway registry and outputs go to a temporary directory.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KTAB = ROOT / "tests" / "data" / "ktab"
DECIDE = ROOT.parent / "shared" / "data" / "decide"
EXAMPLE = "docs/examples/ec-car-emissions.yaml"
VETO = "docs/examples/ec-car-emissions-veto.yaml"

KTAB_TIMES = {  # KTAB smpc, wall seconds (../shared/reference/README.md)
    "dummyData_3Dim": 0.13, "SOE-Pol-Comp": 0.63, "SOE-Policy": 3.2, "dummyData_6Dim": 5.4,
    "SOE-Competitive": 10.7, "dummyData-a040": 13.5, "random_a025_d3_s7": 5.2,
    "random_a050_d5_s42": 42.9,
}
DECIDE_TIMES = {"sample_data.txt": 6.0, "copenhagen.csv": 7.0, "cop21.csv": 20.0}  # its CLI, s
DOC_BAR = 10.0


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    source: str  # where the command is shown
    bar: float | None  # seconds; None: measured, no bar
    reference: str = ""  # the reference's time, as text
    needs: Path | None = None  # skipped when this path does not exist


def cases() -> list[Case]:
    out = [
        Case("run", ("run",), "README", 0.7),
        Case("run ukraine-2026-02", ("run", "ukraine-2026-02"), "README", DOC_BAR),
        Case("run --model nash --draws 20000 --json",
             ("run", "--model", "nash", "--draws", "20000", "--seed", "7", "--json"), "README", DOC_BAR),
        Case("scenarios", ("scenarios",), "README", DOC_BAR),
        Case("validate", ("validate", EXAMPLE), "README, tutorial", DOC_BAR),
        Case("schema", ("schema",), "README", DOC_BAR),
        Case("compare --lever", ("compare", "ukraine-2025-05", "--lever", "security_guarantee"),
             "README", DOC_BAR),
        Case("levers", ("levers", "ukraine-2025-05"), "README", DOC_BAR),
        Case("sensitivity", ("sensitivity", "ukraine-2025-05"), "README", DOC_BAR),
        Case("report", ("report", "ukraine-2025-05", "-o", "{tmp}/report.html"), "README", DOC_BAR),
        Case("trajectory -m bdm", ("trajectory", "ukraine-2025-05", "-m", "bdm"), "README", DOC_BAR),
        Case("trajectory -m pce", ("trajectory", "ukraine-2025-05", "-m", "pce"), "README", DOC_BAR),
        Case("exchanges", ("exchanges", "ukraine-2025-05"), "README", DOC_BAR),
        Case("import ktab", ("import", "ktab", str(KTAB / "SOE-Policy.csv"), "-o", "{tmp}/k.yaml"),
             "README", DOC_BAR),
        Case("import decide", ("import", "decide", str(ROOT / "tests/data/decide/decide_small.csv"),
                               "-o", "{tmp}/d.yaml"), "README", DOC_BAR),
        Case("backtest deu", ("backtest", "deu"), "README", DOC_BAR),
        Case("backtest cases", ("backtest", "cases"), "README", DOC_BAR),
        Case("draft", ("draft", str(ROOT / "tests/data/articles/peace_talks.txt"), "-o", "{tmp}/dr.yaml"),
             "README", DOC_BAR),
        Case("runs list", ("runs", "list"), "README, tutorial", DOC_BAR),
        Case("tutorial: run ec -m compromise -m median -m bdm -m pce",
             ("run", EXAMPLE, "-m", "compromise", "-m", "median", "-m", "bdm", "-m", "pce"),
             "tutorial, issue", DOC_BAR),
        Case("tutorial: trajectory ec -m bdm --explain",
             ("trajectory", EXAMPLE, "-m", "bdm", "--explain"), "tutorial", DOC_BAR),
        Case("tutorial: compare ec -m compromise -m bdm",
             ("compare", EXAMPLE, "-m", "compromise", "-m", "bdm"), "tutorial", DOC_BAR),
        Case("tutorial: levers ec", ("levers", EXAMPLE), "tutorial", DOC_BAR),
        Case("tutorial: sensitivity ec", ("sensitivity", EXAMPLE), "tutorial", DOC_BAR),
        Case("tutorial: run ec-veto -m compromise -m median -m nash",
             ("run", VETO, "-m", "compromise", "-m", "median", "-m", "nash"), "tutorial", DOC_BAR),
        Case("tutorial: report ec-veto", ("report", VETO, "-o", "{tmp}/ec.html"), "tutorial", DOC_BAR),
        Case("run -m nash --draws 100000", ("run", "-m", "nash", "--draws", "100000"), "issue", None,
             "was 6.6 s"),
    ]
    for model in ("bdm", "pce", "exchange"):
        out.append(Case(f"run -m {model} --draws 10000", ("run", "-m", model, "--draws", "10000"),
                        "issue", 5.0))
    for sample, ref in KTAB_TIMES.items():
        out.append(Case(f"ktab: run {sample}.csv -m pce", ("run", str(KTAB / f"{sample}.csv"), "-m", "pce"),
                        "issue", max(0.7, ref / 10), f"KTAB {ref:g} s"))
    out.append(Case("ktab: run SOE-Competitive.csv -m compromise -m pce",
                    ("run", str(KTAB / "SOE-Competitive.csv"), "-m", "compromise", "-m", "pce"), "issue",
                    max(0.7, KTAB_TIMES["SOE-Competitive"] / 10), "KTAB 10.7 s"))
    out.append(Case("ktab: run SOE-Policy (imported YAML) -m compromise -m pce",
                    ("run", "{tmp}/soe-policy.yaml", "-m", "compromise", "-m", "pce"), "issue",
                    max(0.7, KTAB_TIMES["SOE-Policy"] / 10), "KTAB 3.2 s"))
    out.append(Case("ktab: run random_a050_d5_s42.csv -m pce --draws 1000",
                    ("run", str(KTAB / "random_a050_d5_s42.csv"), "-m", "pce", "--draws", "1000"), "issue",
                    max(0.7, KTAB_TIMES["random_a050_d5_s42"] / 10), "KTAB 42.9 s (one run)"))
    for name, ref in DECIDE_TIMES.items():
        out.append(Case(f"decide: run {name} -m exchange", ("run", str(DECIDE / name), "-m", "exchange"),
                        "issue", ref / 10, f"Decide CLI {ref:g} s", needs=DECIDE / name))
    out.append(Case("decide: run cop21.csv -m compromise -m exchange",
                    ("run", str(DECIDE / "cop21.csv"), "-m", "compromise", "-m", "exchange"), "issue",
                    DECIDE_TIMES["cop21.csv"] / 10, "Decide CLI 20–35 s", needs=DECIDE / "cop21.csv"))
    return out


def run_once(case: Case, tmp: Path, env: dict[str, str], timeout: float) -> tuple[float, float, int, str]:
    """(wall s, CPU s of the process and its workers, exit code, last stderr line)."""
    args = [a.replace("{tmp}", str(tmp)) for a in case.args]
    for a in args:  # outputs are written afresh each time (commands refuse to overwrite)
        if a.startswith(str(tmp)) and Path(a).suffix in (".html", ".yaml") and "soe-policy" not in a:
            Path(a).unlink(missing_ok=True)
    t0 = time.perf_counter()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        proc = subprocess.run([sys.executable, "-m", "parley", *args], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - t0, float("nan"), -1, f"timed out after {timeout:g} s"
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    note = (proc.stderr or "").strip().splitlines()[-1:]
    return wall, cpu, proc.returncode, note[0] if note else ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="", help="regular expression: run the commands whose name matches")
    ap.add_argument("--repeat", type=int, default=1, help="runs per command; the best is shown")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds before a command is stopped")
    ap.add_argument("--list", action="store_true", help="print the commands and exit")
    ap.add_argument("--src", default=str(ROOT / "src"),
                    help="parley source tree to time (e.g. an export of an older commit, for before/after)")
    opts = ap.parse_args()
    chosen = [c for c in cases() if re.search(opts.only, c.name)]
    if opts.list:
        for c in chosen:
            print(f"{c.name:58s} parley {' '.join(c.args)}")
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    env = {**os.environ, "PARLEY_DB": str(tmp / "runs.sqlite"), "COLUMNS": "100"}
    # As on a user's machine, where pip compiled parley's bytecode at install (or the first run
    # wrote it): a sandbox's PYTHONDONTWRITEBYTECODE would make every run compile every module
    # again (about 0.1 s). The best of --repeat runs then reads the cached bytecode.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    src = opts.src
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    subprocess.run([sys.executable, "-m", "parley", "import", "ktab", str(KTAB / "SOE-Policy.csv"),
                    "-o", str(tmp / "soe-policy.yaml")], env=env, cwd=ROOT, capture_output=True)
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    print(f"parley commands as processes, best of {opts.repeat}; {os.cpu_count()} cores, "
          f"load average {load:.1f} at the start")
    head = f"{'command':58s} {'wall s':>7s} {'cpu s':>6s}  {'reference':22s} {'bar s':>6s}  result"
    print(head)
    print("-" * len(head))
    failed = 0
    try:
        for case in chosen:
            if case.needs is not None and not case.needs.exists():
                print(f"{case.name:58s} {'—':>7s} {'—':>6s}  {case.reference:22s} {'':>6s}  "
                      f"skipped (no {case.needs})")
                continue
            best, best_cpu, code, note = float("inf"), float("nan"), 0, ""
            for _ in range(max(1, opts.repeat)):
                wall, cpu, code, note = run_once(case, tmp, env, opts.timeout)
                if code != 0:
                    break
                if wall < best:
                    best, best_cpu = wall, cpu
            if code != 0:
                verdict, best = f"ERROR ({code}): {note[:60]}", wall
                failed += 1
            elif case.bar is None:
                verdict = "measured"
            elif best <= case.bar:
                verdict = "PASS"
            else:
                verdict = "FAIL"
                failed += 1
            bar = f"{case.bar:6.2f}" if case.bar is not None else f"{'—':>6s}"
            print(f"{case.name:58s} {best:7.2f} {best_cpu:6.2f}  {case.reference:22s} {bar}  {verdict}",
                  flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{failed} over the bar or failing")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
