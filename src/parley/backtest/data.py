"""Loading backtest data in parley's tidy format: issues, stances and (optionally) actors.

The format is DEU's, so the bundled development split and anyone's own data (a held-out split,
another legislature) go through the same checks. Every problem is reported with the file and the
line a spreadsheet would show (the header is line 1), so a user can fix the file without guessing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from parley.core.errors import ParleyInputError, Problem

if TYPE_CHECKING:  # pandas is imported where a table is read, not for `parley --help`
    import pandas as pd

ISSUE_COLUMNS = ("isnr", "prnr", "outcome")
STANCE_COLUMNS = ("isnr", "actor", "position", "salience")
ACTOR_COLUMNS = ("actor",)
MAX_PROBLEMS = 20
"""Stop listing problems after this many: the first ones are usually enough to see the pattern."""


@dataclass(frozen=True)
class Issue:
    """One scorable issue: who took which stance, and what was decided."""

    isnr: str
    prnr: str
    actors: tuple[str, ...]
    position: np.ndarray  # [N] on 0–100
    salience: np.ndarray  # [N] on 0–1
    outcome: float
    reference_point: float  # NaN when not coded
    proc: str  # "COD", "CNS" or "" when unknown
    rule: str  # "QMV", "Unan" or "" when unknown
    date: str  # dd-mm-yy of the decision (final act, else introduction); "" when unknown


@dataclass(frozen=True)
class Dataset:
    """Issues ready to score, plus what was left out and why."""

    name: str
    issues: tuple[Issue, ...]
    actors: pd.DataFrame | None  # indexed by actor code; None when no actors file was given
    skipped: dict[str, str] = field(default_factory=dict)  # isnr -> reason
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def outcomes(self) -> np.ndarray:
        return np.array([i.outcome for i in self.issues])

    @property
    def groups(self) -> np.ndarray:
        return np.array([i.prnr for i in self.issues])

    def subset(self, index: np.ndarray) -> Dataset:
        return Dataset(self.name, tuple(self.issues[i] for i in index), self.actors,
                       self.skipped, self.sources)


def deu_directory() -> Path:
    """The DEU development split shipped inside the package."""
    return Path(str(resources.files("parley") / "data" / "deu"))


def load_deu(min_actors: int = 3) -> Dataset:
    d = deu_directory()
    return load_tidy(d / "issues.csv", d / "stances.csv", d / "actors.csv",
                     name="deu-dev", min_actors=min_actors)


def load_tidy(
    issues_path: str | Path,
    stances_path: str | Path,
    actors_path: str | Path | None = None,
    *,
    name: str | None = None,
    min_actors: int = 3,
) -> Dataset:
    """Read and check the three files; raise ParleyInputError naming file and line on bad data.

    Issues without an outcome, or with fewer than `min_actors` coded actors, are not errors (DEU
    has such issues); they are left out and listed in `Dataset.skipped`.
    """
    issues = _read(issues_path, ISSUE_COLUMNS, "one row per issue: isnr,prnr,...,outcome")
    stances = _read(stances_path, STANCE_COLUMNS, "one row per actor and issue: "
                    "isnr,actor,position,salience")
    actors = None
    if actors_path is not None:
        actors = _read(actors_path, ACTOR_COLUMNS, "one row per actor: actor,...")

    problems: list[tuple[str, Problem]] = []
    outcome = _numbers(issues, "outcome", issues_path, problems, blank_ok=True, lo=0, hi=100)
    ref = (_numbers(issues, "reference_point", issues_path, problems, blank_ok=True, lo=0, hi=100)
           if "reference_point" in issues else np.full(len(issues), np.nan))
    position = _numbers(stances, "position", stances_path, problems, lo=0, hi=100)
    salience = _numbers(stances, "salience", stances_path, problems, lo=0, hi=100)
    _required_text(issues, ("isnr", "prnr"), issues_path, problems)
    _required_text(stances, ("isnr", "actor"), stances_path, problems)
    _unique(issues, ["isnr"], issues_path, problems)
    _unique(stances, ["isnr", "actor"], stances_path, problems)

    known_issues = set(issues["isnr"])
    for row, isnr in enumerate(stances["isnr"]):
        if isnr and isnr not in known_issues:
            problems.append((str(stances_path), Problem(
                "isnr", f"issue '{isnr}' is not in {Path(issues_path).name}",
                "add the issue to the issues file or correct the code", row + 2)))
    if actors is not None:
        _required_text(actors, ("actor",), actors_path, problems)
        _unique(actors, ["actor"], actors_path, problems)
        codes = set(actors["actor"])
        for row, code in enumerate(stances["actor"]):
            if code and code not in codes:
                problems.append((str(stances_path), Problem(
                    "actor", f"unknown actor code '{code}'",
                    f"use a code listed in {Path(actors_path).name} or add it there", row + 2)))
    if problems:
        _raise(problems)

    stances = stances.assign(position=position, salience=salience / 100.0)
    by_issue = {k: g for k, g in stances.groupby("isnr", sort=False)}
    kept: list[Issue] = []
    skipped: dict[str, str] = {}
    for r, row in enumerate(issues.itertuples(index=False)):
        g = by_issue.get(row.isnr)
        n = 0 if g is None else len(g)
        if math.isnan(outcome[r]):
            skipped[row.isnr] = "no outcome"
            continue
        if n < min_actors:
            skipped[row.isnr] = f"{n} coded actors (fewer than {min_actors})"
            continue
        kept.append(Issue(
            isnr=row.isnr,
            prnr=row.prnr,
            actors=tuple(g["actor"]),
            position=g["position"].to_numpy(float),
            salience=g["salience"].to_numpy(float),
            outcome=float(outcome[r]),
            reference_point=float(ref[r]),
            proc=str(getattr(row, "proc", "") or "").strip(),
            rule=_rule(str(getattr(row, "counvte", "") or "")),
            date=_date(row),
        ))
    if not kept:
        raise ParleyInputError([Problem(
            "", "no issue has both an outcome and enough coded actors to score",
            f"fill in `outcome` and give each issue at least {min_actors} stances")],
            source=str(issues_path))
    if actors is not None:
        actors = actors.set_index("actor")
    return Dataset(
        name=name or Path(issues_path).stem,
        issues=tuple(kept),
        actors=actors,
        skipped=skipped,
        sources={"issues": str(issues_path), "stances": str(stances_path),
                 **({"actors": str(actors_path)} if actors_path else {})},
    )


def _read(path: str | Path, required: tuple[str, ...], shape: str) -> pd.DataFrame:
    """All cells as stripped text; file-level problems (missing, empty, columns) raised here."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise ParleyInputError([Problem("", "file not found", "check the path")], source=str(p))
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParleyInputError([Problem("", f"cannot read the file ({exc})",
                                        "save it as UTF-8 CSV")], source=str(p)) from None
    if not text.strip():
        raise ParleyInputError([Problem("", "the file is empty", f"write a header row and {shape}",
                                        1)], source=str(p))
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, skipinitialspace=True,
                         encoding="utf-8-sig")
    except (pd.errors.ParserError, ValueError) as exc:
        raise ParleyInputError([Problem("", f"not a valid CSV file ({exc})",
                                        "use comma-separated values with one header row")],
                               source=str(p)) from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ParleyInputError([Problem(
            c, f"missing column '{c}' (columns found: {', '.join(df.columns)})",
            f"add a '{c}' column to the header row", 1) for c in missing], source=str(p))
    if df.empty:
        raise ParleyInputError([Problem("", "the file has a header but no rows",
                                        f"add {shape}", 2)], source=str(p))
    return df.apply(lambda col: col.str.strip())


def _numbers(df: pd.DataFrame, col: str, path: str | Path, problems: list[tuple[str, Problem]],
             *, blank_ok: bool = False, lo: float = -math.inf, hi: float = math.inf) -> np.ndarray:
    values = np.full(len(df), np.nan)
    for row, cell in enumerate(df[col]):
        if cell == "":
            if not blank_ok:
                problems.append((str(path), Problem(col, f"{col} is blank",
                                                    f"give a number from {lo:g} to {hi:g}",
                                                    row + 2)))
            continue
        try:
            v = float(cell)
        except ValueError:
            problems.append((str(path), Problem(col, f"{col} '{cell}' is not a number",
                                                f"give a number from {lo:g} to {hi:g}", row + 2)))
            continue
        if not (lo <= v <= hi):
            problems.append((str(path), Problem(col, f"{col} {cell} is outside {lo:g}–{hi:g}",
                                                f"rescale the issue to {lo:g}–{hi:g}", row + 2)))
            continue
        values[row] = v
    return values


def _required_text(df: pd.DataFrame, cols: tuple[str, ...], path: str | Path,
                   problems: list[tuple[str, Problem]]) -> None:
    for col in cols:
        for row in np.flatnonzero(df[col].to_numpy() == ""):
            problems.append((str(path), Problem(col, f"{col} is blank", f"fill in the {col}",
                                                int(row) + 2)))


def _unique(df: pd.DataFrame, cols: list[str], path: str | Path,
            problems: list[tuple[str, Problem]]) -> None:
    dup = df.duplicated(subset=cols, keep="first").to_numpy()
    for row in np.flatnonzero(dup):
        key = ", ".join(f"{c}={df[c].iloc[row]}" for c in cols)
        problems.append((str(path), Problem(cols[-1], f"duplicate row ({key})",
                                            "keep one row per key", int(row) + 2)))


def _raise(problems: list[tuple[str, Problem]]) -> None:
    raise DataFileError(problems)


class DataFileError(ParleyInputError):
    """Problems found in one or several data files; each line names its own file and row."""

    def __init__(self, items: list[tuple[str, Problem]]):
        self.items = list(items)
        super().__init__([p for _, p in self.items], source=self.items[0][0] if items else None)

    def render(self) -> str:
        lines = [p.render(src) for src, p in self.items[:MAX_PROBLEMS]]
        if len(self.items) > MAX_PROBLEMS:
            lines.append(f"... and {len(self.items) - MAX_PROBLEMS} more problems")
        return "\n".join(lines)


def _rule(text: str) -> str:
    t = text.strip().lower()
    if t.startswith("qmv") or t.startswith("qualified"):
        return "QMV"
    if t.startswith("unan"):
        return "Unan"
    return ""


def _date(row: object) -> str:
    for col in ("final_act", "introduced"):
        value = str(getattr(row, col, "") or "").strip()
        if len(value) == 8 and value[2] == "-" and value[5] == "-":
            return value
    return ""
