"""A number that may be uncertain: a point value, a triangular or a truncated normal estimate."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

Kind = Literal["fixed", "triangular", "normal"]


TODO = "TODO"
"""Placeholder a draft (`parley draft`) leaves where only the analyst can give the number."""


def _todo(name: str) -> ValueError:
    return ValueError(
        f"{name}is still TODO: give a number (positions and saliences on 0–100, capability > 0), "
        "or {low, mode, high} / {mean, sd} when unsure"
    )


MAX_MAGNITUDE = 1e15
"""Largest absolute value of any number in a scenario. Far beyond any real capability (world
GDP in dollars is about 1e14) or unit scale, and far enough below float's 1.8e308 that sums,
products and squares of such numbers over thousands of actors stay finite."""


def _number(value: Any, name: str) -> float:
    if value == TODO:
        raise _todo(f"`{name}` ")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(
            f"`{name}` must be a number, got {type(value).__name__} {_short(value)}; "
            "write it without quotes, e.g. 50"
        )
    if isinstance(value, int) and abs(value) > MAX_MAGNITUDE:
        digits = int(value.bit_length() * math.log10(2)) + 1
        raise ValueError(f"`{name}` is too large (about {digits:,} digits); write a number "
                         f"between -{MAX_MAGNITUDE:g} and {MAX_MAGNITUDE:g}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(
            f"`{name}` must be a finite number, got {value}; write an ordinary number "
            "(YAML's .nan and .inf are not allowed)"
        )
    if abs(value) > MAX_MAGNITUDE:
        raise ValueError(f"`{name}` is {value:g}, too large; write a number between "
                         f"-{MAX_MAGNITUDE:g} and {MAX_MAGNITUDE:g}")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class Estimate(BaseModel):
    """An analyst's estimate: `50`, `{low: 40, mode: 50, high: 70}` or `{mean: 50, sd: 10}`.

    Written as a bare number it is certain; the two mapping forms say how unsure the
    analyst is. Normal estimates are truncated to the field's valid range when sampled.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Kind
    low: float
    mode: float
    high: float
    sd: float = 0.0

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, data: Any) -> Any:
        if isinstance(data, Estimate):
            return data
        if isinstance(data, dict) and "kind" in data:
            return data  # already normalised (e.g. from model_dump)
        if data == TODO:
            raise _todo("")
        if not isinstance(data, dict):
            x = _number(data, "value")
            return {"kind": "fixed", "low": x, "mode": x, "high": x}
        keys = set(data)
        if keys == {"low", "mode", "high"}:
            lo, mo, hi = (_number(data[k], k) for k in ("low", "mode", "high"))
            if not lo <= mo <= hi:
                raise ValueError(
                    f"needs low <= mode <= high, got low={lo:g}, mode={mo:g}, high={hi:g}; "
                    "reorder the three values"
                )
            kind = "fixed" if lo == hi else "triangular"
            return {"kind": kind, "low": lo, "mode": mo, "high": hi}
        if keys == {"mean", "sd"}:
            mean, sd = _number(data["mean"], "mean"), _number(data["sd"], "sd")
            if sd > MAX_MAGNITUDE / 10:
                raise ValueError(f"`sd` is {sd:g}, too large; give a standard deviation below "
                                 f"{MAX_MAGNITUDE / 10:g}")
            if sd < 0:
                raise ValueError(f"`sd` must be >= 0, got {sd:g}; give a standard deviation of 0 or more")
            kind = "fixed" if sd == 0 else "normal"
            return {"kind": kind, "low": mean, "mode": mean, "high": mean, "sd": sd}
        raise ValueError(
            f"an uncertain value is written as {{low, mode, high}} or {{mean, sd}}, "
            f"got the keys {sorted(keys)}; use one of these two forms or a plain number"
        )

    @property
    def is_uncertain(self) -> bool:
        return self.kind != "fixed"

    @property
    def point(self) -> float:
        """The most likely value (mode or mean)."""
        return self.mode

    def support(self, lower: float, upper: float) -> tuple[float, float]:
        """Smallest and largest value a draw can take inside [lower, upper]."""
        if self.kind == "normal":
            return lower, upper
        return self.low, self.high

    def mapped(self, scale: float, offset: float) -> Estimate:
        """The same estimate under x -> offset + scale * x (scale may be negative)."""
        a, b, m = offset + scale * self.low, offset + scale * self.high, offset + scale * self.mode
        return Estimate.model_validate(
            {"kind": self.kind, "low": min(a, b), "mode": m, "high": max(a, b), "sd": abs(scale) * self.sd}
        )

    def to_yaml(self) -> float | dict[str, float]:
        """The form a person writes in a scenario file."""
        if self.kind == "fixed":
            return _clean(self.mode)
        if self.kind == "triangular":
            return {"low": _clean(self.low), "mode": _clean(self.mode), "high": _clean(self.high)}
        return {"mean": _clean(self.mode), "sd": _clean(self.sd)}

    def describe(self) -> str:
        if self.kind == "fixed":
            return f"{self.mode:g}"
        if self.kind == "triangular":
            return f"{self.mode:g} ({self.low:g}–{self.high:g})"
        return f"{self.mode:g} ± {self.sd:g}"


def _clean(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(x, 6)
