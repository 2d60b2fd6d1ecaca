"""parley: forecast how multi-actor negotiations end, and whether they end in a settlement.

import parley
s = parley.load("ukraine-2025-05")          # a bundled scenario, or a path to a YAML file
f = parley.forecast(s, model="nash", draws=10_000, seed=1)
f.outcomes(); f.settlement(); f.actors(); f.blockers()   # pandas DataFrames
a = parley.advise(s, "Ukraine")             # its best moves, whom to persuade, what to trade
c = parley.compare.compare(s, variants, ["compromise"])   # baseline against levers

This package is the top of the layers (docs/architecture.md): the names below are imported on
first use (module __getattr__), so `import parley.cli` for `parley --help` does not pay for
numpy, pydantic and the models; and it is where presentation is attached to the core types
(Jupyter display, the answer in `Forecast.to_dict`), so that no lower layer imports it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from parley.core import hooks

if TYPE_CHECKING:
    from parley.analysis import compare
    from parley.analysis.advice import advise
    from parley.analysis.forecast import Forecast, forecast
    from parley.core.errors import ParleyInputError, Problem
    from parley.core.scenario import Scenario
    from parley.io.loading import load

_LAZY = {
    "Forecast": ("parley.analysis.forecast", "Forecast"),
    "forecast": ("parley.analysis.forecast", "forecast"),
    "load": ("parley.io.loading", "load"),
    "Scenario": ("parley.core.scenario", "Scenario"),
    "ParleyInputError": ("parley.core.errors", "ParleyInputError"),
    "Problem": ("parley.core.errors", "Problem"),
    "advise": ("parley.analysis.advice", "advise"),
    "compare": ("parley.analysis.compare", None),  # the module, as `parley.compare.compare`
}

__all__ = ["Forecast", "ParleyInputError", "Problem", "Scenario", "__version__", "advise", "compare",
           "forecast", "load"]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from parley.core.version import VERSION

        return VERSION
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = importlib.import_module(module)
        value = getattr(value, attr) if attr else value
        globals()[name] = value
        return value
    raise AttributeError(f"module 'parley' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _attach_presentation() -> None:
    """Rich display and the answer come from the presentation layer, loaded when first asked for."""
    hooks.set_loader(lambda: importlib.import_module("parley.present.attach"))


_attach_presentation()
