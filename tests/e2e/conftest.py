"""Fixtures for browser tests: the dashboard's Solara server on a free local port, and headless Debian Chromium
driven by Playwright (no browser download: ``executable_path``)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboards import assets
from dashboards.cli import server_env, solara_command

ROOT = Path(__file__).resolve().parents[2]
#: Screenshots and server logs of the browser tests (ignored by git).
ARTIFACTS = Path(os.environ.get("TIPLINE_TEST_ARTIFACTS", Path(__file__).with_name("artifacts")))
CHROMIUM = os.environ.get("TIPLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-default-apps", "--metrics-recording-only"]


def _require_browser() -> None:
    """Fail (or skip with TIPLINE_SKIP_BROWSER=1) when the browser tools are missing."""
    problems = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the playwright package is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        problems.append(f"{CHROMIUM} not found (apt-get install -y chromium)")
    gone = assets.missing(assets.cache_dir())
    if gone:
        problems.append(f"offline Solara assets missing: {', '.join(gone)} (python -m dashboards.assets)")
    if problems:
        message = "browser tests cannot run: " + "; ".join(problems)
        if os.environ.get("TIPLINE_SKIP_BROWSER"):
            pytest.skip(message)
        pytest.fail(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[Any], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Solara server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def dashboard_server(artifacts: Path) -> Iterator[dict[str, Any]]:
    """``solara run dashboards/app.py`` on 127.0.0.1 and a free port, offline asset environment; yields url and log."""
    _require_browser()
    port = free_port()
    log_path = artifacts / "solara-server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(solara_command("127.0.0.1", port), cwd=ROOT, env=server_env(),
                                   stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/"
        try:
            wait_for(url, process)
            yield {"url": url, "log": log_path, "process": process}
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    """Headless Debian Chromium under Playwright."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def browser_page(chromium_browser: Any) -> Iterator[tuple[Any, list[str]]]:
    """A fresh page and the list of every URL it requested."""
    context = chromium_browser.new_context(viewport={"width": 1500, "height": 1700})
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    yield page, requests
    context.close()
