"""Extension points the core types offer to the layers above them.

The core may not import presentation, yet a Scenario or a Forecast shown in Jupyter should render
as tables, and `Forecast.to_dict()` should carry the plain-language answer. So the types ask this
module: presentation registers its formatters here (`parley.present.attach`), and the package
root installs a loader that imports presentation on first use. Nothing here imports upward.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

_html: dict[str, Callable[[Any], str]] = {}
_extras: dict[str, list[Callable[[Any], dict[str, Any]]]] = {}
_loader: Callable[[], Any] | None = None
_loaded = False


def set_loader(load: Callable[[], Any]) -> None:
    """Install what registers the formatters (called by the package root)."""
    global _loader
    _loader = load


def _ensure() -> None:
    global _loaded
    if not _loaded and _loader is not None:
        _loaded = True
        _loader()


def register_html(kind: str, render: Callable[[Any], str]) -> None:
    _html[kind] = render


def register_extra(kind: str, extra: Callable[[Any], dict[str, Any]]) -> None:
    """`extra(obj)` returns keys to add to `obj.to_dict()` (e.g. the answer of a forecast)."""
    _extras.setdefault(kind, []).append(extra)


def html(kind: str, obj: Any) -> str:
    """The registered HTML of `obj`, or its repr escaped when nothing is registered."""
    _ensure()
    render = _html.get(kind)
    return render(obj) if render is not None else f"<pre>{escape(repr(obj))}</pre>"


def extras(kind: str, obj: Any) -> dict[str, Any]:
    _ensure()
    out: dict[str, Any] = {}
    for extra in _extras.get(kind, []):
        out.update(extra(obj))
    return out


_computed: dict[str, Callable[..., Any]] = {}


def register_compute(name: str, fn: Callable[..., Any]) -> None:
    """A result a core or analysis type offers but an upper module computes (e.g. a forecast's
    counterfactual lead, computed by the lever comparison that builds on forecasts)."""
    _computed[name] = fn


def compute(name: str, *args: Any, **kwargs: Any) -> Any:
    _ensure()
    return _computed[name](*args, **kwargs)
