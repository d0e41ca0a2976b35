"""Whole journeys in Chromium: registering, signing in, the language switch."""

import uuid

import pytest
from playwright.sync_api import expect

from portal.auth.models import Role, User
from portal.auth.passwords import hash_password
from portal.extensions import db

pytestmark = pytest.mark.e2e


@pytest.fixture
def admin_account(live_server):
    email = f"admin-{uuid.uuid4().hex[:8]}@example.org"
    with live_server.app.app_context():
        db.session.add(
            User(
                email=email,
                full_name="Ada Admin",
                role=Role.ADMIN,
                password_hash=hash_password("lighthouse-admin-9"),
            )
        )
        db.session.commit()
    return email, "lighthouse-admin-9"


def test_a_new_patient_registers_and_lands_on_their_home(page):
    page.goto("/")
    page.get_by_role("link", name="Create an account").first.click()
    page.get_by_label("Full name").fill("Nora Vidal")
    page.get_by_label("Email").fill(f"nora-{uuid.uuid4().hex[:8]}@example.org")
    page.get_by_label("Password", exact=True).fill("tulip-harbour-42")
    page.get_by_label("Repeat the password").fill("tulip-harbour-42")
    page.get_by_role("button", name="Create my account").click()
    expect(page).to_have_url("/patient")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Nora Vidal")
    expect(page.get_by_role("heading", name="Upcoming appointments")).to_be_visible()
    expect(page.get_by_role("link", name="Dashboard")).to_have_count(0)


def test_a_weak_password_is_refused_inline(page):
    page.goto("/register")
    page.get_by_label("Full name").fill("Nora Vidal")
    page.get_by_label("Email").fill(f"nora-{uuid.uuid4().hex[:8]}@example.org")
    page.get_by_label("Password", exact=True).fill("password123")
    page.get_by_label("Repeat the password").fill("password123")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_text("This password is too easy to guess.")).to_be_visible()
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page).to_have_url("/register")


def test_an_admin_signs_in_to_the_dashboard(page, admin_account):
    email, password = admin_account
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url("/admin/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.get_by_text("Visits today")).to_be_visible()


def test_a_wrong_password_shows_the_generic_message(page, admin_account):
    email, _password = admin_account
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("not-my-password")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("That email and password do not match an account.")
    expect(page).to_have_url("/login")


def test_the_language_switch_turns_the_page_french(page):
    page.goto("/login")
    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
    expect(page).to_have_url("/login")


def test_the_first_tab_reaches_the_skip_link(page):
    page.goto("/login")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
