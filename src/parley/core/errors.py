"""Errors a user can act on: each names where the problem is and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (path, line), what, and the fix."""

    path: str
    message: str
    fix: str = ""
    line: int | None = None

    def render(self, source: str | None = None) -> str:
        where = source or "<scenario>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        head = f"{where}: {self.path}: " if self.path else f"{where}: "
        text = head + self.message.rstrip(".") + "."
        if self.fix:
            text += f" Fix: {self.fix.rstrip('.')}."
        return text


class ParleyInputError(Exception):
    """Bad user input (scenario, data file, lever, option).

    Deliberately *not* a ValueError, so pydantic validators let it through unchanged
    and the CLI can turn it into a message and exit code 2 instead of a traceback.
    """

    def __init__(self, problems: list[Problem], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(p.render(self.source) for p in self.problems)

    def with_source(self, source: str, lines: dict[str, int] | None = None) -> ParleyInputError:
        """Return a copy that names the file and, where known, the line of each problem."""
        lines = lines or {}
        fixed = [
            Problem(p.path, p.message, p.fix, p.line if p.line is not None else _line_for(p.path, lines))
            for p in self.problems
        ]
        return type(self)(fixed, source)


def _line_for(path: str, lines: dict[str, int]) -> int | None:
    """Line of the path, or of its nearest ancestor the parser knows."""
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            break
        path = path[:cut]
    return lines.get(path)


class Cancelled(Exception):
    """Raised to stop a run on request (the web app's Cancel); the runs registry records the run
    as `cancelled`, as it does a run stopped with Ctrl-C, not as `failed`."""


def unknown_ref(path: str, kind: str, value: str, known: list[str]) -> Problem:
    """An id that names nothing defined, with the closest match and the ids that exist."""
    import difflib

    close = difflib.get_close_matches(value, known, n=1) if len(known) <= 200 else []
    hint = f"did you mean '{close[0]}'? " if close else ""
    listed = ", ".join(known[:20]) + (f" (and {len(known) - 20:,} more)" if len(known) > 20 else "")
    return Problem(
        path,
        f"unknown {kind} '{value}'",
        f"{hint}use one of the {kind} ids defined above: {listed}",
    )
