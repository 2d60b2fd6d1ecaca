"""Interval half-widths for any model, calibrated on the bundled DEU development split.

For callers outside the backtest (a forecast command, a report) that want to show a model's point
forecast with the 50% / 80% interval its DEU track record supports. The half-widths are conformal
quantiles of the model's out-of-sample absolute errors on DEU (out of fold for fitted models).
They transfer to a new negotiation only as far as DEU's issues resemble it: say so when showing
them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from parley.backtest.capability import CapabilitySpec
from parley.backtest.cv import DEFAULT_FOLDS, grouped_folds
from parley.backtest.data import load_deu
from parley.backtest.intervals import LEVELS, conformal_quantile
from parley.backtest.leaderboard import forecasts
from parley.core.errors import ParleyInputError, Problem


@lru_cache(maxsize=32)
def interval_halfwidths(model: str, convention: str = "votes",
                        levels: tuple[float, ...] = LEVELS) -> dict[float, float]:
    """{level: half-width} of the model's conformal intervals on DEU (0–100 points)."""
    dev = load_deu()
    folds = grouped_folds(dev.groups, DEFAULT_FOLDS, 0)
    run = forecasts(dev, CapabilitySpec(convention), [model], folds=folds)[model]  # type: ignore[arg-type]
    if not run.ok:
        raise ParleyInputError([Problem("model", f"model '{model}' could not be backtested on "
                                        f"DEU: {run.error}", "choose another model")])
    err = np.abs(run.forecast - dev.outcomes)
    return {level: conformal_quantile(err, level) for level in levels}
