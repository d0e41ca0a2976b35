"""The admin's pages in French and on a phone: the chart's labels fit, and onboarding
errors speak of the doctor and take the focus."""

import uuid

import pytest
from playwright.sync_api import expect

from portal.directory.models import Department
from portal.extensions import db
from tests.e2e.journey import PHONE, build_world, new_page, sign_in

pytestmark = pytest.mark.e2e


def test_the_french_dashboard_chart_shows_every_label_whole(browser, live_server):
    world = build_world(live_server.app)
    with live_server.app.app_context():
        # No doctor, so no hours: its value reads "aucune plage horaire".
        db.session.add(Department(code=f"empty-{uuid.uuid4().hex[:6]}", name="Allergologie"))
        db.session.commit()
    page = new_page(browser, live_server, width=1280, locale="fr-FR")
    sign_in(page, world.admin)
    page.goto("/admin/")
    expect(page.locator("#fill-chart")).to_contain_text("aucune plage horaire")
    overflowing = page.evaluate(
        """() => {
            const svg = document.getElementById('fill-chart');
            const width = svg.viewBox.baseVal.width;
            return [...svg.querySelectorAll('text')]
                .filter(t => t.getBBox().x < 0 || t.getBBox().x + t.getBBox().width > width)
                .map(t => t.textContent);
        }"""
    )
    assert overflowing == []
    page.context.close()


def test_onboarding_errors_speak_of_the_doctor_and_take_the_focus(browser, live_server):
    world = build_world(live_server.app)
    page = new_page(browser, live_server, width=PHONE)
    sign_in(page, world.admin)
    page.goto("/admin/doctors/new")
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator("main")).to_contain_text("Enter the doctor's full name.")
    expect(page.locator("main")).not_to_contain_text("Enter your full name.")
    first_invalid = page.locator("main [aria-invalid=true]").first
    expect(first_invalid).to_be_focused()
    page.context.close()
