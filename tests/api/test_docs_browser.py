"""Swagger UI in a real Chromium: it loads offline under the strict CSP, and its
Authorize button signs in with the OAuth2 password flow so "Try it out" works."""

import os
import threading
import uuid

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from portal import create_app
from portal.auth.models import Role, User
from portal.auth.passwords import hash_password
from portal.booking.models import DEFAULT_SETTINGS, BookingSettings
from portal.extensions import db
from tests.conftest import config_for
from tests.e2e.conftest import CHROMIUM_ARGS, LiveServer, chromium_path

pytestmark = pytest.mark.e2e

PASSWORD = "lighthouse-admin-9"


# A server and a browser of this module's own, closed when the module ends: Playwright's
# synchronous API allows one running instance at a time, and tests/e2e starts its own.
@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    path = tmp_path_factory.mktemp("api-docs") / "portal.sqlite"
    app = create_app(config_for(f"sqlite:///{path}"))
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
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def page(live_server):
    path = chromium_path()
    if path is None:
        reason = "Chromium was not found: install it or set CHROMIUM_PATH"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + "; CI requires the browser tests.")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=live_server.url, locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(10_000)
        yield page
        context.close()
        browser.close()


@pytest.fixture
def account(live_server):
    email = f"api-{uuid.uuid4().hex[:8]}@example.org"
    with live_server.app.app_context():
        db.session.add(
            User(
                email=email,
                full_name="Ada Admin",
                role=Role.ADMIN,
                password_hash=hash_password(PASSWORD),
            )
        )
        db.session.commit()
    return email


def test_swagger_ui_authorizes_and_calls_the_api(page, live_server, account):
    problems = []
    outside = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith(live_server.url) or request.url.startswith("data:")
            else outside.append(request.url)
        ),
    )
    page.goto("/api/docs")
    expect(page.locator("#operations-Accounts-get_me")).to_be_visible()

    page.locator("button.authorize").first.click()
    page.locator("#oauth_username").fill(account)
    page.locator("#oauth_password").fill(PASSWORD)
    page.locator(".auth-btn-wrapper button.authorize").click()
    expect(page.locator(".auth-container")).to_contain_text("Authorized")
    page.locator(".auth-btn-wrapper button.btn-done").click()

    page.locator("#operations-Accounts-get_me .opblock-summary-control").click()
    page.locator("#operations-Accounts-get_me button.execute").click()
    answer = page.locator("#operations-Accounts-get_me .live-responses-table")
    expect(answer).to_contain_text(account)
    expect(answer).to_contain_text('"role": "admin"')
    assert outside == []
    assert problems == []
