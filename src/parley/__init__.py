"""parley: forecast how multi-actor negotiations end, and whether they end in a settlement.

import parley
s = parley.load("ukraine-2025-05")          # a bundled scenario, or a path to a YAML file
f = parley.forecast(s, model="nash", draws=10_000, seed=1)
f.outcomes(); f.settlement(); f.actors(); f.blockers()   # pandas DataFrames
a = parley.advise(s, "Ukraine")             # its best moves, whom to persuade, what to trade

The names below are imported on first use (module __getattr__), so `import parley.cli` for
`parley --help` does not pay for numpy, pydantic and the models.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from parley.advice import advise
    from parley.errors import ParleyInputError, Problem
    from parley.forecast import Forecast, forecast
    from parley.loading import load
    from parley.scenario import Scenario

_LAZY = {
    "Forecast": "parley.forecast",
    "load": "parley.loading",
    "Scenario": "parley.scenario",
    "ParleyInputError": "parley.errors",
    "Problem": "parley.errors",
    "advise": "parley.advice",
}

__all__ = ["Forecast", "ParleyInputError", "Problem", "Scenario", "__version__", "advise", "forecast",
           "load"]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from parley.version import VERSION

        return VERSION
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'parley' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """`parley.forecast` is the function, as before the names became lazy, although a
    submodule has the same name: importing the submodule sets the package attribute to the
    module, which this property ignores (the module stays in sys.modules["parley.forecast"])."""

    @property
    def forecast(self) -> Any:
        from parley.forecast import forecast

        return forecast

    @forecast.setter
    def forecast(self, value: Any) -> None:
        pass


sys.modules[__name__].__class__ = _Package
