"""The runs registry: every forecast, from the CLI, the library or the web app, in one sqlite file.

Why a database and not a folder of JSON files: several processes (a CLI run, a notebook, the web
app) write at the same time, and sqlite in WAL mode gives each write its own transaction, so no
record is lost or half written, and a process that dies mid-run leaves a row marked `running`
that the next reader turns into `failed` (its process is gone), never a corrupt file.

Where the file lives, first match wins: an explicit path (`--db`, `Registry(path)`), the
`PARLEY_DB` environment variable, then `runs.sqlite` in the user's data directory
(platformdirs when installed, else `$XDG_DATA_HOME/parley`). `PARLEY_DB=off` turns recording off.
Recording from `forecast()` is best effort: a registry that cannot be written logs a warning and
the forecast goes on.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.core.errors import Cancelled, ParleyInputError, Problem
from parley.core.jsonable import finite

if TYPE_CHECKING:
    from parley.analysis.forecast import Forecast
    from parley.core.scenario import Scenario

log = logging.getLogger("parley.store.runs")

ENV_DB = "PARLEY_DB"
OFF = ("off", "0", "none", "false", "")
SCHEMA_VERSION = 2  # 2: status `cancelled`
BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'cancelled')),
    scenario_id TEXT NOT NULL,
    scenario_title TEXT NOT NULL,
    scenario_hash TEXT NOT NULL,
    scenario_json TEXT NOT NULL,
    models_json TEXT NOT NULL,
    params_json TEXT NOT NULL,
    draws INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    rule TEXT NOT NULL,
    parley_version TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    seconds REAL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    error TEXT,
    results_json TEXT
);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started);
CREATE INDEX IF NOT EXISTS runs_hash ON runs (scenario_hash);
"""
STATUSES = ("running", "ok", "failed", "cancelled")


def default_path() -> Path | None:
    """The registry file to use when no path is given; None when recording is turned off."""
    env = os.environ.get(ENV_DB)
    if env is not None:
        return None if env.strip().lower() in OFF else Path(env).expanduser()
    return user_data_dir() / "runs.sqlite"


def user_data_dir() -> Path:
    """parley's per-user data directory (created on first write, not here)."""
    try:
        import platformdirs

        return Path(platformdirs.user_data_dir("parley", appauthor=False))
    except ImportError:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return Path(base) / "parley"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Run:
    """One row of the registry, with its JSON columns decoded."""

    id: int
    source: str
    status: str
    scenario_id: str
    scenario_title: str
    scenario_hash: str
    models: list[str]
    params: dict[str, Any]
    draws: int
    seed: int
    rule: str
    parley_version: str
    started: str
    finished: str | None
    seconds: float | None
    host: str
    pid: int
    error: str | None
    scenario_data: dict[str, Any] = field(repr=False, default_factory=dict)
    results: dict[str, Any] | None = field(repr=False, default=None)

    def scenario(self) -> Scenario:
        """The scenario exactly as it was run (validated again)."""
        from parley.core.scenario import Scenario

        return Scenario.model_validate(self.scenario_data)

    def p_settlement(self) -> float | None:
        """P(settlement) of the first model, for listings."""
        if not self.results or not self.results.get("settlement"):
            return None
        return self.results["settlement"][0].get("p_settlement")

    def summary(self) -> dict[str, Any]:
        """Everything but the scenario and the results: what `runs list --json` prints."""
        return {
            "id": self.id,
            "source": self.source,
            "status": self.status,
            "scenario_id": self.scenario_id,
            "scenario_title": self.scenario_title,
            "scenario_hash": self.scenario_hash,
            "models": self.models,
            "params": self.params,
            "draws": self.draws,
            "seed": self.seed,
            "rule": self.rule,
            "parley_version": self.parley_version,
            "started": self.started,
            "finished": self.finished,
            "seconds": self.seconds,
            "host": self.host,
            "pid": self.pid,
            "error": self.error,
            "p_settlement": self.p_settlement(),
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary(), "scenario": self.scenario_data, "results": self.results}


class Registry:
    """A runs registry file. Each call opens its own short connection, so one object can be
    shared by threads, and many processes can write the same file at once."""

    def __init__(self, path: str | Path):
        self.path = Path(path).expanduser()
        self._ready = False
        self._lock = threading.Lock()
        self._local = threading.local()

    # --- connection -------------------------------------------------------------------
    @contextlib.contextmanager
    def _connect(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """This thread's connection (opened once per thread and process: closing the last
        connection makes sqlite checkpoint the WAL, which would cost every run ~10 ms)."""
        if not self._ready:
            self._init()
        con = self._connection()
        try:
            if write:
                con.execute("BEGIN IMMEDIATE")
                try:
                    yield con
                    con.execute("COMMIT")
                except BaseException:
                    if con.in_transaction:
                        con.execute("ROLLBACK")
                    raise
            else:
                yield con
        except sqlite3.Error:
            self._drop()
            raise

    def _connection(self) -> sqlite3.Connection:
        held = getattr(self._local, "held", None)
        if held is not None and held[0] == os.getpid():
            return held[1]
        con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                              check_same_thread=True)
        # WAL + NORMAL: a crashed process never corrupts the file or loses a committed run;
        # only a power cut can drop the last commits. Saves an fsync per write.
        con.execute("PRAGMA synchronous=NORMAL")
        con.row_factory = sqlite3.Row
        self._local.held = (os.getpid(), con)
        return con

    def _drop(self) -> None:
        held = getattr(self._local, "held", None)
        self._local.held = None
        if held is not None and held[0] == os.getpid():
            with contextlib.suppress(sqlite3.Error):
                held[1].close()

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        self._drop()

    def _init(self) -> None:
        with self._lock:
            if self._ready:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            try:
                version = con.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise ParleyInputError(
                        [
                            Problem(
                                "",
                                f"the runs database was written by a newer parley (schema {version})",
                                "upgrade parley, or choose another file with --db",
                            )
                        ],
                        str(self.path),
                    )
                mode = con.execute("PRAGMA journal_mode").fetchone()[0]
                if mode != "wal":
                    con.execute("PRAGMA journal_mode=WAL")
                if version < SCHEMA_VERSION:
                    con.execute("BEGIN IMMEDIATE")
                    # another process may have upgraded the file while we waited for the lock
                    version = con.execute("PRAGMA user_version").fetchone()[0]
                    if version == 1:
                        _upgrade_from_v1(con)
                    elif version == 0:
                        _create(con)
                    con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                    con.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                raise ParleyInputError(
                    [Problem("", f"not a usable runs database: {exc}", "choose another file with --db")],
                    str(self.path),
                ) from None
            finally:
                con.close()
            self._ready = True

    # --- writing ----------------------------------------------------------------------
    def start(
        self,
        scenario: Scenario,
        models: Sequence[str],
        params: dict[str, Any],
        draws: int,
        seed: int,
        rule: str,
        source: str = "library",
    ) -> int:
        """Record a run as `running` before any work is done; returns its id."""
        from parley.core.version import VERSION

        row = {
            "source": source,
            "status": "running",
            "scenario_id": scenario.id,
            "scenario_title": scenario.title,
            "scenario_hash": scenario.content_hash(),
            "scenario_json": json.dumps(scenario.model_dump(mode="json"), sort_keys=True),
            "models_json": json.dumps(list(models)),
            "params_json": json.dumps(params, sort_keys=True, default=str),
            "draws": int(draws),
            "seed": int(seed),
            "rule": rule,
            "parley_version": VERSION,
            "started": _now(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
        }
        cols = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        with self._connect(write=True) as con:
            cur = con.execute(f"INSERT INTO runs ({cols}) VALUES ({marks})", row)
            return int(cur.lastrowid or 0)

    def finish(self, run_id: int, results: dict[str, Any], seconds: float | None = None) -> None:
        """Mark a run done and store its results (the forecast's JSON form)."""
        text = json.dumps(finite(results), allow_nan=False)
        with self._connect(write=True) as con:
            con.execute(
                "UPDATE runs SET status='ok', finished=?, seconds=?, results_json=? WHERE id=?",
                (_now(), seconds, text, run_id),
            )

    def fail(self, run_id: int, error: str, seconds: float | None = None) -> None:
        """Mark a run failed with the reason."""
        with self._connect(write=True) as con:
            con.execute(
                "UPDATE runs SET status='failed', finished=?, seconds=?, error=? WHERE id=?",
                (_now(), seconds, error[:2000], run_id),
            )

    def cancel(self, run_id: int, reason: str, seconds: float | None = None) -> None:
        """Mark a run cancelled (stopped on request) with the reason; it keeps no results."""
        with self._connect(write=True) as con:
            con.execute(
                "UPDATE runs SET status='cancelled', finished=?, seconds=?, error=? WHERE id=?",
                (_now(), seconds, reason[:2000], run_id),
            )

    def reap(self) -> int:
        """Mark as failed the `running` rows of this host whose process no longer exists
        (killed, crashed, machine restarted). Returns how many were marked."""
        host = socket.gethostname()
        with self._connect() as con:
            rows = con.execute(
                "SELECT id, pid FROM runs WHERE status='running' AND host=?", (host,)
            ).fetchall()
        dead = [r["id"] for r in rows if not _alive(int(r["pid"]))]
        if dead:
            with self._connect(write=True) as con:
                con.executemany(
                    "UPDATE runs SET status='failed', finished=?, "
                    "error='the process ended before the run finished' "
                    "WHERE id=? AND status='running'",
                    [(_now(), i) for i in dead],
                )
        return len(dead)

    # --- reading ----------------------------------------------------------------------
    def list(
        self, limit: int = 50, scenario_hash: str | None = None, status: str | None = None
    ) -> list[Run]:
        """Most recent runs first, without scenarios and results unless needed for listing."""
        self.reap()
        where, args = [], []
        if scenario_hash:
            where.append("scenario_hash LIKE ?")
            args.append(scenario_hash + "%")
        if status:
            where.append("status = ?")
            args.append(status)
        sql = "SELECT * FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(int(limit))
        with self._connect() as con:
            return [_run(r, full=False) for r in con.execute(sql, args).fetchall()]

    def get(self, run_id: int) -> Run:
        """One run with its scenario and results; a clear error for an unknown id."""
        self.reap()
        with self._connect() as con:
            row = con.execute("SELECT * FROM runs WHERE id=?", (int(run_id),)).fetchone()
        if row is None:
            raise ParleyInputError(
                [Problem("ID", f"no run with id {run_id}", "see `parley runs list` for the ids")],
                str(self.path),
            )
        return _run(row, full=True)

    def count(self) -> int:
        with self._connect() as con:
            return int(con.execute("SELECT COUNT(*) FROM runs").fetchone()[0])


def _run(row: sqlite3.Row, full: bool) -> Run:
    results = json.loads(row["results_json"]) if row["results_json"] else None
    if not full and results is not None:
        results = {"settlement": results.get("settlement", [])}
    return Run(
        id=row["id"],
        source=row["source"],
        status=row["status"],
        scenario_id=row["scenario_id"],
        scenario_title=row["scenario_title"],
        scenario_hash=row["scenario_hash"],
        models=json.loads(row["models_json"]),
        params=json.loads(row["params_json"]),
        draws=row["draws"],
        seed=row["seed"],
        rule=row["rule"],
        parley_version=row["parley_version"],
        started=row["started"],
        finished=row["finished"],
        seconds=row["seconds"],
        host=row["host"],
        pid=row["pid"],
        error=row["error"],
        scenario_data=json.loads(row["scenario_json"]) if full else {},
        results=results,
    )


def _create(con: sqlite3.Connection) -> None:
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            con.execute(statement)


def _upgrade_from_v1(con: sqlite3.Connection) -> None:
    """Schema 1 to 2: the status check gains `cancelled`. SQLite cannot alter a CHECK, so the
    table is rebuilt with the same columns and every row and id kept (inside the caller's
    transaction, so a crash leaves schema 1 as it was)."""
    con.execute("ALTER TABLE runs RENAME TO runs_v1")
    con.execute("DROP INDEX IF EXISTS runs_started")
    con.execute("DROP INDEX IF EXISTS runs_hash")
    _create(con)
    con.execute("INSERT INTO runs SELECT * FROM runs_v1")
    con.execute("DROP TABLE runs_v1")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


# --- recording from forecast() ---------------------------------------------------------------
@dataclass(frozen=True)
class _Settings:
    path: Path | None = None
    use_default: bool = True
    source: str = "library"
    enabled: bool = True


_settings: contextvars.ContextVar[_Settings] = contextvars.ContextVar(
    "parley_runs", default=_Settings()  # noqa: B039 (frozen, never mutated)
)
_last = threading.local()


@contextlib.contextmanager
def recording(
    db: str | Path | None = None, source: str | None = None, enabled: bool = True
) -> Iterator[None]:
    """Within this block, forecasts are recorded in `db` (default: see `default_path`) with the
    given source label (`cli`, `web`, ...), or not at all when `enabled` is False."""
    cur = _settings.get()
    new = _Settings(
        path=Path(db) if db is not None else cur.path,
        use_default=cur.use_default if db is None else False,
        source=source or cur.source,
        enabled=enabled and cur.enabled,
    )
    token = _settings.set(new)
    try:
        yield
    finally:
        _settings.reset(token)


def set_default(db: str | Path | None = None, source: str | None = None) -> None:
    """Set the registry and source label for the rest of this context (used by CLI commands)."""
    cur = _settings.get()
    _settings.set(
        _Settings(
            path=Path(db) if db is not None else cur.path,
            use_default=cur.use_default if db is None else False,
            source=source or cur.source,
            enabled=cur.enabled,
        )
    )


def last_id() -> int | None:
    """Id of the last run this thread recorded (the web app links to it)."""
    return getattr(_last, "id", None)


_registries: dict[Path, Registry] = {}


def registry_for(path: Path) -> Registry:
    """A cached Registry per file, so the schema check runs once per process."""
    reg = _registries.get(path)
    if reg is None:
        reg = _registries[path] = Registry(path)
    return reg


def _target() -> tuple[Registry | None, str]:
    s = _settings.get()
    if not s.enabled:
        return None, s.source
    path = s.path if s.path is not None or not s.use_default else default_path()
    if path is None:
        return None, s.source
    return registry_for(path), s.source


class Recorder:
    """What `forecast()` calls: start, then finish or fail. Never raises."""

    def __init__(self, reg: Registry | None, run_id: int | None):
        self.registry = reg
        self.id = run_id
        self._t0 = time.perf_counter()

    def finish(self, fc: Forecast) -> None:
        if self.registry is None or self.id is None:
            return
        try:
            results = fc.to_dict()
        except Exception as exc:  # the forecast cannot be summarised: the run did not succeed
            self.fail(exc)
            return
        try:
            self.registry.finish(self.id, results, time.perf_counter() - self._t0)
            _last.id = self.id
        except Exception as exc:
            log.warning("parley: could not record the run in %s: %s", self.registry.path, exc)

    def fail(self, error: BaseException) -> None:
        if self.registry is None or self.id is None:
            return
        try:
            message = str(error).strip()
            text = type(error).__name__ + (f": {message}" if message else "")
            seconds = time.perf_counter() - self._t0
            if isinstance(error, (Cancelled, KeyboardInterrupt)):
                self.registry.cancel(self.id, text, seconds)
            else:
                self.registry.fail(self.id, text, seconds)
            _last.id = self.id
        except Exception as exc:
            log.warning("parley: could not record the failed run in %s: %s", self.registry.path, exc)


def begin(
    scenario: Scenario,
    models: Sequence[str],
    params: dict[str, Any],
    draws: int,
    seed: int,
    rule: str,
) -> Recorder:
    """Start recording a forecast in the current registry, or do nothing when it is off or broken."""
    try:
        reg, source = _target()
        if reg is None:
            return Recorder(None, None)
        return Recorder(reg, reg.start(scenario, models, params, draws, seed, rule, source))
    except Exception as exc:
        log.warning("parley: runs registry unavailable, this run is not recorded: %s", exc)
        return Recorder(None, None)


# --- comparing runs ------------------------------------------------------------------------
def comparable(results: dict[str, Any] | None) -> dict[str, Any]:
    """The numbers of a result, without the fields that change on every run (time stamps)."""
    if not results:
        return {}
    out = {k: v for k, v in results.items() if k != "provenance"}
    prov = dict(results.get("provenance") or {})
    prov.pop("created", None)
    out["provenance"] = prov
    return out


PROSE = ("answer", "disclaimer")
"""Result fields written in words: their wording may improve between versions of parley
without any number changing, so reproductions are judged on the numbers."""


def same_numbers(old: dict[str, Any] | None, new: dict[str, Any] | None) -> bool:
    """Whether `new` reproduces every number and label of `old` (ignoring time stamps, the
    version, prose, and fields a newer parley added): what `parley runs rerun` checks."""
    def strip(results: dict[str, Any] | None) -> dict[str, Any]:
        out = {k: v for k, v in comparable(results).items() if k not in PROSE}
        out["provenance"] = {k: v for k, v in out.get("provenance", {}).items()
                             if k != "parley_version"}
        return out

    return _covers(strip(old), strip(new))


def _covers(a: Any, b: Any) -> bool:
    """`b` has everything `a` has, equal (dicts may have extra keys in `b`)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and all(k in b and _covers(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_covers, a, b))
    return a == b


def scenario_changes(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Field-by-field differences between two scenarios (as stored), keyed the way people think:
    actors and issues by id, stances by actor/issue."""
    changes: list[dict[str, Any]] = []

    def keyed(items: list[dict[str, Any]], key: Any) -> dict[str, dict[str, Any]]:
        return {key(x): x for x in items}

    def walk(path: str, x: Any, y: Any) -> None:
        if isinstance(x, dict) and isinstance(y, dict) and not _is_estimate(x) and not _is_estimate(y):
            for k in sorted(set(x) | set(y), key=str):
                walk(f"{path}.{k}" if path else str(k), x.get(k), y.get(k))
        elif x != y:
            changes.append({"path": path, "a": _short(x), "b": _short(y)})

    for section, key in (
        ("actors", lambda r: r.get("id")),
        ("issues", lambda r: r.get("id")),
        ("stances", lambda r: f"{r.get('actor')}/{r.get('issue')}"),
    ):
        xa, xb = keyed(a.get(section) or [], key), keyed(b.get(section) or [], key)
        for k in list(xa) + [k for k in xb if k not in xa]:
            walk(f"{section}[{k}]", xa.get(k), xb.get(k))
    for k in sorted((set(a) | set(b)) - {"actors", "issues", "stances"}):
        walk(k, a.get(k), b.get(k))
    return changes


def _is_estimate(x: dict[str, Any]) -> bool:
    return "kind" in x and "mode" in x


def _short(x: Any) -> Any:
    """An estimate as people write it (50, 40/50/70, 50±10); anything else unchanged."""
    if isinstance(x, dict) and _is_estimate(x):
        if x["kind"] == "fixed":
            return x["mode"]
        if x["kind"] == "triangular":
            return f"{x['low']:g}/{x['mode']:g}/{x['high']:g}"
        return f"{x['mode']:g}±{x.get('sd', 0):g}"
    return x


def diff(a: Run, b: Run) -> dict[str, Any]:
    """What differs between two runs: inputs, settings, and the headline numbers."""
    settings = {}
    for name in ("models", "params", "draws", "seed", "rule", "parley_version"):
        va, vb = getattr(a, name), getattr(b, name)
        if va != vb:
            settings[name] = {"a": va, "b": vb}
    ra, rb = a.results or {}, b.results or {}
    settle = []
    sa = {r["model"]: r for r in ra.get("settlement", [])}
    sb = {r["model"]: r for r in rb.get("settlement", [])}
    for m in [m for m in sa if m in sb]:
        pa, pb = sa[m]["p_settlement"], sb[m]["p_settlement"]
        settle.append({"model": m, "a": pa, "b": pb, "delta": _delta(pa, pb)})
    outcomes = []
    oa = {(r["model"], r["issue"]): r for r in ra.get("outcomes", [])}
    ob = {(r["model"], r["issue"]): r for r in rb.get("outcomes", [])}
    for key in [k for k in oa if k in ob]:
        ma, mb = oa[key]["median"], ob[key]["median"]
        outcomes.append({"model": key[0], "issue": key[1], "a": ma, "b": mb, "delta": _delta(ma, mb)})
    accept = []
    aa = {(r["model"], r["actor"]): r for r in ra.get("actors", [])}
    ab = {(r["model"], r["actor"]): r for r in rb.get("actors", [])}
    for key in [k for k in aa if k in ab]:
        pa, pb = aa[key]["p_accept"], ab[key]["p_accept"]
        accept.append({"model": key[0], "actor": key[1], "a": pa, "b": pb, "delta": _delta(pa, pb)})
    return {
        "a": a.id,
        "b": b.id,
        "same_scenario": a.scenario_hash == b.scenario_hash,
        "scenario_changes": scenario_changes(a.scenario_data, b.scenario_data),
        "settings": settings,
        "identical_results": same_numbers(a.results, b.results) and same_numbers(b.results, a.results),
        "p_settlement": settle,
        "outcomes": outcomes,
        "p_accept": accept,
    }


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else b - a


def yaml_text(data: Any) -> str:
    """Plain data as block-style YAML 1.2, in the key order given (for downloads and `--scenario`)."""
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    buf = io.StringIO()
    yaml.dump(finite(data), buf)
    return buf.getvalue()
