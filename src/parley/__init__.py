"""parley: forecast how multi-actor negotiations end, and whether they end in a settlement.

import parley
s = parley.load("ukraine-2025-05")          # a bundled scenario, or a path to a YAML file
f = parley.forecast(s, model="nash", draws=10_000, seed=1)
f.outcomes(); f.settlement(); f.actors(); f.blockers()   # pandas DataFrames
a = parley.advise(s, "Ukraine")             # its best moves, whom to persuade, what to trade
"""

from typing import Any

from parley.errors import ParleyInputError, Problem
from parley.forecast import Forecast, forecast
from parley.loading import load
from parley.scenario import Scenario
from parley.version import VERSION as __version__

__all__ = ["Forecast", "ParleyInputError", "Problem", "Scenario", "__version__", "advise", "forecast",
           "load"]


def __getattr__(name: str) -> Any:
    """`parley.advise` is imported on first use, so `import parley` stays light."""
    if name == "advise":
        from parley.advice import advise

        return advise
    raise AttributeError(f"module 'parley' has no attribute {name!r}")
