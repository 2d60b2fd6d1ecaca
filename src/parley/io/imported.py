"""Build the Scenario of an imported file (KTAB, Decide) through the format's own rules.

Importers fill in what their file format knows; everything else an imported scenario has in
common lives here: no disclaimer or sources of its own, no settlement test (these formats have
no veto players or reservations), and errors reported against the imported file.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import ValidationError

from parley.core.errors import ParleyInputError, Problem
from parley.core.scenario import MAX_ACTORS, MAX_ISSUES, MAX_STANCES, Scenario

UNDATED = dt.date(2000, 1, 1)
"""`as_of` of an imported file that names no date. A fixed placeholder, stated in the scenario's
description, rather than the file's modification time, which differs between checkouts and
would change the scenario's hash (and so its provenance) with no change to its content."""

_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")


def date_in(*texts: str) -> dt.date | None:
    """The first valid YYYY-MM-DD date written in `texts` (a title or a description), if any."""
    for text in texts:
        for match in _ISO_DATE.finditer(text or ""):
            try:
                return dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                continue
    return None


def as_of_note(as_of: dt.date | None) -> tuple[dt.date, str]:
    """The date to use and the sentence that says where it comes from."""
    if as_of is not None:
        return as_of, f"as_of {as_of.isoformat()} is the date written in the file."
    return UNDATED, (f"The file gives no date: as_of {UNDATED.isoformat()} is a placeholder; set "
                     "the date the positions describe (`parley import ... --as-of YYYY-MM-DD`).")


_AS_OF_SENTENCE = re.compile(
    r"(?:The file gives no date: )?as_of \d{4}-\d{2}-\d{2} [^`]*?(?:`[^`]*`[^`]*?)*\.(?:\)|$)?")
"""The sentence `as_of_note` writes (backquoted commands may hold dots)."""


def as_of_sentence(description: str) -> str:
    """The sentence of an imported scenario's description that says where `as_of` comes from."""
    found = _AS_OF_SENTENCE.search(description)
    return found.group(0).strip() if found else ""


def restate_as_of(description: str, as_of: dt.date) -> str:
    """The description with its `as_of` sentence saying the date was given with --as-of."""
    stated = f"as_of {as_of.isoformat()} was given with `--as-of`."
    old = as_of_sentence(description)
    return description.replace(old, stated) if old else f"{description} {stated}".strip()


def check_size(actors: int, issues: int, source: str) -> None:
    """Refuse a file over the scenario limits before building thousands of objects from it."""
    problems = []
    if actors > MAX_ACTORS:
        problems.append(Problem("", f"the file has {actors:,} actors; parley handles at most "
                                f"{MAX_ACTORS:,}", "keep the actors that matter, or merge small ones "
                                "(the models' memory grows with the square of the actor count)"))
    if issues > MAX_ISSUES:
        problems.append(Problem("", f"the file has {issues:,} issues; parley handles at most "
                                f"{MAX_ISSUES:,}", "split the negotiation into smaller files"))
    if not problems and actors * issues > MAX_STANCES:
        problems.append(Problem("", f"{actors:,} actors on {issues:,} issues make "
                                f"{actors * issues:,} stances; parley handles at most "
                                f"{MAX_STANCES:,}", "split the negotiation into smaller files"))
    if problems:
        raise ParleyInputError(problems, source)


def imported_scenario(source: str, **fields: Any) -> Scenario:
    """The Scenario for `fields`, validated like a YAML file; problems name `source`."""
    try:
        return Scenario(disclaimer="", sources={}, settlement_test=False, **fields)
    except ParleyInputError as exc:  # every cross-field rule of the format
        raise exc.with_source(source) from None
    except ValidationError as exc:  # e.g. a title longer than the format allows
        raise pydantic_error(exc, source) from None


def pydantic_error(exc: ValidationError, source: str) -> ParleyInputError:
    """A pydantic error in an imported file's values, as a readable message (never the raw dump)."""
    from parley.io.scenario_file import FIELDS
    from parley.io.yaml_io import validation_problems

    return ParleyInputError(validation_problems(exc, FIELDS), source)
