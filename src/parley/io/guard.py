"""The one place where a parser's own exceptions become a `ParleyInputError`.

YAML (ruamel), CSV (the csv module), XML (ElementTree), KTAB and Decide readers raise many kinds
of exceptions on hostile or broken files: RecursionError on deep nesting, ValueError on a
4,301-digit integer or on `2025-02-30`, OverflowError on an integer too large for a float,
csv.Error on a huge field or a stray carriage return, LookupError on an unknown XML encoding,
MemoryError on absurd sizes. Every reader runs inside `parsing(source)`, so each of them ends
as an error naming the file, the line (where the parser knows it) and the fix, never as a
traceback.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from parley.core.errors import ParleyInputError, Problem

MAX_ERRORS_SHOWN = 50
"""A broken file of 50,000 repeated lines gets 50 messages and a count, not 50,000 lines."""


@contextmanager
def parsing(source: str, what: str = "file") -> Iterator[None]:
    """Run a parser; turn anything it raises on bad input into an error about `source`."""
    try:
        yield
    except ParleyInputError as exc:
        raise capped(exc) from None
    except RecursionError:
        raise ParleyInputError([Problem(
            "", f"the {what} is nested too deeply to read",
            "flatten it: scenario files need only a few levels of nesting")], source) from None
    except MemoryError:
        raise ParleyInputError([Problem(
            "", f"the {what} needs more memory than parley allows to read",
            "check that this is the right file")], source) from None
    except csv.Error as exc:
        raise ParleyInputError([_csv_problem(exc)], source) from None
    except (LookupError, UnicodeError) as exc:
        raise ParleyInputError([Problem(
            "", f"cannot decode the {what}: {exc}",
            "save it as UTF-8 text (and declare encoding=\"UTF-8\" in an XML header)")],
            source) from None
    except OverflowError as exc:
        raise ParleyInputError([Problem(
            "", f"a number is too large ({exc})",
            "write ordinary numbers (at most 15 digits before the decimal point)")],
            source) from None
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise ParleyInputError([_value_problem(exc, what)], source) from None


def capped(exc: ParleyInputError, limit: int = MAX_ERRORS_SHOWN) -> ParleyInputError:
    """The first `limit` problems and a count of the rest."""
    if len(exc.problems) <= limit:
        return exc
    rest = len(exc.problems) - limit
    more = Problem("", f"... and {rest:,} more problem(s) not shown",
                   "fix the ones above first: later ones often repeat them")
    return ParleyInputError([*exc.problems[:limit], more], exc.source)


def csv_rows(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """(line, row) of a csv.reader; a csv.Error names the line it happened on."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problem = _csv_problem(exc)
            raise ParleyInputError([Problem(problem.path, problem.message, problem.fix,
                                            reader.line_num or None)]) from None
        yield reader.line_num, row


def _csv_problem(exc: csv.Error) -> Problem:
    text = str(exc)
    if "field larger than field limit" in text:
        return Problem("", f"a field is longer than {csv.field_size_limit():,} characters",
                       "check for an unclosed quote: fields are short names and numbers")
    if "new-line character" in text:
        return Problem("", "a carriage return or line break sits inside a field",
                       "save the file with ordinary line endings and close every quote")
    return Problem("", f"not readable as CSV: {text}", "check the delimiters and quotes")


def _value_problem(exc: BaseException, what: str) -> Problem:
    """The last line of defence: readers report their own errors with lines; what reaches here
    was not foreseen, and still becomes a message rather than a traceback."""
    text = str(exc)
    line = None
    if "integer string conversion" in text or "Exceeds the limit" in text:
        return Problem("", "a number has more than 4,300 digits",
                       "write ordinary numbers (at most 15 digits before the decimal point)", line)
    if "out of range for month" in text or "month must be" in text or "day is out of range" in text:
        return Problem("", f"not a valid date ({text})", "write an existing date as YYYY-MM-DD", line)
    if "convert string to float" in text:
        return Problem("", f"a value tagged as a number is not one ({text})",
                       "remove the !!float / !!int tag or write a number", line)
    return Problem("", f"cannot read the {what}: {text}", "check the value on this line", line)
