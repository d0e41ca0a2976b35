"""Booking in Chromium: book, see, cancel, and two patients racing for one slot."""

import uuid
from datetime import time

import pytest
from playwright.sync_api import expect

from portal.auth.models import Role, User
from portal.auth.passwords import hash_password
from portal.directory.models import Clinic, Doctor, Patient
from portal.extensions import db
from portal.scheduling.models import WeeklyHours

pytestmark = pytest.mark.e2e
PASSWORD = "orchard-window-37"


def make_account(app, role, name):
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.org"
    with app.app_context():
        user = User(email=email, full_name=name, role=role, password_hash=hash_password(PASSWORD))
        db.session.add(user)
        if role == Role.PATIENT:
            db.session.add(Patient(user=user))
        db.session.commit()
        return email, user.id


def make_bookable_doctor(app, *, hours=True):
    email, user_id = make_account(app, Role.DOCTOR, f"Doctor {uuid.uuid4().hex[:4]}")
    with app.app_context():
        clinic = Clinic(
            name="Clinique du Parc",
            city="Paris",
            country="FR",
            timezone="Europe/Paris",
            address="12 rue des Lilas",
        )
        doctor = Doctor(
            user_id=user_id,
            clinic=clinic,
            title="Dr",
            license_number=uuid.uuid4().hex[:10],
            slot_minutes=30,
        )
        db.session.add(doctor)
        for weekday in range(7 if hours else 0):
            db.session.add(
                WeeklyHours(
                    doctor=doctor, weekday=weekday, start_time=time(0), end_time=time(23, 30)
                )
            )
        db.session.commit()
        return doctor.id, email


def sign_in(page, email, home="/patient"):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(home)


def test_a_doctor_sets_hours_and_a_patient_books_them_then_cancels(browser, live_server, page):
    doctor_id, doctor_email = make_bookable_doctor(live_server.app, hours=False)
    doctor_context = browser.new_context(base_url=live_server.url, locale="en-GB")
    doctor_page = doctor_context.new_page()
    doctor_page.set_default_timeout(10_000)
    # A doctor with no weekly hours yet starts by setting them.
    sign_in(doctor_page, doctor_email, home="/doctor/hours/start")
    doctor_page.get_by_role("link", name="Weekly hours").click()
    for weekday in range(7):
        block = doctor_page.locator(f"#add-interval-{weekday}")
        block.get_by_label("Start").fill("08:00")
        block.get_by_label("End").fill("18:00")
        block.get_by_role("button", name="Add interval").click()
        expect(doctor_page.locator(f"#day-{weekday}")).to_contain_text("8:00")
    doctor_context.close()

    email, _user_id = make_account(live_server.app, Role.PATIENT, "Nora Vidal")
    sign_in(page, email)
    page.goto(f"/doctors/{doctor_id}")
    # Three days ahead, well before the cancellation cutoff.
    page.locator(".day-strip a.day").nth(3).click()
    expect(page.locator(".day-strip a.day").nth(3)).to_have_attribute("aria-current", "date")
    first = page.locator("#slot-picker .slots button").first
    expect(first).to_have_text("8:00 AM")
    first.click()
    page.get_by_label("Reason for the visit (optional)").fill("Back pain")
    page.get_by_role("button", name="Book this appointment").click()
    expect(page.get_by_role("heading", name="You are booked")).to_be_visible()
    expect(page.locator("#slot-picker .slots button", has_text="8:00 AM")).to_have_count(0)

    page.get_by_role("link", name="My appointments").first.click()
    item = page.locator(".appointment").first
    expect(item).to_contain_text("Back pain")
    item.get_by_text("Cancel or move").click()
    item.get_by_label("Reason (optional)").fill("Feeling better")
    item.get_by_role("button", name="Cancel this appointment").click()
    expect(page.locator(".appointment").first).to_contain_text("You cancelled this appointment.")
    # The outcome takes the focus and the live region says it.
    expect(page.locator(".appointment").first.locator("[data-announce]")).to_be_focused()
    expect(page.locator("#live-status")).to_contain_text("You cancelled this appointment.")

    page.goto(f"/doctors/{doctor_id}")
    page.locator(".day-strip a.day").nth(3).click()
    expect(page.locator("#slot-picker .slots button").first).to_have_text("8:00 AM")


def test_a_second_browser_booking_the_same_slot_is_told_it_was_just_taken(browser, live_server):
    doctor_id, _email = make_bookable_doctor(live_server.app)
    pages = []
    for name in ("Alice Moreau", "Bruno Lefèvre"):
        email, _user_id = make_account(live_server.app, Role.PATIENT, name)
        context = browser.new_context(base_url=live_server.url, locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(10_000)
        sign_in(page, email)
        page.goto(f"/doctors/{doctor_id}")
        page.locator("#slot-picker .slots button").first.click()
        page.get_by_label("Reason for the visit (optional)").fill(f"Visit for {name}")
        pages.append(page)
    # Both press "Book" at the same moment.
    for page in pages:
        page.evaluate("document.querySelector('#booking-panel button[type=submit]').click()")
    outcomes = []
    for page in pages:
        page.wait_for_selector("#booked-heading, .form-errors")
        outcomes.append("booked" if page.locator("#booked-heading").count() else "taken")
    assert sorted(outcomes) == ["booked", "taken"]
    loser = pages[outcomes.index("taken")]
    expect(loser.get_by_role("alert")).to_contain_text("just taken")
    reason = loser.get_by_label("Reason for the visit (optional)")
    expect(reason).to_have_value(
        f"Visit for {['Alice Moreau', 'Bruno Lefèvre'][outcomes.index('taken')]}"
    )
    for page in pages:
        page.context.close()
