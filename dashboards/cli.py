"""``tipline dashboard`` and ``tipline report``: registered into the ``tipline`` command by model.cli."""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from model.atomic import write_directory, write_file
from model.console import EXIT_OK, BadInput, check_writable

APP = Path(__file__).with_name("app.py")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
#: Solara warns, in 12 lines on every page load served over http on any address but "localhost", that its
#: session cookie falls back from SameSite=None to SameSite=Lax (solara/server/starlette.py; no setting turns
#: it off). SameSite=None matters only for a page embedded in another site's iframe, which this one is not.
#: The server's process ignores that one warning (a PYTHONWARNINGS filter: message start, category, module);
#: every other warning and log line stays.
COOKIE_WARNING = "ignore:Cookies with samesite=none require https:UserWarning:solara.server.starlette"


def solara_command(host: str, port: int, production: bool = True) -> list[str]:
    """The ``solara run`` command line for the dashboard app."""
    solara = Path(sys.executable).with_name("solara")
    cmd = [str(solara) if solara.exists() else shutil.which("solara") or "solara",
           "run", str(APP), "--host", host, "--port", str(port), "--no-open"]
    return [*cmd, "--production"] if production else cmd


def server_env(directory: Path | None = None) -> dict[str, str]:
    """The Solara server's environment: offline assets from `directory` (:func:`dashboards.assets.offline_env`)
    and the cookie warning filtered out (:data:`COOKIE_WARNING`, after any PYTHONWARNINGS already set)."""
    from dashboards import assets

    env = assets.offline_env(directory)
    env["PYTHONWARNINGS"] = ",".join(filter(None, (env.get("PYTHONWARNINGS"), COOKIE_WARNING)))
    return env


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Start the Solara server in the foreground until interrupted (Ctrl-C)."""
    from dashboards import assets

    if not 0 < args.port < 65536:
        raise BadInput(f"--port {args.port}: must be between 1 and 65535")
    directory = assets.cache_dir()
    gone = assets.missing(directory)
    if gone:
        raise BadInput(f"the dashboard's offline browser assets are missing from {directory}: {', '.join(gone)}. "
                       "Install them once with: python -m dashboards.assets")
    if args.host not in LOCAL_HOSTS:
        print(f"tipline: warning: serving on {args.host}; anyone who can reach this address can use the dashboard",
              file=sys.stderr)
    print(f"tipline dashboard: http://{args.host}:{args.port}/  (Ctrl-C stops it)", file=sys.stderr)
    process = subprocess.Popen(solara_command(args.host, args.port, production=not args.dev),
                               env=server_env(directory))
    # SIGTERM to tipline stops the server too (no orphaned server holding the port).
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: process.terminate())
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(timeout=10)
        return EXIT_OK
    finally:
        signal.signal(signal.SIGTERM, previous)


def cmd_report(args: argparse.Namespace) -> int:
    """Build the HTML report (and optional static figures) from run, sweep and comparison results."""
    from dashboards.report import ReportError, build_report, render_figures

    sources, out = [Path(p) for p in args.inputs], Path(args.out)
    if out.exists() and out.is_dir():
        raise BadInput(f"--out {out}: is a directory (give a file name such as report.html)")
    figures_dir = Path(args.figures) if args.figures else None
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    if not formats or any(f not in ("png", "svg", "pdf") for f in formats):
        raise BadInput(f"--formats {args.formats}: allowed formats are png, svg, pdf (comma-separated)")
    if figures_dir is not None and figures_dir.exists() and (not figures_dir.is_dir() or any(figures_dir.iterdir())):
        raise BadInput(f"--figures {figures_dir}: exists and is not an empty directory (choose a new one)")
    check_writable(out.parent, shown=out)
    if figures_dir is not None:
        check_writable(figures_dir, "--figures")
    try:
        report = build_report(sources)
    except ReportError as exc:
        raise BadInput(str(exc)) from exc
    html = report.html()
    files = render_figures(report, formats) if figures_dir is not None else {}  # drawn first: a failure writes nothing
    write_file(out, lambda path: path.write_text(html, encoding="utf-8"))
    count = len(report.figures)
    print(f"wrote {out}: {count} figure{'' if count == 1 else 's'} from {', '.join(report.sources)}")
    if figures_dir is not None:
        write_directory(figures_dir, {name: _bytes_writer(data) for name, data in files.items()})
        print(f"wrote {len(files)} static figures to {figures_dir}")
    return EXIT_OK


def _bytes_writer(data: bytes) -> Callable[[Path], Any]:
    return lambda path: path.write_bytes(data)


def register(commands: Any) -> None:
    """Add ``dashboard`` and ``report`` to the tipline subcommands."""
    dash = commands.add_parser(
        "dashboard", help="interactive browser dashboard (SolaraViz), offline, on 127.0.0.1",
        description="Start the interactive dashboard: sliders for the window, staffing, volume and policies; "
                    "live plots of US evidence lost (foreign beside it) against the other retention rule on the "
                    "same draws, what waits where and how close to its deadline, staff time, and (page 2) every "
                    "report's path per rule. Needs the offline assets (python -m dashboards.assets).")
    dash.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    dash.add_argument("--port", type=int, default=8765, help="port (default: 8765)")
    dash.add_argument("--dev", action="store_true", help="development mode: reload the app when its file changes")
    dash.set_defaults(func=cmd_dashboard)

    rep = commands.add_parser(
        "report", help="self-contained HTML report (and PNG/SVG/PDF figures) from run, compare and sweep results",
        description="Build an offline HTML report (plotly.js embedded) from one or more inputs, each a `tipline run "
                    "--out` directory (flows.csv draws its report paths), a saved `tipline compare --json` file, a "
                    "`tipline sweep --out` directory (with `tipline analyze`'s Sobol indices if present), a sobol.csv, "
                    "or a directory holding several of them. US cases lead every headline, table and figure; foreign "
                    "(MLAT) cases are shown beside them; rates are in percent; where the evidence was lost is drawn by "
                    "stage. A sweep with investigators and window factors (e.g. staffing_curve) also draws US "
                    "evidence lost against investigators, one line per window, with today's staffing marked.")
    rep.add_argument("inputs", nargs="+", metavar="DIR_OR_FILE",
                     help="a run or sweep directory, a compare JSON file, or a directory holding several")
    rep.add_argument("--out", required=True, metavar="FILE.html", help="the HTML report to write")
    rep.add_argument("--figures", metavar="FIGDIR", help="also write every figure as static files into a new FIGDIR")
    rep.add_argument("--formats", default="png,svg,pdf", help="static formats for --figures (default: png,svg,pdf)")
    rep.set_defaults(func=cmd_report)

