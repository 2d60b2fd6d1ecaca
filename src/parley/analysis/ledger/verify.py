"""`parley ledger verify`: is the ledger intact, and do its forecasts still come out the same?"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.analysis.ledger.chain import Ledger, LedgerProblem, chain_problems, read_entries


@dataclass
class Verification:
    """Tampering (edited, removed, reordered entries, bad signatures) fails; a forecast that no
    longer reproduces under another parley version is reported, not failed."""

    entries: int
    tampering: list[LedgerProblem] = field(default_factory=list)
    not_reproduced: list[dict[str, Any]] = field(default_factory=list)
    reproduced: list[int] = field(default_factory=list)
    skipped_reruns: bool = False

    @property
    def ok(self) -> bool:
        """False on tampering, or on a forecast that does not reproduce under the same version
        (which no honest history produces)."""
        return not self.tampering and not any(r["same_version"] for r in self.not_reproduced)

    def to_dict(self) -> dict[str, Any]:
        return {
            "entries": self.entries,
            "ok": self.ok,
            "tampering": [{"line": p.line, "problem": p.what} for p in self.tampering],
            "not_reproduced": self.not_reproduced,
            "reproduced": self.reproduced,
            "reruns_skipped": self.skipped_reruns,
        }


def verify(path: str | Path = "forecasts.jsonl", rerun: bool = True) -> Verification:
    """Check the hash chain, the head file and any signatures; re-run every sealed forecast."""
    from parley.analysis.ledger import signing
    from parley.analysis.ledger.rerun import differences
    from parley.analysis.ledger.rerun import rerun as run_again
    from parley.core.version import VERSION as __version__

    book = Ledger(path)
    raws = read_entries(book.path)
    result = Verification(len(raws), chain_problems(book.path, book.head()), skipped_reruns=not rerun)
    for raw in raws:
        e = raw.data
        if e is None:
            continue
        if "signature" in e and (why := signing.check(e)):
            result.tampering.append(LedgerProblem(raw.line, f"entry {e.get('seq')}: {why}"))
        if e.get("kind") == "resolution":
            target = next(
                (x.data for x in raws if x.data and x.data.get("seq") == e.get("resolves_entry")), None
            )
            if target is None or target.get("hash") != e.get("resolves_hash"):
                result.tampering.append(
                    LedgerProblem(
                        raw.line,
                        f"entry {e.get('seq')} resolves entry "
                        f"{e.get('resolves_entry')}, which is missing "
                        "or was changed",
                    )
                )
    if not rerun or result.tampering:
        return result
    for raw in raws:
        e = raw.data
        if not e or e.get("kind") != "forecast":
            continue
        try:
            diffs = differences(e["forecast"], run_again(e))
        except Exception as exc:  # a scenario an older parley read may be refused now
            diffs = [f"could not re-run: {type(exc).__name__}: {exc}"]
        if diffs:
            made_with = e["run"].get("parley_version")
            result.not_reproduced.append(
                {
                    "seq": e["seq"],
                    "line": raw.line,
                    "sealed_with": made_with,
                    "same_version": made_with == __version__,
                    "differences": diffs[:10],
                }
            )
        else:
            result.reproduced.append(int(e["seq"]))
    return result
