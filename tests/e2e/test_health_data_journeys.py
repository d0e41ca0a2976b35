"""In Chromium: a patient sees and downloads their data, then closes their account."""

import json
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.auth.models import Role, User
from portal.auth.passwords import hash_password
from portal.directory.models import Patient
from portal.extensions import db

pytestmark = pytest.mark.e2e

PASSWORD = "harbour-lantern-58"


@pytest.fixture
def patient_account(live_server):
    email = f"maya-{uuid.uuid4().hex[:8]}@example.org"
    with live_server.app.app_context():
        user = User(
            email=email,
            full_name="Maya Chen",
            role=Role.PATIENT,
            password_hash=hash_password(PASSWORD),
        )
        db.session.add(Patient(user=user, allergies="Penicillin", blood_group="O+"))
        db.session.commit()
    return email


def sign_in(page, email):
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_patient_downloads_their_data_and_closes_their_account(page, patient_account):
    page.set_viewport_size({"width": 390, "height": 800})
    sign_in(page, patient_account)
    page.goto("/profile")
    page.get_by_role("link", name="See and download everything the portal keeps about me").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Data held about Maya Chen")
    expect(page.get_by_text("Penicillin")).to_be_visible()
    # Nothing on the data page runs off a phone's screen.
    wide = page.evaluate(
        "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right"
        " > window.innerWidth + 1).map(e => e.tagName)"
    )
    assert wide == []
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as JSON").click()
    data = json.loads(Path(download.value.path()).read_text())
    assert data["profile"]["allergies"] == "Penicillin"

    page.get_by_role("link", name="Close my account").click()
    page.get_by_label("Your password").fill("not-my-password")
    page.get_by_role("button", name="Close my account for good").click()
    expect(page.get_by_text("That password is not right.")).to_be_visible()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Close my account for good").click()
    expect(page.get_by_text("Your account is closed")).to_be_visible()
    page.goto("/profile")
    expect(page).to_have_url(re.compile(r"/login"))
