"""The clinic's working day in Chromium, at phone and desktop widths, in English and
French: the front desk books for a phone caller, a doctor reads the week and blocks a day,
then a few hours, cancelling the visits in them. Every page of these journeys is checked
with axe-core, and none may scroll sideways."""

import os
import uuid
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from portal.auth.models import Role, User
from portal.auth.passwords import hash_password
from portal.booking.models import Appointment, Status
from portal.directory.models import Clinic, Doctor, Patient
from portal.extensions import db
from portal.scheduling.models import WeeklyHours

pytestmark = pytest.mark.e2e

PASSWORD = "harbour-lantern-42"
PHONE, DESKTOP = 390, 1280
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
PARIS = ZoneInfo("Europe/Paris")
# How a patient without an email is told apart, in each language of the journeys.
NO_EMAIL = {
    "en-GB": {"optional": "Email (optional)", "shown": "No email"},
    "fr-FR": {"optional": "Adresse e-mail (facultatif)", "shown": "Pas d\u2019adresse e-mail"},
}
# Screenshots of the pages, for people to look at (not compared): set SHOTS to a folder.
SHOTS = os.environ.get("FRONT_DESK_SHOTS")


def user(role, name, tag):
    email = f"{role}-{tag}-{uuid.uuid4().hex[:4]}@example.org"
    record = User(email=email, full_name=name, role=role, password_hash=hash_password(PASSWORD))
    db.session.add(record)
    return record


def a_weekday_ahead(days):
    """A clinic-local weekday at least `days` ahead (browser tests run on the real clock)."""
    day = datetime.now(PARIS).date() + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@pytest.fixture
def clinic_day(live_server):
    """An admin, a doctor working weekdays 9 to 17, and a patient with a visit ahead."""
    tag = uuid.uuid4().hex[:6]
    app = live_server.app
    with app.app_context():
        admin = user(Role.ADMIN, "Ada Admin", tag)
        doctor_user = user(Role.DOCTOR, f"Hélène Marchand {tag}", tag)
        patient_user = user(Role.PATIENT, f"Noé Caller {tag}", tag)
        clinic = Clinic(
            name=f"Clinique des Quais {tag}", city="Lyon", country="FR", timezone="Europe/Paris"
        )
        doctor = Doctor(user=doctor_user, clinic=clinic, title="Dr", license_number=f"RPPS-{tag}")
        patient = Patient(user=patient_user, phone=f"+33 6 {tag[:2]} 00 00 00")
        db.session.add_all([clinic, doctor, patient])
        for weekday in range(5):
            db.session.add(
                WeeklyHours(doctor=doctor, weekday=weekday, start_time=time(9), end_time=time(17))
            )
        day = a_weekday_ahead(8)
        start = datetime.combine(day, time(10), PARIS).astimezone(UTC)
        visit = Appointment(
            patient=patient,
            doctor=doctor,
            clinic=clinic,
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            status=Status.CONFIRMED,
            reason="Follow-up",
        )
        db.session.add(visit)
        db.session.commit()
        return {
            "admin": admin.email,
            "doctor": doctor_user.email,
            "doctor_id": doctor.id,
            "patient_id": patient.id,
            "patient_name": patient_user.full_name,
            "visit_id": visit.id,
            "visit_day": day,
            "tag": tag,
        }


def open_tab(browser, live_server, width, locale):
    # The CSP forbids inline scripts; axe-core is injected by the test only.
    context = browser.new_context(
        base_url=live_server.url,
        locale=locale,
        viewport={"width": width, "height": 844},
        bypass_csp=True,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def sign_in(page, email):
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()


def axe_violations(page):
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async () => {
            const r = await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
            });
            return r.violations.map(v => v.id + ': ' + v.help + ' -> ' +
                v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
        }"""
    )


def check_page(page, width, name):
    """No sideways scroll in the page's own content, and nothing for axe-core to report."""
    page.wait_for_load_state("networkidle")
    content_width = page.evaluate("document.querySelector('main').scrollWidth")
    assert content_width <= width, f"{name}: the content is {content_width}px wide"
    assert axe_violations(page) == [], name
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
def test_the_front_desk_books_for_a_phone_caller(browser, live_server, clinic_day, width, locale):
    page = open_tab(browser, live_server, width, locale)
    try:
        sign_in(page, clinic_day["admin"])
        page.wait_for_url("**/admin/")
        # From the doctor's free times: a time, then the caller, who is new.
        page.goto(f"/admin/doctors/{clinic_day['doctor_id']}/book")
        check_page(page, width, f"front-desk-doctor-picker-{locale}")
        page.locator("#slot-picker .day-strip a:not(.day-full)").first.click()
        slot = page.locator("#slot-picker .slots button.slot").first
        expect(slot).to_be_visible()
        slot.click()
        panel = page.locator("#booking-panel")
        expect(panel.locator("#choose-patient-heading")).to_be_visible()
        check_page(page, width, f"front-desk-choose-patient-{locale}")
        tag = uuid.uuid4().hex[:6]
        phone = f"+33 6 {uuid.uuid4().int % 10**8:08d}"
        # The caller has no email: a name and a phone are enough.
        panel.locator("input[name=full_name]").fill(f"Walk In {tag}")
        panel.locator("input[name=phone]").fill(phone)
        expect(panel.locator("label[for=email]")).to_have_text(NO_EMAIL[locale]["optional"])
        expect(panel.locator("input[name=email]")).to_have_value("")
        panel.locator("form[action$='/walk-in'] button[type=submit]").click()
        page.wait_for_url("**/admin/patients/*")
        expect(page.locator("#visits .visit-list li")).to_have_count(1)
        expect(page.locator("#patient-contact")).to_have_text(
            f"{NO_EMAIL[locale]['shown']} · {phone}"
        )
        check_page(page, width, f"front-desk-patient-record-{locale}")
        page.locator("#visits .visit-list li a").first.click()
        page.wait_for_url("**/admin/appointments/*")
        check_page(page, width, f"front-desk-appointment-{locale}")

        # From a patient's record: move their visit, then cancel it inside the cutoff.
        page.goto(f"/admin/patients/{clinic_day['patient_id']}")
        visit = page.locator(f"#visit-{clinic_day['visit_id']}")
        visit.locator("a[href$='/move']").click()
        check_page(page, width, f"front-desk-move-{locale}")
        page.locator("#slot-picker .slots button.slot").first.click()
        # Moving asks first, as it does for patients.
        expect(page.locator("#confirm-move")).to_be_focused()
        page.locator("#confirm-move").click()
        page.wait_for_url(f"**/admin/patients/{clinic_day['patient_id']}*")
        visit = page.locator(f"#visit-{clinic_day['visit_id']}")
        visit.locator("summary").click()
        visit.locator("input[name=reason]").fill("Called to cancel")
        visit.locator("button[type=submit]").click()
        expect(
            page.locator(f"#visits .status-cancelled#visit-{clinic_day['visit_id']}")
        ).to_be_visible()

        # The appointments list finds the patient by phone.
        page.goto("/admin/appointments", wait_until="load")
        page.locator("#filter-patient").fill(phone[-8:])
        page.locator("#filter-patient").press("Enter")
        page.wait_for_url("**/admin/appointments?*")
        check_page(page, width, f"front-desk-appointments-{locale}")
        expect(page.locator("tbody tr")).to_have_count(1)
    finally:
        page.context.close()


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_a_doctor_blocks_a_day_and_cancels_its_visits(browser, live_server, clinic_day, width):
    page = open_tab(browser, live_server, width, "en-GB")
    try:
        sign_in(page, clinic_day["doctor"])
        page.wait_for_url("**/doctor")
        day = clinic_day["visit_day"]
        page.goto(f"/doctor/schedule?day={day.isoformat()}&view=week")
        block = page.locator(f"#week-appointment-{clinic_day['visit_id']}")
        expect(block).to_be_visible()  # on a phone, the day asked is the one shown
        check_page(page, width, "doctor-week")
        if width == DESKTOP:
            expect(page.locator(".week-day")).to_have_count(7)
            boxes = page.locator(".week-day").evaluate_all(
                "days => days.map(d => d.getBoundingClientRect().left)"
            )
            assert boxes == sorted(boxes)  # side by side
            assert len(set(boxes)) == 7
        else:
            expect(page.locator(".week-day:visible")).to_have_count(1)

        page.get_by_role("link", name="Days off").click()
        check_page(page, width, "doctor-days-off")
        page.locator("input[name=first_day]").fill(day.isoformat())
        page.locator("input[name=reason]").fill("Medical congress")
        page.get_by_role("button", name="Take these days off").click()
        expect(page.get_by_role("heading", name="1 visit is booked on these days")).to_be_focused()
        expect(page.get_by_text(clinic_day["patient_name"])).to_be_visible()
        check_page(page, width, "doctor-days-off-visits")
        page.get_by_role("button", name="Take the days off and cancel these visits").click()
        page.wait_for_url("**/doctor/schedule?*view=week")
        expect(page.locator(f"#week-appointment-{clinic_day['visit_id']}")).to_have_class(
            "week-visit visit-cancelled gr-s9 gr-n2"
        )
        expect(page.locator(".week-day.is-selected .week-off")).to_have_count(1)
        check_page(page, width, "doctor-week-after-days-off")

        page.goto("/doctor/hours")
        check_page(page, width, "doctor-weekly-hours")
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < (2600 if width == PHONE else 1800), f"the hours page is {height}px tall"

        # A few hours off over another booked visit: listed first, then cancelled.
        later = another_visit(live_server, clinic_day, days=12, at=time(14))
        page.get_by_role("link", name="Time off", exact=True).click()
        page.wait_for_url("**/doctor/time-off")
        check_page(page, width, "doctor-time-off")
        page.locator("input[name=starts_at]").fill(f"{later['day'].isoformat()}T15:00")
        page.locator("input[name=ends_at]").fill(f"{later['day'].isoformat()}T13:30")
        page.get_by_role("button", name="Add time off").click()
        expect(page.locator("#ends_at")).to_be_focused()  # the end is before the start
        check_page(page, width, "doctor-time-off-error")
        page.locator("input[name=starts_at]").fill(f"{later['day'].isoformat()}T13:30")
        page.locator("input[name=ends_at]").fill(f"{later['day'].isoformat()}T15:00")
        page.get_by_role("button", name="Add time off").click()
        heading = page.get_by_role("heading", name="1 visit is booked during this time off")
        expect(heading).to_be_focused()
        expect(page.locator(".time-off-visits")).to_contain_text(clinic_day["patient_name"])
        expect(page.locator(".time-off-visits")).to_contain_text("2:00 PM")
        check_page(page, width, "doctor-time-off-visits")
        page.locator("input[name=reason]").fill("Hospital shift")
        page.get_by_role("button", name="Cancel these visits and tell the patients").click()
        page.wait_for_url("**/doctor/time-off")
        expect(
            page.get_by_text("1 visit is cancelled; the patient sees your reason.")
        ).to_be_visible()
        expect(page.locator(".time-off-list")).to_contain_text("Hospital shift")
        check_page(page, width, "doctor-time-off-after")
        with live_server.app.app_context():
            visit = db.session.get(Appointment, later["visit_id"])
            assert (visit.status, visit.cancel_reason) == (Status.CANCELLED, "Hospital shift")
    finally:
        page.context.close()


def another_visit(live_server, clinic_day, *, days, at):
    """A second confirmed visit of the clinic day's patient, on a weekday `days` ahead."""
    day = a_weekday_ahead(days)
    with live_server.app.app_context():
        doctor = db.session.get(Doctor, clinic_day["doctor_id"])
        start = datetime.combine(day, at, PARIS).astimezone(UTC)
        visit = Appointment(
            patient_id=clinic_day["patient_id"],
            doctor=doctor,
            clinic_id=doctor.clinic_id,
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            status=Status.CONFIRMED,
            reason="Results",
        )
        db.session.add(visit)
        db.session.commit()
        return {"day": day, "visit_id": visit.id}


def test_clinic_closures_page(browser, live_server, clinic_day):
    for width in (PHONE, DESKTOP):
        page = open_tab(browser, live_server, width, "en-GB")
        try:
            sign_in(page, clinic_day["admin"])
            page.wait_for_url("**/admin/")
            with live_server.app.app_context():
                clinic_id = db.session.get(Doctor, clinic_day["doctor_id"]).clinic_id
            page.goto(f"/admin/clinics/{clinic_id}/edit")
            check_page(page, width, "admin-clinic-closures")
        finally:
            page.context.close()


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_a_new_doctor_starts_with_weekly_hours(browser, live_server, width):
    tag = uuid.uuid4().hex[:6]
    with live_server.app.app_context():
        doctor_user = user(Role.DOCTOR, f"Inès Nouvelle {tag}", tag)
        clinic = Clinic(
            name=f"Clinique {tag}", city="Nantes", country="FR", timezone="Europe/Paris"
        )
        db.session.add(Doctor(user=doctor_user, clinic=clinic, license_number=f"NEW-{tag}"))
        db.session.commit()
        email = doctor_user.email
    page = open_tab(browser, live_server, width, "en-GB")
    try:
        sign_in(page, email)
        page.wait_for_url("**/doctor/hours/start")
        check_page(page, width, "doctor-start")
        page.get_by_role("button", name="Save these hours").click()
        page.wait_for_url("**/doctor/hours")
        expect(page.locator("#day-4 .interval-time")).to_have_count(1)
        page.goto("/doctor/schedule")
        check_page(page, width, "doctor-day")
    finally:
        page.context.close()
