"""Links that come by email, in Chromium: a new patient verifies their address before
booking, and someone who forgot their password sets a new one.

The portal sends for real: its own delivery thread (the no-broker default) hands each
message to an SMTP server in this process (aiosmtpd), and the journeys open the links
found in what that server received."""

import email
import re
import time
import uuid
from email import policy

import pytest
from playwright.sync_api import expect

from portal.auth.models import Role
from tests.e2e.test_booking_journeys import PASSWORD, make_account, make_bookable_doctor

pytestmark = pytest.mark.e2e


def wait_for_mail(server, to, subject, timeout=15):
    """The first message to `to` whose subject contains `subject`, once it arrives."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for _sender, recipients, raw in list(server.received):
            message = email.message_from_bytes(raw, policy=policy.default)
            if to in recipients and subject in str(message["Subject"]):
                return message
        time.sleep(0.1)
    raise AssertionError(f"no message {subject!r} to {to} arrived")


def link_in(message, path):
    text = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"https?://\S+?(" + re.escape(path) + r"[A-Za-z0-9_\-]+)", text)
    assert match, text
    return match.group(1)


def test_a_new_patient_verifies_their_address_then_books(page, live_server, smtp):
    doctor_id, _doctor_email = make_bookable_doctor(live_server.app)
    address = f"nora-{uuid.uuid4().hex[:8]}@example.org"
    page.goto("/register")
    page.get_by_label("Full name").fill("Nora Vidal")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password", exact=True).fill("tulip-harbour-42")
    page.get_by_label("Repeat the password").fill("tulip-harbour-42")
    page.get_by_role("button", name="Create my account").click()
    expect(page).to_have_url("/patient")
    expect(page.get_by_text(f"We sent a link to {address}")).to_be_visible()

    # Not verified yet: the booking panel says so and offers the link again.
    page.goto(f"/doctors/{doctor_id}")
    page.locator("#slot-picker .slots button.slot").first.click()
    notice = page.locator("#verify-email-notice")
    expect(notice).to_contain_text("Confirm your email address before you book")
    expect(page.get_by_role("button", name="Book this appointment")).to_have_count(0)
    notice.get_by_role("button", name="Send the link again").click()
    expect(page.get_by_text(f"We sent a new link to {address}")).to_be_visible()

    message = wait_for_mail(smtp, address, "Confirm your email address")
    page.goto(link_in(message, "/verify-email/"))
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_text("Your email address is confirmed")).to_be_visible()

    page.goto(f"/doctors/{doctor_id}")
    page.locator("#slot-picker .slots button.slot").first.click()
    expect(page.locator("#verify-email-notice")).to_have_count(0)
    page.get_by_role("button", name="Book this appointment").click()
    expect(page.get_by_role("heading", name="You are booked")).to_be_visible()
    confirmation = wait_for_mail(smtp, address, "is confirmed")
    assert confirmation["Subject"].startswith("Your appointment with")


def test_forgot_password_end_to_end(browser, page, live_server, smtp):
    address, _user_id = make_account(live_server.app, Role.PATIENT, "Paul Oubli")
    # Signed in elsewhere: the reset signs that device out.
    other = browser.new_context(base_url=live_server.url, locale="en-GB").new_page()
    other.goto("/login")
    other.get_by_label("Email").fill(address)
    other.get_by_label("Password").fill(PASSWORD)
    other.get_by_role("button", name="Sign in").click()
    expect(other).to_have_url("/patient")

    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(address)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_text("a link to choose a new password is on its way")).to_be_visible()

    message = wait_for_mail(smtp, address, "Reset your password")
    link = link_in(message, "/password/reset/")
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/password/reset$"))  # no secret in the address
    page.get_by_label("New password", exact=True).fill("meadow-lantern-58")
    page.get_by_label("Repeat the new password").fill("meadow-lantern-58")
    page.get_by_role("button", name="Set my new password").click()
    expect(page).to_have_url("/patient")
    expect(page.get_by_text("Your new password is set")).to_be_visible()

    other.goto("/patient")
    expect(other).to_have_url(re.compile(r"/login"))
    other.context.close()

    # The link worked once; the new password signs in.
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link does not work any more")
    page.get_by_role("button", name="Sign out").click()
    page.goto("/login")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password").fill("meadow-lantern-58")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url("/patient")
