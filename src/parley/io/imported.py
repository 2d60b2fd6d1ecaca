"""Build the Scenario of an imported file (KTAB, Decide) through the format's own rules.

Importers fill in what their file format knows; everything else an imported scenario has in
common lives here: no disclaimer or sources of its own, no settlement test (these formats have
no veto players or reservations), and errors reported against the imported file.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from parley.errors import ParleyInputError
from parley.scenario import Scenario


def imported_scenario(source: str, **fields: Any) -> Scenario:
    """The Scenario for `fields`, validated like a YAML file; problems name `source`."""
    try:
        return Scenario(disclaimer="", sources={}, settlement_test=False, **fields)
    except ParleyInputError as exc:  # every cross-field rule of the format
        raise exc.with_source(source) from None
    except ValidationError as exc:  # e.g. a title longer than the format allows
        from parley.io.scenario_file import FIELDS
        from parley.io.yaml_io import validation_problems

        raise ParleyInputError(validation_problems(exc, FIELDS), source) from None
