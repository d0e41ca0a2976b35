"""Booking on a phone with the keyboard: focus follows every step and a live region says
it; the chosen day stays in view; the chosen time survives creating an account."""

import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.journey import (
    DESKTOP,
    PASSWORD,
    PHONE,
    active_element,
    axe_violations,
    build_world,
    new_page,
    page_width,
    settled,
    sign_in,
)
from tests.e2e.test_account_links_journeys import link_in, wait_for_mail

pytestmark = pytest.mark.e2e


def live_status(page):
    return page.locator("#live-status")


def assert_fits_and_passes_axe(page, step):
    assert page_width(page) <= PHONE, step
    assert axe_violations(page) == [], step


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
def test_a_patient_books_with_the_keyboard_and_focus_follows(browser, live_server, locale):
    world = build_world(live_server.app)
    page = new_page(browser, live_server, width=PHONE, locale=locale)
    sign_in(page, world.patient)
    page.goto(f"/doctors/{world.doctor_id}")
    assert_fits_and_passes_axe(page, "doctor page")

    # A day far along the strip: once chosen it is scrolled into view and its heading
    # takes the focus.
    page.locator(".day-strip a.day").nth(10).press("Enter")
    expect(page.locator(".day-strip a.day").nth(10)).to_have_attribute("aria-current", "date")
    expect(page.locator("#slots-heading")).to_be_focused()
    heading = page.locator("#slots-heading").inner_text()
    expect(live_status(page)).to_contain_text(heading)
    chosen = page.locator(".day-strip a[aria-current=date]").bounding_box()
    strip = page.locator(".day-strip").bounding_box()
    assert strip["x"] <= chosen["x"]
    assert chosen["x"] + chosen["width"] <= strip["x"] + strip["width"]
    assert_fits_and_passes_axe(page, "day chosen")

    # The times are buttons: Space opens the panel, whose reason field takes the focus.
    first = page.locator("#slot-picker .slots button").first
    assert first.evaluate("e => e.tagName") == "BUTTON"
    settled(page)
    first.press("Space")
    reason = page.locator("#booking-panel textarea[name=reason]")
    expect(reason).to_be_focused()
    expect(live_status(page)).to_contain_text(
        "Confirm your appointment" if locale == "en-GB" else "Confirmez"
    )
    assert_fits_and_passes_axe(page, "panel open")

    reason.fill("Back pain")
    page.keyboard.press("Tab")
    assert active_element(page)["tag"] == "button"
    page.keyboard.press("Enter")
    expect(page.locator("#booked-heading")).to_be_focused()
    assert active_element(page)["id"] == "booked-heading"
    expect(live_status(page)).to_contain_text(page.locator("#booked-heading").inner_text())
    assert_fits_and_passes_axe(page, "booked")
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    assert axe_violations(page) == []
    page.context.close()


def test_moving_a_visit_asks_before_moving_it(browser, live_server):
    world = build_world(live_server.app)
    page = new_page(browser, live_server, width=PHONE)
    sign_in(page, world.patient)
    page.goto(f"/appointments/{world.appointment_id}/reschedule")
    page.locator(".day-strip a.day").nth(8).click()
    expect(page.locator("#slots-heading")).to_be_focused()
    settled(page)
    page.locator("#slot-picker .slots button").first.press("Space")
    question = page.locator("#move-heading")
    expect(question).to_contain_text("Move from")
    expect(question).to_contain_text("?")
    expect(page.locator("#confirm-move")).to_be_focused()
    assert_fits_and_passes_axe(page, "move panel")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/appointments")
    expect(page.locator("#flashes")).to_contain_text("Your appointment is moved.")
    page.context.close()


def test_a_visitor_picks_a_time_creates_an_account_and_lands_back_on_it(browser, live_server, smtp):
    world = build_world(live_server.app)
    page = new_page(browser, live_server, width=PHONE)
    page.goto(f"/doctors/{world.doctor_id}")
    page.locator(".day-strip a.day").nth(4).click()
    expect(page.locator(".day-strip a.day").nth(4)).to_have_attribute("aria-current", "date")
    settled(page)
    first = page.locator("#slot-picker .slots button").first
    chosen = first.get_attribute("value")
    first.click()

    # Signing in is asked for, and the page says why.
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.locator("#flashes")).to_contain_text("Sign in or create an account to book")
    expect(page.locator("#flashes")).to_contain_text(world.doctor_name)
    assert_fits_and_passes_axe(page, "sign in, with the reason")

    page.get_by_role("link", name="Create an account").last.click()
    expect(page.locator("#why-register")).to_be_visible()
    assert_fits_and_passes_axe(page, "register, with the reason")
    page.get_by_label("Full name").fill("Léa Martin")
    address = f"lea-{uuid.uuid4().hex[:8]}@example.org"
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password", exact=True).fill(PASSWORD + "-new")
    page.get_by_label("Repeat the password").fill(PASSWORD + "-new")
    page.get_by_role("button", name="Create my account").click()

    # Back on the chosen time; booking waits until the address is confirmed.
    expect(page.locator("#confirm-heading")).to_be_visible()
    assert page.locator("#booking-panel input[name=start]").get_attribute("value") == chosen
    expect(page.locator("#verify-email-notice")).to_be_visible()
    assert_fits_and_passes_axe(page, "back on the chosen time")

    # The link in the email confirms it and comes back to the same time, ready to book.
    message = wait_for_mail(smtp, address, "Confirm your email address")
    page.goto(link_in(message, "/verify-email/"))
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.locator("#confirm-heading")).to_be_visible()
    assert page.locator("#booking-panel input[name=start]").get_attribute("value") == chosen
    expect(page.locator("textarea[name=reason]")).to_be_focused()
    page.get_by_role("button", name="Book this appointment").click()
    expect(page.locator("#booked-heading")).to_be_focused()
    page.context.close()


def test_find_a_doctor_ignores_accents_and_offers_times_that_open_the_panel(browser, live_server):
    tag = uuid.uuid4().hex[:6]
    world = build_world(live_server.app, doctor_name=f"Amélie Zéphyrine {tag}")
    page = new_page(browser, live_server, width=PHONE)
    sign_in(page, world.patient)
    page.goto(f"/find?q=amelie zephyrine {tag}")
    card = page.locator(f"#doctor-{world.doctor_id}")
    expect(card).to_contain_text(world.doctor_name)
    assert_fits_and_passes_axe(page, "results")
    times = card.locator(".next-times button")
    assert times.count() >= 1
    chosen = times.first.get_attribute("value")
    times.first.click()
    expect(page.locator("#confirm-heading")).to_be_visible()
    assert page.locator("input[name=start]").get_attribute("value") == chosen
    page.context.close()
