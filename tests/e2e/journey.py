"""What the phone-and-keyboard journeys share: a small clinic with every kind of account,
a browser tab at a given width and language, and axe-core run in that tab."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from playwright.sync_api import expect

from portal.auth.models import Role, User
from portal.auth.passwords import hash_password
from portal.booking.models import Appointment, Status
from portal.directory.models import CareAssignment, Clinic, Department, Doctor, Patient
from portal.extensions import db
from portal.scheduling.models import WeeklyHours

PASSWORD = "orchard-window-37"
PHONE, DESKTOP = 390, 1280
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"


@dataclass
class World:
    tag: str
    admin: str
    doctor: str
    patient: str
    doctor_id: int
    patient_id: int
    department_id: int
    clinic_id: int
    appointment_id: int
    doctor_name: str


def make_user(role, name, tag):
    email = f"{role}-{tag}-{uuid.uuid4().hex[:6]}@example.org"
    user = User(email=email, full_name=name, role=role, password_hash=hash_password(PASSWORD))
    db.session.add(user)
    return user


def build_world(app, *, doctor_name=None):
    """An admin, a doctor working every day around the clock, a patient in the doctor's
    care with one visit ahead and one cancelled, unique to the caller."""
    tag = uuid.uuid4().hex[:6]
    doctor_name = doctor_name or f"Amélie Rousseau {tag}"
    with app.app_context():
        admin = make_user(Role.ADMIN, "Ada Admin", tag)
        doctor_user = make_user(Role.DOCTOR, doctor_name, tag)
        patient_user = make_user(Role.PATIENT, f"Nora Vidal {tag}", tag)
        patient = Patient(user=patient_user, phone="+33 6 12 34 56 78")
        clinic = Clinic(
            name=f"Clinique du Parc {tag}",
            city="Paris",
            country="FR",
            timezone="Europe/Paris",
            address="12 rue des Lilas",
            postal_code="75011",
            phone="+33 1 23 45 67 89",
        )
        department = Department(code=f"gp-{tag}", name=f"General practice {tag}")
        doctor = Doctor(
            user=doctor_user,
            clinic=clinic,
            title="Dr",
            license_number=f"RPPS-{tag}",
            slot_minutes=30,
            departments=[department],
        )
        db.session.add_all([patient, clinic, department, doctor])
        for weekday in range(7):
            db.session.add(
                WeeklyHours(
                    doctor=doctor, weekday=weekday, start_time=time(0), end_time=time(23, 30)
                )
            )
        db.session.flush()
        db.session.add(CareAssignment(doctor_id=doctor.id, patient_id=patient.id))
        # Whole half hours, well ahead of every cutoff, far from the other journeys' times.
        base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        ahead = base + timedelta(days=5, hours=1)
        visit = Appointment(
            patient=patient,
            doctor=doctor,
            clinic=clinic,
            starts_at=ahead,
            ends_at=ahead + timedelta(minutes=30),
            reason="Check-up",
        )
        cancelled = Appointment(
            patient=patient,
            doctor=doctor,
            clinic=clinic,
            starts_at=ahead + timedelta(days=1),
            ends_at=ahead + timedelta(days=1, minutes=30),
            status=Status.CANCELLED,
            cancelled_at=base,
            cancelled_by=patient_user,
        )
        db.session.add_all([visit, cancelled])
        db.session.commit()
        return World(
            tag=tag,
            admin=admin.email,
            doctor=doctor_user.email,
            patient=patient_user.email,
            doctor_id=doctor.id,
            patient_id=patient.id,
            department_id=department.id,
            clinic_id=clinic.id,
            appointment_id=visit.id,
            doctor_name=doctor_name,
        )


def new_page(browser, live_server, *, width=PHONE, locale="en-GB"):
    # The page's CSP forbids inline scripts; axe-core is injected by the test only.
    context = browser.new_context(
        base_url=live_server.url,
        locale=locale,
        viewport={"width": width, "height": 844},
        bypass_csp=True,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def sign_in(page, email, *, landing=None):
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    if landing:
        expect(page).to_have_url(landing)


def axe_violations(page):
    """axe-core's WCAG 2.x A/AA findings on the page as it is now, as readable lines."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    results = page.evaluate(
        """async () => {
            const r = await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
            });
            return r.violations.map(v => v.id + ': ' + v.help + ' -> ' +
                v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
        }"""
    )
    return results


def page_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


def active_element(page):
    """The focused element as `tag#id.class` with its text, for readable assertions."""
    return page.evaluate(
        """() => {
            const e = document.activeElement;
            return {tag: e.tagName.toLowerCase(), id: e.id, name: e.getAttribute('name'),
                    text: (e.innerText || e.value || '').trim().slice(0, 80),
                    classes: e.className || ''};
        }"""
    )


def settled(page):
    """Wait until HTMX has finished every request, swap and settle on the page, so a
    key pressed next lands on what the person would see."""
    page.wait_for_function(
        "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )
