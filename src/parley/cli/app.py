"""The typer application every command module attaches to, and the shared error handling."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from parley.core.errors import ParleyInputError, Problem
from parley.core.jsonable import finite

app = typer.Typer(
    name="parley",
    help="Forecast how multi-actor negotiations end, and whether they end in a settlement.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Forecast how multi-actor negotiations end, and whether they end in a settlement."""
    # A callback keeps `parley` a group of commands even when only one command module is loaded
    # (typer runs a lone command without its name otherwise).


def _no_type_on_flags() -> None:
    """typer's help prints a type after every option, so on/off flags read `--json <bool>`, as
    if they took a value. Show the type only for options that take one."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else shown(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_no_type_on_flags()

# Markup off: scenario texts (titles, names, anchors, paths) are printed as they are, so a `[/]`
# or `[bold]` a user wrote can neither crash the output nor restyle it. Styled lines are built
# with `styled()`, which escapes every user text it is given.
console = Console(emoji=False, markup=False)
err_console = Console(stderr=True, emoji=False, markup=False)


def styled(template: str, *user: Any) -> Text:
    """Rich text from `template` (rich markup written by parley) with each `{}` filled by a
    user text, escaped so it prints literally."""
    return Text.from_markup(template.format(*(escape(str(u)) for u in user)), emoji=False)

F = TypeVar("F", bound=Callable[..., Any])

EXIT_BAD_INPUT = 2


def handles_input_errors(fn: F) -> F:
    """Turn bad input into a message on stderr and exit code 2, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ParleyInputError as exc:
            err_console.print(styled("[bold red]error:[/] {}", exc.render()), highlight=False,
                              soft_wrap=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except KeyboardInterrupt:
            err_console.print("interrupted")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def parse_value(text: str) -> Any:
    """An option value as the user meant it: true/false, an int, a float, else the text."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text.strip()


def parse_key_values(items: list[str], example: str) -> dict[str, Any]:
    """`key=value` options -> {key: value} with numbers and booleans parsed."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            fix = f"e.g. --param {example}"
            raise ParleyInputError([Problem("--param", f"'{item}' is not key=value", fix)])
        key, text = item.split("=", 1)
        out[key.strip()] = parse_value(text)
    return out


def refuse_overwrite(path: str | Path | None, force: bool, option: str) -> None:
    """Never replace a file the user has without being asked to (`--force`), and never
    anything but a regular file (see `parley.io.output`)."""
    from parley.io.output import check_target

    check_target(path, force, option)


def print_json(data: Any) -> None:
    """JSON to stdout, NaN/inf written as null so every JSON reader accepts it."""
    sys.stdout.write(json.dumps(finite(data), indent=2, ensure_ascii=False) + "\n")

