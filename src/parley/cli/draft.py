"""`parley draft`: news text in, a draft scenario (actors, issues, quoted stances, TODO numbers) out."""

from __future__ import annotations

from pathlib import Path

import typer

from parley.cli.app import app, err_console, handles_input_errors, print_json
from parley.draft import draft_files, headline
from parley.draft.lexicon import load_lexicon
from parley.draft.merge import load_existing, merge
from parley.draft.render import dump, to_data, to_json
from parley.io.output import check_target, write_output


@app.command("draft")
@handles_input_errors
def draft_command(
    articles: list[Path] = typer.Argument(..., help="Article files: plain text or HTML."),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Write the draft here (default: stdout; with --merge: that file)."
    ),
    merge_into: Path | None = typer.Option(
        None, "--merge", help="Add the evidence to this scenario file; nothing in it is overwritten."
    ),
    aliases: list[Path] = typer.Option(
        [], "--aliases", help="Extra alias table(s) (YAML, same format as the shipped one)."
    ),
    topics: list[Path] = typer.Option([], "--topics", help="Extra topic lexicon(s) (YAML)."),
    rules: bool = typer.Option(
        False, "--rules", help="Use the rule-based reader (no spaCy needed; less precise on long sentences)."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing --output file."),
    as_json: bool = typer.Option(False, "--json", help="Print everything found as JSON."),
) -> None:
    """Draft a scenario from news articles, offline (numbers stay TODO for you to fill in).

    Actors, candidate issues and quoted stance evidence; every number stays TODO for you to
    fill in (see docs/draft.md)."""
    lexicon = load_lexicon(aliases, topics)
    existing = load_existing(merge_into) if merge_into is not None else None
    target = output if output is not None else merge_into
    if output is not None and output != merge_into:
        check_target(output, force, "--output")
    taken = list(existing.get("sources", {}) or {}) if existing is not None else []
    draft = draft_files(articles, "rules" if rules else "auto", aliases, topics, taken)
    report = None
    if existing is not None:
        report = merge(existing, draft, lexicon)
        data = existing
    else:
        data = to_data(draft, headline(articles[0]))
    text = dump(data)
    if target is not None:
        _write(target, text)
    elif not as_json:
        typer.echo(text, nl=False)
    summary = (
        f"{len(draft.actors)} actors, {len(draft.issues)} issues, {len(draft.stances)} stances from "
        f"{len(articles)} article(s) ({draft.engine} reader)"
    )
    if as_json:
        out = to_json(draft)
        out["output"] = str(target) if target is not None else None
        if report is not None:
            out["merge"] = report.as_dict()
        print_json(out)
        return
    if report is not None:
        err_console.print(
            f"merged into {target}: {summary}; added {len(report.actors)} actors, {len(report.issues)} "
            f"issues, {len(report.stances)} stances, {report.evidence} evidence lines to existing stances",
            highlight=False,
        )
    elif target is not None:
        err_console.print(
            f"wrote {target}: {summary}; numbers are TODO (`parley validate` lists them)",
            highlight=False,
        )


def _write(path: Path, text: str) -> None:
    """Write through the shared safe writer (atomic, regular files only, usual file mode). The
    target was checked before drafting: a new or `--force`d --output, or the --merge file."""
    write_output(path, text, force=True)
