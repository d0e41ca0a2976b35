"""When an HTMX request fails (the server answers an error, or the network drops it),
the page says so where the person is looking, in their language, and keeps what they
typed, so that trying again is one click."""

import pytest
from playwright.sync_api import expect

from portal.auth.models import Role
from tests.e2e.test_booking_journeys import make_account, make_bookable_doctor, sign_in

pytestmark = pytest.mark.e2e


def _open_booking(page, live_server, reason):
    doctor_id, _email = make_bookable_doctor(live_server.app)
    email, _user_id = make_account(live_server.app, Role.PATIENT, "Ines Garnier")
    sign_in(page, email)
    page.goto(f"/doctors/{doctor_id}")
    page.locator("#slot-picker .slots a").first.click()
    page.get_by_label("Reason for the visit (optional)").fill(reason)


def _fail_next_booking(page, *, status=None):
    """The next POST of a booking answers `status`, or is cut off (a network error)."""
    failed = []

    def handle(route):
        if route.request.method != "POST" or failed:
            route.continue_()
            return
        failed.append(route.request.url)
        if status is None:
            route.abort("connectionreset")
        else:
            route.fulfill(status=status, body="<h1>Error</h1>", content_type="text/html")

    page.route("**/doctors/*/book", handle)
    return failed


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (500, "Something went wrong on our side"),
        (503, "briefly unavailable"),
        (None, "could not be reached"),
    ],
)
def test_a_failed_booking_says_so_and_keeps_the_reason(page, live_server, status, message):
    _open_booking(page, live_server, "Knee pain since Monday")
    failed = _fail_next_booking(page, status=status)
    page.get_by_role("button", name="Book this appointment").click()

    alert = page.locator("#booking-panel").get_by_role("alert")
    expect(alert).to_contain_text(message)
    expect(alert).to_contain_text("What you entered is kept")
    assert failed
    expect(page.get_by_label("Reason for the visit (optional)")).to_have_value(
        "Knee pain since Monday"
    )

    # Trying again works, and the message goes away.
    page.get_by_role("button", name="Book this appointment").click()
    expect(page.get_by_role("heading", name="You are booked")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text=message)).to_have_count(0)


def test_the_message_is_in_the_persons_language(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        doctor_id, _email = make_bookable_doctor(live_server.app)
        email, _user_id = make_account(live_server.app, Role.PATIENT, "Ines Garnier")
        page.goto("/login")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Mot de passe").fill("orchard-window-37")
        page.locator("main").get_by_role("button").first.click()
        page.goto(f"/doctors/{doctor_id}")
        page.locator("#slot-picker .slots a").first.click()
        _fail_next_booking(page, status=500)
        page.locator("#booking-panel form button[type=submit]").click()
        expect(page.locator("#booking-panel").get_by_role("alert")).to_contain_text(
            "Ce que vous avez saisi est conservé"
        )
    finally:
        context.close()
