"""The forecast ledger: an append-only, hash-chained JSON Lines record of sealed forecasts and
their resolutions, which can be verified, re-run and graded (docs/ledger.md)."""

from parley.analysis.ledger.chain import Ledger, LedgerProblem, read_entries
from parley.analysis.ledger.grade import Grades, grade
from parley.analysis.ledger.seal import resolve, seal
from parley.analysis.ledger.verify import Verification, verify

__all__ = [
    "Grades",
    "Ledger",
    "LedgerProblem",
    "Verification",
    "grade",
    "read_entries",
    "resolve",
    "seal",
    "verify",
]
