"""Start-up: `parley --help` and `parley run` import only what they use (no pandas, scipy,
matplotlib, SALib)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parent.parent / "src")
HEAVY = ("pandas", "scipy", "matplotlib", "SALib", "numba", "fastapi", "jinja2")

PROBE = """
import sys
sys.argv = ["parley"] + sys.argv[1:]
from parley.cli import main
try:
    main()
except SystemExit:
    pass
print("LOADED", " ".join(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)
"""


def _loaded(*args: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args], env=env,
                         capture_output=True, text=True, timeout=120)
    line = next(x for x in out.stderr.splitlines() if x.startswith("LOADED"))
    return set(line.split()[1:])


def test_help_imports_no_heavy_library() -> None:
    assert _loaded("--help") == set()


def test_run_on_a_ktab_file_imports_no_heavy_library(tmp_path: Path) -> None:
    """A one-run pce forecast (no uncertain inputs) needs no compiled engine, no scipy and no
    pandas (the answer, tables and JSON read the forecast's plain rows)."""
    ktab = Path(__file__).parent / "data" / "ktab" / "dummyData_3Dim.csv"
    os.environ.setdefault("PARLEY_DB", str(tmp_path / "runs.sqlite"))
    assert _loaded("run", str(ktab), "-m", "pce") == set()


def test_default_run_imports_no_heavy_library(tmp_path: Path) -> None:
    """`parley run` on the bundled scenario (three models, the counterfactual lead, the zone
    check, the answer) and its JSON never import pandas, scipy or matplotlib."""
    os.environ.setdefault("PARLEY_DB", str(tmp_path / "runs.sqlite"))
    assert _loaded("run", "--draws", "2000") == set()
    assert _loaded("run", "--draws", "2000", "--json") == set()


def _help(*code: str) -> str:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "COLUMNS": "200", "TERM": "dumb"}
    script = "import sys\nsys.argv = ['parley', '--help']\n" + "\n".join(code)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                         timeout=120)
    return out.stdout


def test_the_quick_list_of_commands_is_the_one_the_commands_print() -> None:
    """`parley --help` lists the commands from `parley.cli.LISTING` without importing them; the
    listing must read exactly as the loaded commands' own help (names, order, texts)."""
    quick = _help("from parley.cli import main", "try:\n    main()\nexcept SystemExit:\n    pass")
    full = _help("from parley.cli import app", "try:\n    app()\nexcept SystemExit:\n    pass")
    assert "run" in quick and "ledger" in quick
    assert quick == full
