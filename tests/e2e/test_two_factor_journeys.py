"""Two-factor sign-in in Chromium: an admin scans the QR code, keeps the recovery codes,
and signs in again with a code from the app. The browser runs on the real clock, so the
codes are computed for the real time, as the app on a phone does."""

import time
import uuid

import pyotp
import pytest
from playwright.sync_api import expect

from portal.auth.models import Role, User
from portal.auth.passwords import hash_password
from portal.extensions import db

pytestmark = pytest.mark.e2e

PASSWORD = "lighthouse-admin-9"


@pytest.fixture
def admin_account(live_server):
    email = f"admin-{uuid.uuid4().hex[:8]}@example.org"
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


def sign_in_with_password(page, email):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_an_admin_turns_on_two_factor_and_signs_in_with_a_code(page, admin_account):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in_with_password(page, admin_account)
    expect(page).to_have_url("/admin/")
    page.get_by_role("link", name="Password").click()
    page.get_by_role("link", name="Two-factor sign-in").click()
    page.get_by_role("button", name="Set up two-factor sign-in").click()

    qr = page.get_by_role("img", name="QR code to scan with your authenticator app")
    expect(qr).to_be_visible()
    # The QR code fits a phone's screen: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    secret = page.locator(".otp-secret").inner_text().strip()
    totp = pyotp.TOTP(secret)
    page.get_by_label("Code").fill(totp.now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    page.get_by_role("button", name="I have kept them, continue").click()
    expect(page.get_by_text("Two-factor sign-in is on.").first).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    sign_in_with_password(page, admin_account)
    expect(page).to_have_url("/login/code")
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your sign-in code")
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("That code is not right.").first).to_be_visible()
    expect(page.get_by_label("Code")).to_have_attribute("aria-invalid", "true")
    # The code used to turn it on works once: the app's next one signs in.
    page.get_by_label("Code").fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url("/admin/")
