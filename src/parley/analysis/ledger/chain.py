"""The ledger file itself: canonical entry bytes, the hash chain, and append-only writing.

Each line is one entry serialised canonically (sorted keys, no spaces, UTF-8). An entry carries
`seq` (1, 2, ...), `prev` (the previous entry's hash; 64 zeros for the first) and `hash` (SHA-256
of the entry's canonical form without `hash` and `signature`). Editing, removing or reordering an
entry therefore breaks either its own hash, the canonical form, the sequence or the next entry's
`prev`. Removing the *last* entry leaves a valid shorter chain: the sidecar `<ledger>.head`
(the count and hash of the last entry, rewritten on every append) is what catches that, so keep
it beside the ledger (and in git with it).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENESIS = "0" * 64
DEFAULT_LEDGER = "forecasts.jsonl"
UNSIGNED_FIELDS = ("hash", "signature")


def canonical(entry: dict[str, Any]) -> str:
    """The one byte form an entry is written in (and checked against)."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 of the entry without its own hash and signature."""
    body = {k: v for k, v in entry.items() if k not in UNSIGNED_FIELDS}
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LedgerProblem:
    """Something wrong with one entry (1-based `seq` as found in the file, or its line)."""

    line: int
    what: str

    def render(self) -> str:
        return f"entry on line {self.line}: {self.what}"


@dataclass(frozen=True)
class RawEntry:
    line: int
    text: str
    data: dict[str, Any] | None  # None when the line is not a JSON object


def read_entries(path: str | Path) -> list[RawEntry]:
    """Every non-empty line of the ledger, parsed where it parses."""
    out = []
    text = Path(path).read_text(encoding="utf-8")
    for i, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            data = None
        out.append(RawEntry(i, line, data if isinstance(data, dict) else None))
    return out


class Ledger:
    """An append-only ledger file and its head sidecar."""

    def __init__(self, path: str | Path = DEFAULT_LEDGER):
        self.path = Path(path)
        self.head_path = self.path.with_name(self.path.name + ".head")

    def entries(self) -> list[dict[str, Any]]:
        """The parsed entries (call `verify` to know whether they can be trusted)."""
        if not self.path.exists():
            return []
        return [e.data for e in read_entries(self.path) if e.data is not None]

    def head(self) -> dict[str, Any] | None:
        if not self.head_path.exists():
            return None
        try:
            data = json.loads(self.head_path.read_text(encoding="utf-8"))
        except ValueError:
            return {"entries": -1, "hash": "unreadable"}
        return data if isinstance(data, dict) else {"entries": -1, "hash": "unreadable"}

    def chained(self, body: dict[str, Any]) -> dict[str, Any]:
        """`body` with the `seq` and `prev` it gets as the next entry (what its hash covers)."""
        previous = self.entries()
        last = previous[-1] if previous else None
        return dict(body, seq=(int(last["seq"]) + 1) if last else 1,
                    prev=str(last["hash"]) if last else GENESIS)

    def append(self, body: dict[str, Any]) -> dict[str, Any]:
        """Chain `body` to the last entry, hash it and append it as one line; returns the entry.

        The file is only ever opened for appending, and each entry is one write of one line."""
        entry = self.chained(body)
        entry["hash"] = entry_hash(entry)
        line = canonical(entry) + "\n"
        if self.path.exists() and self.path.stat().st_size:
            with self.path.open("rb") as fh:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    line = "\n" + line
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        self.head_path.write_text(
            canonical({"entries": entry["seq"], "hash": entry["hash"]}) + "\n", encoding="utf-8"
        )
        return entry


def chain_problems(path: str | Path, head: dict[str, Any] | None) -> list[LedgerProblem]:
    """Everything that shows an entry was edited, removed, reordered or inserted."""
    problems: list[LedgerProblem] = []
    raws = read_entries(path)
    prev_hash = GENESIS
    for index, raw in enumerate(raws, start=1):
        e = raw.data
        if e is None:
            problems.append(LedgerProblem(raw.line, "is not a JSON object (edited or corrupted)"))
            prev_hash = ""
            continue
        seq = e.get("seq")
        stored = e.get("hash")
        if canonical(e) != raw.text:
            problems.append(
                LedgerProblem(
                    raw.line, f"entry {seq}: its bytes differ from the canonical form parley writes (edited)"
                )
            )
        elif stored != entry_hash(e):
            problems.append(
                LedgerProblem(raw.line, f"entry {seq}: its content does not match its hash (edited)")
            )
        if seq != index:
            problems.append(
                LedgerProblem(
                    raw.line,
                    f"entry {seq} stands at position {index} "
                    "(an entry before it was removed, inserted or moved)",
                )
            )
        if prev_hash and e.get("prev") != prev_hash:
            problems.append(
                LedgerProblem(
                    raw.line,
                    f"entry {seq} does not follow the entry before it (removed, reordered or edited)",
                )
            )
        prev_hash = str(stored) if isinstance(stored, str) else ""
    if head is not None:
        last = raws[-1].data if raws and raws[-1].data else {}
        if head.get("entries") != len(raws) or head.get("hash") != last.get("hash"):
            line = raws[-1].line if raws else 0
            problems.append(
                LedgerProblem(
                    line,
                    f"the head file records {head.get('entries')} entries ending "
                    f"in {str(head.get('hash'))[:12]}, the ledger has {len(raws)} "
                    "(entries at the end were removed or added by hand)",
                )
            )
    return problems
