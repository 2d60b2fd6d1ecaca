"""The FastAPI application behind `parley ui`: pick or upload a scenario, edit it, run, read.

Pages are rendered on the server with Jinja2 (autoescaped: names from user files are shown,
never executed); htmx, vendored under static/, swaps fragments for cell edits, progress and
results. The app is meant for one analyst on their own machine: it binds to 127.0.0.1 unless
told otherwise, refuses requests whose Host or Origin is not its own (so a web page in another
tab cannot drive it), and caps request bodies before they are parsed.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley.core.errors import ParleyInputError, Problem
from parley.core.version import VERSION
from parley.io import bundled
from parley.models import registry
from parley.store import runs
from parley.web import advise_page, views
from parley.web import drafts as dr
from parley.web import lever_edit as le
from parley.web.jobs import Job, Jobs, new_id, trajectories

MAX_UPLOAD_BYTES = 1_000_000
"""Scenario files are hand-written and small. Keeping uploads under Starlette's 1 MiB spool
size also means an upload is held in memory, never spooled to a temporary file outside the
app's data directory."""
MAX_BODY_BYTES = MAX_UPLOAD_BYTES + 32_768
MAX_DRAWS = 1_000_000
WAIT_FOR_SHORT_RUNS_S = 1.5
LOCAL_HOSTS = ["127.0.0.1", "localhost", "::1", "[::1]", "testserver"]
FORMAT_SUFFIX = {"yaml": ".yaml", "ktab": ".csv", "decide": ".csv"}
KNOWN_SUFFIXES = (".yaml", ".yml", ".csv", ".xml", ".txt")


def _kept_suffix(filename: str) -> str:
    """The uploaded file's own suffix when it is one format detection reads, else .txt."""
    suffix = Path(filename).suffix.lower()
    return suffix if suffix in KNOWN_SUFFIXES else ".txt"

PKG = resources.files("parley.web")


class BodyLimit:
    """Refuse request bodies over a limit, counting the bytes as they arrive (a missing or
    false Content-Length does not get past it)."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await _too_large(scope, receive, send, self.limit)
            return
        seen = 0
        exceeded = False

        async def limited() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded(message: Message) -> None:
            if not exceeded:  # the framework turns the parse error into a 400: replace it
                await send(message)

        with contextlib.suppress(_BodyTooLarge):
            await self.app(scope, limited, guarded)
        if exceeded:
            await _too_large(scope, receive, send, self.limit)


class _BodyTooLarge(Exception):
    pass


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    text = (f"Request too large: uploads are limited to {MAX_UPLOAD_BYTES / 1e6:.1f} MB "
            "(scenario files are hand-written and much smaller).")
    accept = dict(scope.get("headers") or []).get(b"accept", b"").decode("latin-1")
    if "text/html" in accept:  # a browser: a page with a way back, not a bare line of text
        body = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>File too large · '
                'parley</title><link rel="stylesheet" href="/static/app.css"></head><body><main>'
                f'<h1>File too large</h1><p class="problems" id="too-large">{text}</p>'
                '<p><a href="/" id="back-to-start">Back to the start page</a> to choose another '
                'file.</p></main></body></html>')
        resp: Response = HTMLResponse(body, status_code=413)
    else:
        resp = PlainTextResponse(text, status_code=413)
    await resp(scope, receive, send)


class SameOrigin:
    """Refuse state-changing requests sent from another site's page (cross-site request forgery
    against a server on localhost): when the browser names an Origin, it must be this server."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            headers = dict(scope.get("headers") or [])
            origin = headers.get(b"origin")
            host = headers.get(b"host", b"").decode("latin-1")
            if origin is not None:
                # `Origin: null` comes from sandboxed iframes, data: URLs and file: pages, any of
                # which another site can make a browser open: refuse it like a foreign origin.
                netloc = "" if origin == b"null" else urlsplit(origin.decode("latin-1")).netloc
                if not netloc or netloc != host:
                    resp = PlainTextResponse("Cross-site request refused.", status_code=403)
                    await resp(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def create_app(
    data_dir: str | Path | None = None,
    db: str | Path | None = None,
    allow_remote: bool = False,
    workers: int = 2,
    wait_for_short_runs: float = WAIT_FOR_SHORT_RUNS_S,
) -> FastAPI:
    """The web app. `data_dir` holds drafts and uploads (default: the user data directory's
    `web/`); `db` is the runs registry (default: as for the CLI; None with PARLEY_DB=off)."""
    root = Path(data_dir) if data_dir is not None else runs.user_data_dir() / "web"
    root.mkdir(parents=True, exist_ok=True)
    db_path = Path(db) if db is not None else runs.default_path()
    store = dr.DraftStore(root)
    jobs = Jobs(db_path, workers=workers)
    upload_dir = root / "uploads"
    upload_dir.mkdir(exist_ok=True)

    app = FastAPI(title="parley", version=VERSION, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.data_dir = root
    app.state.db = db_path
    app.state.store = store
    app.state.jobs = jobs
    app.add_middleware(SameOrigin)
    if not allow_remote:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=LOCAL_HOSTS)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.mount("/static", StaticFiles(directory=str(PKG / "static")), name="static")
    templates = Jinja2Templates(directory=str(PKG / "templates"))
    templates.env.globals.update(
        version=VERSION, pct=views.pct, num=views.num, estimate_text=dr.estimate_text,
        tojson=json.dumps, cell_slug=cell_slug,
    )
    upload_lock = threading.Lock()
    edit_lock = threading.Lock()
    # Work done once before the server listens, so the first page is as quick as the rest.
    bundled_list()
    for name in ("index.html", "editor.html", "_results.html", "runs.html"):
        templates.env.get_template(name)

    def registry_or_none() -> runs.Registry | None:
        return runs.registry_for(db_path) if db_path is not None else None

    def page(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, ctx, status_code=status)

    def is_htmx(request: Request) -> bool:
        return request.headers.get("hx-request") == "true"

    def draft_or_404(draft_id: str) -> dr.Draft:
        try:
            return store.get(draft_id)
        except (KeyError, ValueError, OSError):
            raise HTTPException(404, "No such scenario draft: open one from the start page.") from None

    def recent_runs(limit: int = 15) -> tuple[list[runs.Run], str | None]:
        reg = registry_or_none()
        if reg is None:
            return [], "Run recording is turned off (PARLEY_DB=off)."
        try:
            return reg.list(limit=limit), None
        except (ParleyInputError, OSError) as exc:
            return [], f"The runs registry cannot be read: {exc}"

    def index_page(request: Request, status: int = 200, problems: list[Problem] | None = None,
                   source: str | None = None) -> HTMLResponse:
        scenarios = bundled_list()
        past, runs_error = recent_runs()
        from parley.io.loading import formats

        return page(
            request, "index.html", status, scenarios=scenarios, formats=formats(), runs=past,
            runs_error=runs_error, problems=problems or [], source=source, drafts=store.recent(),
            max_upload=MAX_UPLOAD_BYTES,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """Errors as a page for browsers, as JSON for scripts and htmx fragments as text."""
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        if is_htmx(request):
            return HTMLResponse(f'<div class="problems">{_escape(detail)}</div>', exc.status_code)
        if "text/html" in request.headers.get("accept", ""):
            return page(request, "error.html", exc.status_code, code=exc.status_code, detail=detail)
        return JSONResponse({"detail": detail}, exc.status_code, headers=getattr(exc, "headers", None))

    # --- pages ---------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        return index_page(request)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": VERSION}

    @app.post("/open")
    def open_bundled(name: str = Form(...)) -> Response:
        path = bundled.path(name) if name in bundled.names() else None
        if path is None:
            raise HTTPException(404, "No bundled scenario of that name.")
        from parley.io.yaml_io import parse_yaml

        text = path.read_text(encoding="utf-8")  # kept with the draft: downloads keep its comments
        d = store.create(name, "yaml", parse_yaml(text, name)[0], original=text)
        return RedirectResponse(f"/d/{d.id}", status_code=303)

    @app.post("/upload")
    async def upload(request: Request, file: UploadFile = File(...), format: str = Form("auto")) -> Response:
        from parley.io.loading import detect_format, formats, load
        from parley.io.yaml_io import parse_yaml, read_text

        display = (file.filename or "upload")[:200]
        if format not in ("auto", *formats()):
            return index_page(request, 422, [Problem("format", f"unknown format '{format}'",
                                                     f"choose one of: auto, {', '.join(formats())}")],
                              display)
        raw = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(raw) > MAX_UPLOAD_BYTES:
            return index_page(request, 413, [Problem("", f"the file is over {MAX_UPLOAD_BYTES / 1e6:.1f} MB",
                                                     "scenario files are hand-written; check the file")],
                              display)
        stem = dr.safe_stem(display)
        folder = upload_dir / new_id()

        def parse(format: str) -> dr.Draft:
            """Store and parse the upload: in a worker thread, because parsing a large file
            takes seconds and the event loop must keep serving every other request."""
            with upload_lock:
                folder.mkdir(parents=True)
                target = folder / (stem + FORMAT_SUFFIX.get(format, _kept_suffix(display)))
                target.write_bytes(raw)
            if format == "auto":  # by content (Decide rows) and the file's suffix (.csv, .xml: KTAB)
                format = detect_format(target)
            try:
                if format == "yaml":
                    text = read_text(target)
                    data, _lines = parse_yaml(text, display)
                    if not isinstance(data, dict):
                        top = Problem("", "the top level must be a mapping (title:, actors:, ...)",
                                      "see docs/scenario-format.md")
                        raise ParleyInputError([top], display)
                    return store.create(display, "yaml", data, original=text)
                s = load(target, format=format)
                return store.create(display, format, s.to_yaml_data())
            except ParleyInputError as exc:  # name the upload, not the server's copy of it
                problems = [Problem(p.path, p.message.replace(str(target), display), p.fix, p.line)
                            for p in exc.problems]
                raise ParleyInputError(problems, display) from None

        try:
            d = await run_in_threadpool(parse, format)
        except ParleyInputError as exc:
            return index_page(request, 422, exc.problems, display)
        return RedirectResponse(f"/d/{d.id}", status_code=303)

    @app.get("/d/{draft_id}", response_class=HTMLResponse)
    def editor(request: Request, draft_id: str) -> HTMLResponse:
        d = draft_or_404(draft_id)
        scenario, problems = dr.validate(d.data, d.name)
        return page(request, "editor.html", **editor_context(d, scenario, problems))

    @app.post("/d/{draft_id}/rows", response_class=HTMLResponse)
    def edit_rows(
        request: Request,
        draft_id: str,
        action: str = Form(...),
        path: str = Form(""),
        id: str = Form(""),
        name: str = Form(""),
        actor: str = Form(""),
        issue: str = Form(""),
    ) -> Response:
        """Add an actor, issue or stance, or remove a row; then show the editor again."""

        removed: list[str] = []

        def edit(data: dict[str, Any]) -> str:
            if action == "remove":
                removed.append(dr.remove_row(data, path))
                return path.split("[", 1)[0]
            if action in ("add_actor", "add_issue", "add_stance"):
                kind = action.removeprefix("add_")
                dr.add_row(data, kind, {"id": id, "name": name, "actor": actor, "issue": issue})
                return kind + "s"
            raise KeyError(action)

        return edit_draft(request, draft_id, edit, "Unknown row or action.", removed)

    @app.post("/d/{draft_id}/levers", response_class=HTMLResponse)
    def edit_levers(
        request: Request,
        draft_id: str,
        action: str = Form(...),
        path: str = Form(""),
        lever: int = Form(-1),
        id: str = Form(""),
        name: str = Form(""),
        field: str = Form("position"),
        actors: str = Form(""),
        issues: str = Form(""),
        op: str = Form("shift"),
        value: str = Form("0"),
        note: str = Form(""),
    ) -> Response:
        """Add a lever or a change to one, or remove either; then show the editor again."""

        def edit(data: dict[str, Any]) -> str:
            if action == "add_lever":
                le.add_lever(data, id, name)
            elif action == "add_change":
                form = {"field": field, "actors": actors, "issues": issues, "op": op,
                        "value": value, "note": note}
                le.add_change(data, lever, form)
            elif action == "remove":
                le.remove(data, path)
                removed.append(path)
            else:
                raise KeyError(action)
            return "levers-editor"

        removed: list[str] = []
        return edit_draft(request, draft_id, edit, "Unknown lever, change or action.", removed)

    @app.post("/d/{draft_id}/settlement", response_class=HTMLResponse)
    def edit_settlement(request: Request, draft_id: str, on: str = Form("")) -> Response:
        """Turn the settlement test on or off (imported files start with it off)."""

        def edit(data: dict[str, Any]) -> str:
            dr.set_settlement_test(data, on.lower() in ("on", "true", "1", "yes"))
            return "settlement-switch"

        return edit_draft(request, draft_id, edit, "Unknown draft.")

    def edit_draft(request: Request, draft_id: str, edit: Callable[[dict[str, Any]], str],
                   unknown: str, removed: list[str] | None = None) -> Response:
        """Apply `edit` to a draft under the edit lock and go back to the editor at the anchor it
        returns; an edit that raises KeyError is refused (422, `unknown`), one that raises
        ValueError shows the editor with its message. When the edit removed something (it
        appends what to `removed`), the draft keeps the data from before it: one Undo away."""
        with edit_lock:
            d = draft_or_404(draft_id)
            before = copy.deepcopy(d.data)
            try:
                anchor = edit(d.data)
            except KeyError:
                raise HTTPException(422, unknown) from None
            except ValueError as exc:
                scenario, problems = dr.validate(d.data, d.name)
                ctx = editor_context(d, scenario, problems)
                return page(request, "editor.html", 422, row_error=str(exc), **ctx)
            d.undo = {"data": before, "what": removed[0]} if removed else None
            store.save(d)
        return RedirectResponse(f"/d/{d.id}#{anchor}", status_code=303)

    @app.post("/d/{draft_id}/undo")
    def undo_removal(draft_id: str) -> Response:
        """Put back what the last removal took out (only until the next edit)."""
        with edit_lock:
            d = draft_or_404(draft_id)
            if d.undo is not None and isinstance(d.undo.get("data"), dict):
                d.data, d.undo = d.undo["data"], None
                store.save(d)
        return RedirectResponse(f"/d/{d.id}", status_code=303)

    def editor_context(d: dr.Draft, scenario: Any, problems: list[Problem]) -> dict[str, Any]:
        cells = dr.problems_by_cell(problems)
        known = cell_paths(d.data)
        loose = [p for p in problems if le.cell_of(p.path) not in known]
        return {
            "levers": lever_rows(scenario), "report": report_available(),
            "d": d, "data": d.data, "scenario": scenario, "problems": problems, "cells": cells,
            "loose": loose, "tables": dr.tables_ok(d.data), "models": list(registry.MODELS.values()),
            "static_models": registry.STATIC, "max_draws": MAX_DRAWS,
            "default_models": list(registry.STATIC), "levers_ok": le.levers_ok(d.data),
            "lever_fields": le.FIELDS, "lever_ops": le.OPS,
        }

    @app.post("/d/{draft_id}/cell", response_class=HTMLResponse)
    def edit_cell(
        request: Request, draft_id: str, path: str = Form(...), value: str = Form("")
    ) -> HTMLResponse:
        with edit_lock:  # read, change and write one draft at a time: no edit is lost
            d = draft_or_404(draft_id)
            try:
                if path.startswith("levers["):
                    le.set_cell(d.data, path, value)
                else:
                    dr.set_cell(d.data, path, value)
            except KeyError:
                raise HTTPException(422, f"No editable cell '{path[:80]}'.") from None
            d.undo = None  # an undo would now also revert this edit
            store.save(d)
        scenario, problems = dr.validate(d.data, d.name)
        ctx = editor_context(d, scenario, problems)
        ctx["all_cells"] = cell_paths(d.data)
        ctx["levers_oob"] = path.startswith("levers[")  # names and ids in the compare panel
        return page(request, "_problems.html", **ctx)

    @app.get("/d/{draft_id}/scenario.yaml")
    def draft_yaml(draft_id: str) -> Response:
        d = draft_or_404(draft_id)
        scenario, _ = dr.validate(d.data, d.name)
        data = scenario.to_yaml_data() if scenario is not None else d.data
        if d.original is not None:  # the file it came from, comments and all, with the edits
            from parley.web.yaml_keep import merged_text

            data = d.data
            text = merged_text(d.original, d.data)
        else:
            text = runs.yaml_text(data)
        if scenario is None:
            text = "# This scenario does not validate yet: see the problems in the editor.\n" + text
        name = dr.safe_stem(str(data.get("id") or d.name)) + ".yaml"
        return Response(text, media_type="application/yaml",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @app.post("/d/{draft_id}/run", response_class=HTMLResponse)
    def run(
        request: Request,
        draft_id: str,
        model: list[str] = Form(list(registry.STATIC)),  # the CLI's default models
        draws: str = Form("10000"),
        seed: str = Form("20250501"),
        rule: str = Form("compensatory"),
    ) -> HTMLResponse:
        d = draft_or_404(draft_id)
        scenario, problems = dr.validate(d.data, d.name)
        form_problems = _form_problems(model, draws, seed, rule)
        if scenario is None or form_problems:
            return page(request, "_run_error.html", 422, problems=form_problems,
                        scenario_problems=problems)
        job = Job(new_id(), scenario, list(dict.fromkeys(model)), _int(draws) or 1, _int(seed) or 0, rule,
                  draft_id=d.id)
        done = jobs.submit(job)
        _wait(done, wait_for_short_runs)
        return job_fragment(request, job)

    @app.post("/d/{draft_id}/compare", response_class=HTMLResponse)
    def compare_levers(
        request: Request,
        draft_id: str,
        lever: list[str] = Form([]),
        model: list[str] = Form(["compromise"]),
        draws: str = Form("10000"),
        seed: str = Form("20250501"),
        rule: str = Form("compensatory"),
    ) -> HTMLResponse:
        d = draft_or_404(draft_id)
        scenario, problems = dr.validate(d.data, d.name)
        form_problems = _form_problems(model, draws, seed, rule)
        known = {r["id"] for r in lever_rows(scenario)}
        if not lever or any(x not in known for x in lever):
            form_problems.append(Problem("lever", "choose at least one of the scenario's levers",
                                         ", ".join(sorted(known)) or "this scenario has no levers"))
        if scenario is None or form_problems:
            return page(request, "_run_error.html", 422, problems=form_problems,
                        scenario_problems=problems)
        job = Job(new_id(), scenario, list(dict.fromkeys(model)), _int(draws) or 1, _int(seed) or 0, rule,
                  draft_id=d.id, kind="compare", levers=list(dict.fromkeys(lever)))
        _wait(jobs.submit(job), wait_for_short_runs)
        return job_fragment(request, job)

    @app.get("/d/{draft_id}/advise", response_class=HTMLResponse)
    def advise(request: Request, draft_id: str, actor: str = "",
               model: list[str] = Query(list(advise_page.DEFAULT_MODELS)), draws: str = "2000",
               seed: str = "20250501") -> HTMLResponse:
        """One actor's best moves, whom to persuade, what to trade (parley advise)."""
        d = draft_or_404(draft_id)
        scenario, scenario_problems = dr.validate(d.data, d.name)
        problems = (_form_problems(model, draws, seed, "compensatory") if actor else []) + scenario_problems
        ctx = advise_page.context(scenario, actor, model, _int(draws), _int(seed), problems)
        return page(request, "advise.html", 422 if ctx["problems"] else 200, d=d, **ctx)

    def job_fragment(request: Request, job: Job) -> HTMLResponse:
        if job.status == "done" and job.kind == "compare":
            return page(request, "_compare.html", job=job, cmp=job.result or {})
        if job.status == "done":
            ctx = views.context(job.result or {}, job.scenario, job.trajectories)
            return page(request, "_results.html", job=job, run_id=job.run_id, report=report_available(),
                        **ctx)
        if job.status == "failed":
            return page(request, "_run_error.html", 200, problems=[Problem("", job.error or "failed")],
                        scenario_problems=[])
        if job.status == "cancelled":
            return page(request, "_cancelled.html", job=job, recording=db_path is not None)
        return page(request, "_progress.html", job=job)

    def job_or_404(job_id: str) -> Job:
        try:
            return jobs.get(job_id)
        except KeyError:
            raise HTTPException(404, "No such job (the server may have restarted).") from None

    @app.post("/jobs/{job_id}/cancel", response_class=HTMLResponse)
    def job_cancel(request: Request, job_id: str) -> HTMLResponse:
        """Stop a queued or running job; it ends at the next chunk of draws. Answers with the
        job's fragment (still "cancelling" until the worker reaches that chunk boundary)."""
        job_or_404(job_id)
        return job_fragment(request, jobs.cancel(job_id))

    @app.get("/jobs/{job_id}", response_class=HTMLResponse)
    def job_status(request: Request, job_id: str) -> HTMLResponse:
        return job_fragment(request, job_or_404(job_id))

    @app.get("/jobs/{job_id}/progress.json")
    def job_progress(job_id: str) -> dict[str, Any]:
        try:
            job = jobs.get(job_id)
        except KeyError:
            raise HTTPException(404, "No such job.") from None
        return {"status": job.status, "done": job.done, "total": job.total, "run_id": job.run_id,
                "error": job.error, "cancelling": job.cancelling}

    @app.get("/jobs/{job_id}/results.json")
    def job_json(job_id: str) -> JSONResponse:
        try:
            job = jobs.get(job_id)
        except KeyError:
            raise HTTPException(404, "No such job.") from None
        if job.result is None:
            raise HTTPException(409, f"The job is {job.status}, no results yet.")
        return JSONResponse(job.result, headers={"Content-Disposition":
                                                 f'attachment; filename="parley-{job.id}.json"'})

    # --- runs registry -------------------------------------------------------------------
    @app.get("/runs", response_class=HTMLResponse)
    def runs_page(request: Request, limit: int = 100) -> HTMLResponse:
        past, err = recent_runs(max(1, min(limit, 1000)))
        return page(request, "runs.html", runs=past, runs_error=err)

    @app.get("/runs/diff", response_class=HTMLResponse)
    def runs_diff(request: Request, a: int, b: int) -> HTMLResponse:
        """What changed between two runs: the page form of `parley runs diff A B`."""
        d = runs.diff(run_or_404(a), run_or_404(b))
        return page(request, "diff.html", diff=d)

    def run_or_404(run_id: int) -> runs.Run:
        reg = registry_or_none()
        if reg is None:
            raise HTTPException(404, "Run recording is turned off.")
        if not 0 < run_id < 2**63:  # beyond SQLite's integers: no such run (not an error 500)
            raise HTTPException(404, f"No run with id {run_id}.")
        try:
            return reg.get(run_id)
        except ParleyInputError:
            raise HTTPException(404, f"No run with id {run_id}.") from None

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_page(request: Request, run_id: int) -> HTMLResponse:
        r = run_or_404(run_id)
        scenario = None
        traj: dict[str, Any] = {}
        try:
            scenario = r.scenario()
            if r.status == "ok":
                traj = trajectories(scenario, r.models, r.params)
        except (ParleyInputError, ValueError):
            pass
        ctx = views.context(r.results or {}, scenario, traj) if r.results else {}
        return page(request, "run.html", run=r, run_id=r.id, scenario=scenario, report=report_available(),
                    **ctx)

    @app.get("/runs/{run_id}/results.json")
    def run_json(run_id: int) -> JSONResponse:
        r = run_or_404(run_id)
        return JSONResponse(r.to_dict(), headers={"Content-Disposition":
                                                  f'attachment; filename="parley-run-{r.id}.json"'})

    @app.get("/runs/{run_id}/scenario.yaml")
    def run_yaml(run_id: int) -> Response:
        r = run_or_404(run_id)
        text = runs.yaml_text(r.scenario().to_yaml_data())
        return Response(text, media_type="application/yaml",
                        headers={"Content-Disposition":
                                 f'attachment; filename="{dr.safe_stem(r.scenario_id)}-run-{r.id}.yaml"'})

    report_lock = threading.Lock()

    @app.get("/runs/{run_id}/report.html")
    def run_report(run_id: int) -> Response:
        """The self-contained HTML report of a run, rebuilt from its recorded settings (same
        numbers) and kept in the data directory for the next download."""
        if not report_available():
            raise HTTPException(404, "The HTML report is not available in this installation.")
        r = run_or_404(run_id)
        if r.status != "ok":
            raise HTTPException(409, f"Run {r.id} is {r.status}; only finished runs have a report.")
        cache = root / "reports" / f"run-{r.id}.html"
        with report_lock:
            if not cache.is_file():
                from parley.present.report.build import build_report, render

                with runs.recording(enabled=False):  # the run is recorded already
                    data = build_report(r.scenario(), r.models, draws=r.draws, seed=r.seed,
                                        params=r.params, rule=r.rule)  # type: ignore[arg-type]
                cache.parent.mkdir(exist_ok=True)
                cache.write_text(render(data), encoding="utf-8")
        name = f"{dr.safe_stem(r.scenario_id)}-run-{r.id}.html"
        return Response(cache.read_text(encoding="utf-8"), media_type="text/html",  # opens in the tab
                        headers={"Content-Disposition": f'inline; filename="{name}"'})

    @app.post("/runs/{run_id}/edit")
    def run_to_draft(run_id: int) -> Response:
        r = run_or_404(run_id)
        s = r.scenario()
        fmt = "yaml" if any(a.veto for a in s.actors) else "imported"
        d = store.create(f"run {r.id}: {r.scenario_id}", fmt, s.to_yaml_data())
        return RedirectResponse(f"/d/{d.id}", status_code=303)

    return app


_bundled_cache: dict[tuple[str, float], dict[str, str]] = {}


def bundled_list() -> list[dict[str, str]]:
    """Name, title and date of each bundled scenario, read once per file version."""
    from parley.io.loading import load

    out = []
    for name in bundled.names():
        path = bundled.path(name)
        key = (name, path.stat().st_mtime if path else 0.0)
        if key not in _bundled_cache and (fast := bundled.header(name)) is not None:
            _bundled_cache[key] = fast
        if key not in _bundled_cache:
            try:
                s = load(name)
                _bundled_cache[key] = {"name": name, "title": s.title, "as_of": s.as_of.isoformat()}
            except ParleyInputError:
                _bundled_cache[key] = {"name": name, "title": name, "as_of": ""}
        out.append(_bundled_cache[key])
    return out


def cell_paths(data: Any) -> set[str]:
    """Every editable cell path of the data (problems elsewhere go in the page-level list)."""
    out: set[str] = set()
    if not dr.tables_ok(data):
        return out
    for section in ("actors", "issues", "stances"):
        names = dr.ESTIMATE_FIELDS[section] + dr.TEXT_FIELDS[section] + dr.BOOL_FIELDS[section]
        for i in range(len(data[section])):
            out.update(f"{section}[{i}].{n}" for n in names)
    return out | le.cell_paths(data)


def cell_slug(path: str) -> str:
    """A cell path as an HTML id fragment: `levers[0].changes[1].value` -> `levers-0-changes-1-value`."""
    return re.sub(r"[\[\].]+", "-", path).strip("-")


def _form_problems(model: list[str], draws: str, seed: str, rule: str) -> list[Problem]:
    """Problems with the run settings, each naming the field."""
    out = []
    n_draws, n_seed = _int(draws), _int(seed)
    if n_draws is None or not 1 <= n_draws <= MAX_DRAWS:
        out.append(Problem("draws", f"draws must be a whole number from 1 to {MAX_DRAWS:,}", "e.g. 10000"))
    if n_seed is None or not 0 <= n_seed < 2**63:
        out.append(Problem("seed", "seed must be a whole number ≥ 0", "e.g. 20250501"))
    if rule not in ("compensatory", "strict"):
        out.append(Problem("rule", f"unknown rule '{rule[:40]}'", "compensatory or strict"))
    if not model or any(m not in registry.MODELS for m in model):
        out.append(Problem("model", "choose at least one known model", ", ".join(registry.MODELS)))
    return out


def report_available() -> bool:
    """Whether this installation has the HTML report (parley.present.report)."""
    import importlib.util

    return importlib.util.find_spec("parley.present.report") is not None


def lever_rows(scenario: Any) -> list[dict[str, Any]]:
    """The scenario's levers as rows for the page; none when levers are not available."""
    if scenario is None or not getattr(scenario, "levers", None):
        return []
    try:
        from parley.analysis.levers import lever_records
    except ImportError:
        return []
    return lever_records(scenario, list(scenario.levers))


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def _int(text: str) -> int | None:
    try:
        return int(str(text).strip().replace(",", "").replace("_", ""))
    except ValueError:
        return None


def _wait(job: Job, seconds: float) -> None:
    """Give short runs the chance to answer in the same request (no polling round trip)."""
    import time

    deadline = time.perf_counter() + seconds
    while job.status in ("queued", "running") and time.perf_counter() < deadline:
        time.sleep(0.01)
