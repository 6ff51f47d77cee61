"""Offline browser assets for the dashboard: fill Solara's asset cache from the npm registry once.

The Solara server normally proxies its JavaScript and CSS from cdn.jsdelivr.net (``/_solara/cdn/...``).
This module downloads the exact packages the page requests with ``npm pack`` (the npm registry's own
client, which checks each tarball's integrity) and unpacks them where the server looks first, so the
dashboard never needs the internet afterwards. Run it once per virtualenv (``make`` does)::

    python -m dashboards.assets            # into <venv>/share/solara/cdn (Solara's default cache)
    python -m dashboards.assets --check    # exit 1 and list what is missing

``offline_env()`` is the environment ``tipline dashboard`` and the browser tests start Solara with: the
cache directory, telemetry off, and the CDN address pointed at an unused local port, so a missing file
fails loudly instead of being fetched from the internet.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path

#: npm packages requested by Solara 1.64 with ipyvue/ipyvuetify 1.x, as ``(request name, npm spec, a file that must exist)``.
#: The request name is the directory in the URL (``/_solara/cdn/<name>/...``).
PACKAGES: tuple[tuple[str, str, str], ...] = (
    ("@widgetti/solara-vuetify-app@10.1.1", "@widgetti/solara-vuetify-app@10.1.1", "dist/fonts.css"),
    ("requirejs@2.3.6", "requirejs@2.3.6", "require.js"),
    ("font-awesome@4.5.0", "font-awesome@4.5.0", "css/font-awesome.min.css"),
    ("@widgetti/vue-grid-layout@2.3.13-alpha.2", "@widgetti/vue-grid-layout@2.3.13-alpha.2", "dist/vue-grid-layout.umd.js"),
    ("mermaid@10.8.0", "mermaid@10.8.0", "dist/mermaid.min.js"),  # loaded by solara.Markdown
    ("katex@0.16.9", "katex@0.16.9", "dist/contrib/auto-render.min.js"),  # loaded by solara.Markdown
)
#: Only needed by Altair charts (not used by the tipline dashboard); ``--with-altair`` adds them.
ALTAIR_PACKAGES: tuple[tuple[str, str, str], ...] = (
    ("vega@5", "vega@5", "build/vega.min.js"),
    ("vega-lite@5", "vega-lite@5", "build/vega-lite.min.js"),
    ("vega-embed@6", "vega-embed@6", "build/vega-embed.min.js"),
)
#: An address nothing listens on (port 9, "discard"): where the server would fetch a missing asset.
DEAD_CDN = "http://127.0.0.1:9/npm/"


def default_cache_dir() -> Path:
    """Solara's default asset cache of this Python environment (``<prefix>/share/solara/cdn``)."""
    return Path(sys.prefix) / "share" / "solara" / "cdn"


def cache_dir() -> Path:
    """The asset cache in use: ``$SOLARA_ASSETS_PROXY_CACHE_DIR`` if set, else the default."""
    env = os.environ.get("SOLARA_ASSETS_PROXY_CACHE_DIR")
    return Path(env) if env else default_cache_dir()


def missing(directory: Path, packages: tuple[tuple[str, str, str], ...] = PACKAGES) -> list[str]:
    """Request names of the packages whose marker file is absent from `directory`."""
    return [name for name, _, marker in packages if not (directory / name / marker).is_file()]


def offline_env(directory: Path | None = None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment variables for an offline Solara server using the asset cache `directory`."""
    env = dict(os.environ if base is None else base)
    env.update({
        "SOLARA_ASSETS_PROXY_CACHE_DIR": str(directory or cache_dir()),
        "SOLARA_ASSETS_PROXY": "true",
        "SOLARA_ASSETS_CDN": DEAD_CDN,
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
        "SOLARA_TELEMETRY_SENTRY_ENABLE": "false",
    })
    return env


def install(directory: Path, packages: tuple[tuple[str, str, str], ...] = PACKAGES, npm: str = "npm") -> list[str]:
    """Download the packages missing from `directory` with ``npm pack`` and unpack them; return their names."""
    todo = [p for p in packages if p[0] in missing(directory, packages)]
    if not todo:
        return []
    if shutil.which(npm) is None:
        raise RuntimeError("npm is needed once to fetch the dashboard's browser assets (apt-get install -y npm)")
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec, _ in todo:
            before = set(Path(tmp).iterdir())
            subprocess.run([npm, "pack", spec, "--silent", "--pack-destination", tmp], check=True,
                           stdout=subprocess.DEVNULL)
            (tarball,) = set(Path(tmp).iterdir()) - before
            target = directory / name
            staging = Path(tempfile.mkdtemp(prefix=".staging.", dir=directory))
            try:
                with tarfile.open(tarball) as tar:
                    tar.extractall(staging, filter="data")
                (root,) = list(staging.iterdir())  # npm tarballs have one top directory ("package")
                if target.exists():
                    shutil.rmtree(target)
                target.parent.mkdir(parents=True, exist_ok=True)
                root.rename(target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    return [name for name, _, _ in todo]


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m dashboards.assets [--dir DIR] [--check] [--with-altair]``."""
    parser = argparse.ArgumentParser(prog="python -m dashboards.assets", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=None, help=f"asset cache (default: {cache_dir()})")
    parser.add_argument("--check", action="store_true", help="only report missing packages (exit 1 if any)")
    parser.add_argument("--with-altair", action="store_true", help="also fetch vega, vega-lite, vega-embed")
    args = parser.parse_args(argv)
    directory = args.dir or cache_dir()
    packages = PACKAGES + (ALTAIR_PACKAGES if args.with_altair else ())
    if args.check:
        gone = missing(directory, packages)
        print(f"{directory}: " + (f"missing {', '.join(gone)}" if gone else "complete"))
        return 1 if gone else 0
    done = install(directory, packages)
    print(f"{directory}: " + (f"installed {', '.join(done)}" if done else "already complete"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
