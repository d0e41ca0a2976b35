"""Whole journeys in Chromium: an admin onboards a doctor, the doctor activates the
account and sets weekly hours, and a visitor finds the doctor in the directory."""

import uuid

import pytest
from playwright.sync_api import expect

from portal.auth.models import Role, User
from portal.auth.passwords import hash_password
from portal.directory.models import Clinic, Department
from portal.extensions import db

pytestmark = pytest.mark.e2e

ADMIN_PASSWORD = "lighthouse-admin-9"


@pytest.fixture
def directory(live_server):
    """An admin, a clinic in a city of its own and a department, unique to this test."""
    tag = uuid.uuid4().hex[:6]
    with live_server.app.app_context():
        db.session.add(
            User(
                email=f"admin-{tag}@example.org",
                full_name="Ada Admin",
                role=Role.ADMIN,
                password_hash=hash_password(ADMIN_PASSWORD),
            )
        )
        db.session.add(
            Clinic(
                name=f"Clinique du Lac {tag}",
                city=f"Annecy {tag}",
                country="FR",
                timezone="Europe/Paris",
            )
        )
        db.session.add(Department(code=f"derm-{tag}", name=f"Dermatology {tag}"))
        db.session.commit()
    return {
        "admin": f"admin-{tag}@example.org",
        "clinic": f"Clinique du Lac {tag} (Annecy {tag})",
        "city": f"Annecy {tag}",
        "department": f"Dermatology {tag}",
        "doctor_email": f"camille-{tag}@example.org",
        "doctor_name": f"Camille Durand {tag}",
        "licence": f"RPPS-{tag}",
    }


def sign_in(page, email, password):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_an_onboarded_doctor_activates_sets_hours_and_is_found(
    browser, live_server, page, directory
):
    # The admin onboards the doctor in one form.
    sign_in(page, directory["admin"], ADMIN_PASSWORD)
    expect(page).to_have_url("/admin/")
    page.get_by_role("navigation", name="Administration").get_by_role(
        "link", name="Doctors"
    ).click()
    page.get_by_role("button", name="Onboard a doctor").click()
    page.get_by_label("Full name").fill(directory["doctor_name"])
    page.get_by_label("Email").fill(directory["doctor_email"])
    page.get_by_label("Title", exact=True).fill("Dr")
    page.get_by_label("Licence number").fill(directory["licence"])
    page.get_by_label("Clinic").select_option(label=directory["clinic"])
    page.get_by_label(directory["department"]).check()
    page.get_by_label("Years of experience").fill("9")
    page.get_by_label("Consultation fee").fill("50")
    page.get_by_label("Biography (English)").fill("Skin and allergies.")
    page.get_by_role("button", name="Onboard doctor").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"{directory['doctor_name']} is onboarded"
    )
    link = page.get_by_label("Activation link").input_value()
    assert link.startswith(live_server.url + "/activate/")
    expect(page.get_by_text("It works once, until")).to_be_visible()

    # The doctor opens the link in a browser of their own and sets a password.
    doctor_context = browser.new_context(base_url=live_server.url, locale="en-GB")
    try:
        doctor = doctor_context.new_page()
        doctor.set_default_timeout(10_000)
        doctor.goto(link)
        doctor.get_by_label("New password", exact=True).fill("granite-meadow-58")
        doctor.get_by_label("Repeat the new password").fill("granite-meadow-58")
        doctor.get_by_role("button", name="Set my password").click()
        # A new doctor has no weekly hours yet: they start by setting them.
        expect(doctor).to_have_url("/doctor/hours/start")
        expect(doctor.get_by_role("button", name="Sign out")).to_be_visible()
        expect(doctor.get_by_role("heading", level=1)).to_have_text("Set your weekly hours")

        # ... and chooses to set them day by day, adding Monday morning.
        doctor.get_by_role("link", name="Set them day by day").click()
        expect(doctor).to_have_url("/doctor/hours")
        monday = doctor.locator("#add-interval-0")
        monday.get_by_label("Start").fill("09:00")
        monday.get_by_label("End").fill("12:00")
        monday.get_by_role("button", name="Add interval").click()
        expect(doctor.locator("#day-0 .interval-time")).to_have_count(1)
        expect(doctor.locator("#day-0 .interval-time")).to_contain_text("12")
    finally:
        doctor_context.close()

    # A visitor finds the doctor by department and city.
    visitor_context = browser.new_context(base_url=live_server.url, locale="en-GB")
    try:
        visitor = visitor_context.new_page()
        visitor.set_default_timeout(10_000)
        visitor.goto("/find")
        visitor.get_by_label("Department").select_option(label=directory["department"])
        visitor.get_by_label("City").select_option(label=directory["city"])
        visitor.get_by_role("button", name="Show doctors").click()
        results = visitor.locator("#doctor-results")
        expect(results.get_by_role("link", name=f"Dr {directory['doctor_name']}")).to_be_visible()
        expect(results.locator(".doctor-card")).to_have_count(1)
    finally:
        visitor_context.close()


def test_an_admin_edits_a_department_inline(page, directory):
    sign_in(page, directory["admin"], ADMIN_PASSWORD)
    page.goto("/admin/departments")
    page.get_by_role("button", name=f"Edit {directory['department']}").click()
    form = page.get_by_role("form", name=f"Edit {directory['department']}")
    expect(form).to_be_visible()
    form.get_by_label("Name (French)").fill("Dermatologie")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Dermatologie")).to_be_visible()
    expect(page).to_have_url("/admin/departments")  # swapped in place, no navigation
    expect(page.get_by_role("status")).to_contain_text("saved")
