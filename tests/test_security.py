"""Headers, cookies, CSRF and configuration that keep users safe."""

import pytest
from flask import Flask
from flask_limiter import Limit
from flask_limiter.util import get_remote_address

from portal import create_app
from portal.extensions import limiter
from tests.conftest import PASSWORD


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_pages_have_no_inline_script(client):
    page = client.get("/login").text
    assert "<script>" not in page
    assert " on" + "click=" not in page


def test_session_cookie_is_httponly_and_samesite(auth, client, patient):
    auth.login(patient.user)
    cookie = client.get_cookie("session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PORTAL_ENV", "production")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_cookies_are_secure(monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_a_development_instance_keeps_its_generated_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PORTAL_ENV", "development")
    monkeypatch.setattr(Flask, "instance_path", str(tmp_path), raising=False)
    first = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    second = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert len(first.config["SECRET_KEY"]) >= 40
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]


@pytest.fixture
def csrf_client(_session_app, app):
    _session_app.config["WTF_CSRF_ENABLED"] = True
    yield app.test_client()
    _session_app.config["WTF_CSRF_ENABLED"] = False


def test_forms_without_the_csrf_token_are_refused(csrf_client, patient):
    response = csrf_client.post("/login", data={"email": patient.user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert csrf_client.get("/patient").status_code == 302


def test_registration_without_the_csrf_token_creates_nothing(csrf_client, db):
    from sqlalchemy import func, select

    from portal.auth.models import User

    response = csrf_client.post(
        "/register",
        data={
            "full_name": "Nora",
            "email": "nora@example.org",
            "password": "tulip-harbour-42",
            "confirm": "tulip-harbour-42",
        },
    )
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_htmx_requests_send_the_csrf_token_from_the_body(client):
    page = client.get("/login").text
    assert 'hx-headers=\'{"X-CSRFToken": "' in page


def test_pages_skipped_by_the_rate_limiter_are_still_limited_by_default_limits(
    app, htmx, doctor, monkeypatch
):
    # The busiest pages skip the limiter's checks only while the portal sets no default
    # limits; a portal that sets some enforces them there too.
    page = f"/doctors/{doctor.id}/slots"
    assert all(htmx.get(page).status_code == 200 for _ in range(5))
    monkeypatch.setitem(app.config, "RATELIMIT_DEFAULT", "2 per minute")
    limiter.limit_manager.set_default_limits(
        [Limit(limit_provider="2 per minute", key_function=get_remote_address).bind(limiter)]
    )
    try:
        statuses = [htmx.get(page).status_code for _ in range(3)]
    finally:
        limiter.limit_manager.set_default_limits([])
        limiter.reset()
    assert statuses == [200, 200, 429]
