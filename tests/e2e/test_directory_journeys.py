"""The directory in Chromium: a visitor finds a doctor; an invited doctor sets a password."""

import re
import uuid
from datetime import time

import pytest
from playwright.sync_api import expect

from portal.auth import services as auth
from portal.auth.models import Role, User
from portal.db import utcnow
from portal.directory.models import Clinic, Department, Doctor
from portal.extensions import db
from portal.scheduling.models import WeeklyHours

pytestmark = pytest.mark.e2e


def make_directory(app):
    """Two departments, two cities, three doctors, with names no other test uses."""
    tag = uuid.uuid4().hex[:6]
    with app.app_context():
        paris = Clinic(name=f"Parc {tag}", city="Paris", country="FR", timezone="Europe/Paris")
        lyon = Clinic(name=f"Bellecour {tag}", city="Lyon", country="FR", timezone="Europe/Paris")
        heart = Department(code=f"heart-{tag}", name=f"Heart {tag}")
        skin = Department(code=f"skin-{tag}", name=f"Skin {tag}")
        names = {}
        for key, clinic, department in (
            ("wanted", paris, heart),
            ("wrong_city", lyon, heart),
            ("wrong_department", paris, skin),
        ):
            name = f"{key.replace('_', ' ').title()} {tag}"
            user = User(email=f"{key}-{tag}@example.org", full_name=name, role=Role.DOCTOR)
            doctor = Doctor(
                user=user,
                clinic=clinic,
                title="Dr",
                license_number=f"{key}-{tag}",
                departments=[department],
            )
            db.session.add(doctor)
            for weekday in range(7):
                db.session.add(
                    WeeklyHours(
                        doctor=doctor, weekday=weekday, start_time=time(8), end_time=time(18)
                    )
                )
            names[key] = name
        db.session.commit()
        return names, heart.name


def test_a_visitor_filters_by_department_and_city_then_opens_the_doctor(page, live_server):
    names, department = make_directory(live_server.app)
    page.goto("/")
    page.get_by_role("link", name="Find a doctor").first.click()
    # Until the page has loaded, htmx (a deferred script) is not listening for changes
    # yet, and a filter chosen that early waits for the "Show doctors" button.
    page.wait_for_url(re.compile(r"/find$"), wait_until="load")
    expect(page.get_by_role("heading", name="Find a doctor")).to_be_visible()
    # Proof that the results are swapped in place rather than the page reloaded.
    page.evaluate("window.stillThisPage = true")

    page.get_by_label("Department").select_option(label=department)
    results = page.locator("#doctor-results")
    expect(results).to_contain_text(names["wrong_city"])
    expect(results).not_to_contain_text(names["wrong_department"])
    page.get_by_label("City").select_option("Paris")
    expect(results).not_to_contain_text(names["wrong_city"])
    expect(results).to_contain_text(names["wanted"])
    expect(page.locator("#doctor-count")).to_have_text("1 doctor found.")
    expect(results).to_contain_text("Next free times (Paris time):")
    assert page.evaluate("window.stillThisPage") is True
    expect(page).to_have_url(re.compile(r"/find\?.*department=\d+.*city=Paris"))

    # The filtered address can be shared: opened afresh it shows the same doctor.
    page.reload()
    expect(page.locator("#doctor-results")).to_contain_text(names["wanted"])
    expect(page.get_by_label("City")).to_have_value("Paris")

    page.get_by_role("link", name=f"Dr {names['wanted']}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Dr {names['wanted']}")
    expect(page.locator("#slot-picker")).to_be_visible()


def test_typing_a_name_narrows_the_results(page, live_server):
    names, _department = make_directory(live_server.app)
    page.goto("/find")
    page.get_by_label("Name").fill(names["wrong_department"])
    results = page.locator("#doctor-results")
    expect(results).to_contain_text(names["wrong_department"])
    expect(results).not_to_contain_text(names["wanted"])
    expect(page).to_have_url(re.compile(r"q=Wrong"))


def test_without_javascript_the_filters_are_a_plain_form(browser, live_server):
    names, department = make_directory(live_server.app)
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/find")
    page.get_by_label("Department").select_option(label=department)
    page.get_by_label("City").select_option("Paris")
    page.get_by_role("button", name="Show doctors").click()
    results = page.locator("#doctor-results")
    expect(results).to_contain_text(names["wanted"])
    expect(results).not_to_contain_text(names["wrong_city"])
    expect(results).not_to_contain_text(names["wrong_department"])
    context.close()


def test_an_invited_doctor_sets_a_password_and_lands_on_their_schedule(page, live_server):
    app = live_server.app
    tag = uuid.uuid4().hex[:6]
    with app.app_context():
        clinic = Clinic(name=f"Invite {tag}", city="Paris", country="FR", timezone="Europe/Paris")
        user = User(email=f"invited-{tag}@example.org", full_name=f"Invited {tag}", role="doctor")
        db.session.add(Doctor(user=user, clinic=clinic, license_number=f"inv-{tag}"))
        db.session.flush()
        token = auth.create_activation_token(user=user, actor=None, now=utcnow())
        db.session.commit()
    page.goto(f"/activate/{token}")
    # The secret leaves the address bar (and the history) at once.
    expect(page).to_have_url(re.compile(r"/activate$"))
    page.get_by_label("New password", exact=True).fill("lantern-meadow-4821")
    page.get_by_label("Repeat the new password").fill("lantern-meadow-4821")
    page.get_by_role("button", name="Set my password").click()
    # A new doctor has no weekly hours yet: they start by setting them.
    expect(page).to_have_url(re.compile(r"/doctor/hours/start$"))
    expect(page.locator("#flashes")).to_contain_text("Your password is set.")
    page.goto(f"/activate/{token}")
    expect(page.get_by_role("heading", level=1)).to_have_text("This link does not work any more")
