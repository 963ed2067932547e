"""Browser tests: the app served on a real port, driven by Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("PORTAL_SCREENSHOTS", Path(__file__).parents[2] / "screenshots"))

if not Path(CHROMIUM).exists():  # make test says so loudly; this keeps pytest honest too
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)",
                allow_module_level=True)


class LiveServer:
    def __init__(self, app: Flask):
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture
def serve(make_app) -> Iterator[Callable[..., LiveServer]]:
    """serve(**config) starts the app on a free port and returns the server (with .url)."""
    servers: list[LiveServer] = []

    def start(app: Flask | None = None, **overrides) -> LiveServer:
        server = LiveServer(app or make_app(**overrides)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture
def page_without_js(browser):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    """screenshot(page, "name") saves screenshots/name.png for people to look at."""

    def take(page, name: str, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take



@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe.min.js of the pinned axe-core (tests/browser/a11y.py), installed with npm the
    first time. Never skipped: if it cannot be installed, the test fails and says why."""
    from tests.browser.a11y import AxeUnavailable, install_axe

    try:
        return install_axe()
    except AxeUnavailable as error:
        pytest.fail(str(error))
