"""`parley ui`: start the local web app (needs the `web` extra)."""

from __future__ import annotations

import ipaddress
import socket

import typer

from parley.cli.app import app, err_console, handles_input_errors, styled
from parley.core.errors import ParleyInputError, Problem

INSTALL_HINT = (
    "install the web extra: pip install 'parley[web]' (adds fastapi, uvicorn, jinja2, python-multipart)"
)


def is_loopback(host: str) -> bool:
    """Whether a host name or address only listens on this machine."""
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None)
            return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)
        except (OSError, ValueError):
            return False


@app.command("ui")
@handles_input_errors
def ui(
    port: int = typer.Option(8765, "--port", "-p", help="Port to listen on (0 = any free port)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind; only this machine by default."),
    allow_remote: bool = typer.Option(
        False, "--allow-remote", help="Allow a non-loopback --host (anyone who can reach it can use the app)."
    ),
    db: str = typer.Option(None, "--db", help="Runs registry file (default: $PARLEY_DB or user data dir)."),
    data_dir: str = typer.Option(None, "--data-dir", help="Where drafts and uploads are kept."),
    workers: int = typer.Option(2, "--jobs", help="How many forecasts may run at once."),
) -> None:
    """Start the local web app: pick or upload a scenario, edit it, run models, read the answer."""
    if not 0 <= port <= 65535:
        raise ParleyInputError([Problem("--port", f"port {port} is out of range", "use 1–65535, or 0")])
    loopback = is_loopback(host)
    if not loopback and not allow_remote:
        raise ParleyInputError(
            [
                Problem(
                    "--host",
                    f"'{host}' is reachable from other machines, and the app has no login",
                    "use the default 127.0.0.1, or add --allow-remote if you mean it",
                )
            ]
        )
    try:
        import uvicorn

        from parley.web.app import create_app
    except ImportError as exc:
        raise ParleyInputError(
            [Problem("", f"the web app needs packages that are not installed ({exc.name})", INSTALL_HINT)]
        ) from None
    if not loopback:
        err_console.print(styled(
            "[bold yellow]warning:[/] listening on {}: anyone who can reach this address can "
            "read your scenarios and runs, upload files and start forecasts. There is no login.", host
        ))
    application = create_app(data_dir=data_dir, db=db, allow_remote=not loopback, workers=max(1, workers))
    sock = socket.socket(socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        raise ParleyInputError(
            [Problem("--port", f"cannot listen on {host}:{port}: {exc.strerror}", "choose another --port")]
        ) from None
    sock.listen(128)  # connections made as soon as the address is printed wait in the backlog
    bound = sock.getsockname()[1]
    shown = f"[{host.strip('[]')}]" if ":" in host.strip("[]") else host
    typer.echo(f"parley web app: http://{shown}:{bound}/  (Ctrl+C to stop)", err=False)
    config = uvicorn.Config(application, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        application.state.jobs.shutdown()  # drop queued forecasts; a running one finishes first
        sock.close()
