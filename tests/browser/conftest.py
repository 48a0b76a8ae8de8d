"""The web app in headless Chromium (Debian's `chromium`, driven by Playwright; no browser is
downloaded) against a real `taxi run` node per database.

Each test opens as many browser contexts as it has people (a context is a separate browser
profile: its own cookies and its own WebSocket). Screenshots go to test-artifacts/screenshots/
(git-ignored). Without chromium these tests are skipped, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from ..support.databases import BACKENDS
from ..support.node import serving_node
from .app import App, EventRelay

CHROMIUM = os.environ.get("TAXI_CHROMIUM", "chromium")
# A phone: the app must be usable on one (and desktop is wider, not harder).
PHONE = {"width": 390, "height": 844}
# How long expect() waits for the page: Playwright's 5 s is short on a busy 2-core CI machine.
EXPECT_TIMEOUT = 15_000  # ms
# Dispatch in seconds, not minutes, so that a test watches a located request go from driver to
# driver and expire (test_dispatch.py); a request without a location does not dispatch at all.
# Windows of 8 s: at 4 s a loaded CI machine let a window end before the page was checked.
DISPATCH = {"TAXI_OFFER_BATCH": "1", "TAXI_OFFER_SECONDS": "8", "TAXI_REQUEST_TIMEOUT_SECONDS": "18"}


def _missing(what: str, how: str) -> BaseException:
    message = f"{what}; {how}"
    if os.environ.get("CI", "").lower() == "true":
        return pytest.fail.Exception(f"{message} (CI must run the browser tests)", pytrace=False)
    return pytest.skip.Exception(message)


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which(CHROMIUM)
    if executable is None:
        raise _missing(f"no {CHROMIUM!r} browser on PATH", "apt-get install chromium, or set TAXI_CHROMIUM")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        raise _missing("playwright is not installed", "pip install -e '.[test]'") from None
    expect.set_options(timeout=EXPECT_TIMEOUT)
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="session", params=BACKENDS)
def node(request, new_database, tmp_path_factory):
    with new_database(request.param) as url:
        with serving_node(url, tmp_path_factory.mktemp(f"browser-node-{request.param}"), environment=DISPATCH) as node:
            yield node


@pytest.fixture
def screenshots(request) -> Path:
    """test-artifacts/screenshots/<test name>/: where App.shot() saves each screen."""
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    directory = request.config.rootpath / "test-artifacts" / "screenshots" / name
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


@pytest.fixture
def people(browser, node, screenshots):
    """people("rider ann") -> an App on the node's page in a browser context of its own.

    A JavaScript error or dialog (say, an alert() smuggled in as a name) on any page fails the test."""
    contexts, errors = [], []

    def open_app(who: str, viewport: dict = PHONE, relay: bool = False, at: dict | None = None) -> App:
        """relay: the page's WebSocket goes through an EventRelay (app.relay) the test can hold.
        at: {"lat", "lng"} the browser's geolocation says, with the page allowed to read it;
        without it the page is refused geolocation (headless Chromium denies what it would ask)."""
        located = {}
        if at is not None:
            located = {"geolocation": {"latitude": at["lat"], "longitude": at["lng"]}, "permissions": ["geolocation"]}
        context = browser.new_context(viewport=viewport, **located)
        contexts.append(context)
        event_relay = None
        if relay:
            event_relay = EventRelay()
            context.route_web_socket("**/ws", event_relay.route)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{who}: {error}"))
        page.on("dialog", lambda dialog: (errors.append(f"{who}: a dialog {dialog.message!r}"), dialog.dismiss()))
        app = App(page, f"http://127.0.0.1:{node.port}/", who, screenshots)
        app.relay = event_relay
        return app

    yield open_app
    for context in contexts:
        context.close()
    assert errors == [], "JavaScript errors on the page"
