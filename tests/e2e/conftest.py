"""A live portal and a real Chromium for whole journeys.

Chromium is found on the PATH (Debian's `chromium`) or at CHROMIUM_PATH. Without it the
browser tests are skipped with the reason, except in CI (CI=true), where that fails.
"""

import os
import shutil
import threading
from dataclasses import dataclass

import pytest
from werkzeug.serving import make_server

from portal import create_app
from portal.booking.models import DEFAULT_SETTINGS, BookingSettings
from portal.extensions import db, limiter
from portal.messages import delivery
from tests.conftest import SmtpServer, config_for, mail_settings

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path():
    for candidate in (os.environ.get("CHROMIUM_PATH"), "chromium", "chromium-browser"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


@dataclass
class LiveServer:
    app: object
    url: str


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    path = tmp_path_factory.mktemp("e2e") / "portal.sqlite"
    app = create_app(config_for(f"sqlite:///{path}", WTF_CSRF_ENABLED=True))
    with app.app_context():
        db.create_all()
        db.session.add(BookingSettings(id=1, **DEFAULT_SETTINGS))
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(app=app, url=f"http://127.0.0.1:{server.port}")
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        reason = (
            "Chromium was not found: install it (apt-get install chromium) "
            "or set CHROMIUM_PATH to run the browser tests"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + "; CI requires them.")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    with live_server.app.app_context():
        limiter.reset()
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def smtp(live_server):
    """A real SMTP server, and the live portal delivering to it after each commit."""
    app = live_server.app
    server = SmtpServer()
    server.start()
    app.config["MESSAGES_COURIER"] = True
    try:
        with mail_settings(app, backend="smtp", server="127.0.0.1", port=server.port, timeout=5):
            yield server
    finally:
        app.extensions[delivery.EXTENSION].courier.stop()
        app.config["MESSAGES_COURIER"] = False
        server.stop()


def pytest_collection_modifyitems(items):
    # The live server is Werkzeug's: when the browser drops a connection mid-answer (a
    # navigation before a stylesheet finished), the static file it was sending is closed
    # only by the garbage collector, which Python reports as an unraisable
    # ResourceWarning. That is the test server's, not the portal's.
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(
                pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
            )
