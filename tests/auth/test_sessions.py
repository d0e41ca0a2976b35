"""Sessions that end: signing out ends every session of the account on the server (a
copied cookie opens nothing afterwards), so do a password change and a deactivation;
a session left unused ends after an idle time (shorter for staff), and every session
ends after an absolute lifetime, even one kept with "Keep me signed in"."""

from datetime import timedelta

import pytest

from portal.auth.models import Role
from tests.conftest import PASSWORD


def _copy_of(client, app):
    """Another browser holding a copy of the client's cookies (as a thief would)."""
    thief = app.test_client()
    for name in ("session", "remember_token"):
        cookie = client.get_cookie(name)
        if cookie is not None:
            thief.set_cookie(name, cookie.value)
    return thief


def _opens(client, path):
    return client.get(path).status_code == 200


def test_a_copied_session_cookie_opens_nothing_after_sign_out(app, auth, client, patient):
    auth.login(patient.user)
    thief = _copy_of(client, app)
    assert _opens(thief, "/profile")
    assert auth.logout().status_code == 303
    assert not _opens(thief, "/profile")
    assert not _opens(client, "/profile")


def test_signing_out_ends_the_sessions_on_other_devices_and_api_tokens(app, auth, client, patient):
    laptop = app.test_client()
    laptop.post("/login", data={"email": patient.user.email, "password": PASSWORD})
    tokens = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": patient.user.email, "password": PASSWORD},
    ).json
    auth.login(patient.user)
    auth.logout()
    assert not _opens(laptop, "/patient")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 401


def test_a_copied_remember_me_cookie_opens_nothing_after_sign_out(app, auth, client, patient):
    auth.login(patient.user, remember="y")
    remember = client.get_cookie("remember_token").value
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("remember_token", remember)
    assert not _opens(thief, "/profile")


def test_a_copied_cookie_opens_nothing_after_a_password_change(app, auth, client, patient):
    auth.login(patient.user)
    thief = _copy_of(client, app)
    client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "meadow-lantern-77",
            "confirm": "meadow-lantern-77",
        },
    )
    assert _opens(client, "/profile")
    assert not _opens(thief, "/profile")


def test_a_deactivated_doctor_is_signed_out_at_once(app, auth, client, admin, doctor):
    doctor_browser = app.test_client()
    doctor_browser.post("/login", data={"email": doctor.user.email, "password": PASSWORD})
    assert _opens(doctor_browser, "/doctor/schedule")
    auth.login(admin)
    client.post(f"/admin/doctors/{doctor.id}/deactivate", data={"reason": "Left the clinic"})
    assert not _opens(doctor_browser, "/doctor/schedule")


# Idle and absolute limits, with the suite's clock moved on -----------------------------


def test_a_staff_session_ends_after_30_minutes_without_use(auth, client, doctor, controlled_clock):
    auth.login(doctor.user)
    controlled_clock.shift(timedelta(minutes=25))
    assert _opens(client, "/doctor/schedule")  # in use: the idle time starts again
    controlled_clock.shift(timedelta(minutes=25))
    assert _opens(client, "/doctor/schedule")
    controlled_clock.shift(timedelta(minutes=31))
    response = client.get("/doctor/schedule")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    page = client.get(response.headers["Location"]).text
    assert "signed out after a while without activity" in page


def test_an_admin_session_ends_the_same_way(auth, client, admin, controlled_clock):
    auth.login(admin)
    controlled_clock.shift(timedelta(minutes=31))
    assert not _opens(client, "/admin/")


def test_a_patient_session_lasts_longer_without_use(app, auth, client, patient, controlled_clock):
    auth.login(patient.user)
    controlled_clock.shift(timedelta(minutes=31))
    assert _opens(client, "/profile")
    idle = app.config["SESSION_IDLE_MINUTES_PATIENT"]
    assert idle > 30
    controlled_clock.shift(timedelta(minutes=idle + 1))
    assert not _opens(client, "/profile")


def test_the_idle_time_is_configurable(app, auth, client, doctor, controlled_clock, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES_STAFF", 5)
    auth.login(doctor.user)
    controlled_clock.shift(timedelta(minutes=4))
    assert _opens(client, "/doctor/schedule")
    controlled_clock.shift(timedelta(minutes=6))
    assert not _opens(client, "/doctor/schedule")


def test_a_session_in_constant_use_still_ends_after_its_lifetime(
    app, auth, client, doctor, controlled_clock
):
    auth.login(doctor.user)
    lifetime = timedelta(hours=app.config["SESSION_LIFETIME_HOURS_STAFF"])
    used_for = timedelta()
    while used_for + timedelta(minutes=20) < lifetime:
        controlled_clock.shift(timedelta(minutes=20))
        used_for += timedelta(minutes=20)
        assert _opens(client, "/doctor/schedule"), used_for
    controlled_clock.shift(timedelta(minutes=25))  # past the lifetime, not yet idle
    assert not _opens(client, "/doctor/schedule")


def test_keep_me_signed_in_survives_closing_the_browser_but_not_the_lifetime(
    app, auth, client, patient, controlled_clock
):
    auth.login(patient.user, remember="y")
    remember = client.get_cookie("remember_token").value
    reopened = app.test_client()  # the browser closed: only the lasting cookie is left
    reopened.set_cookie("remember_token", remember)
    controlled_clock.shift(timedelta(days=2))
    assert _opens(reopened, "/profile")
    later = app.test_client()
    later.set_cookie("remember_token", remember)
    controlled_clock.shift(timedelta(hours=app.config["SESSION_LIFETIME_HOURS_PATIENT"]))
    assert not _opens(later, "/profile")


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.ADMIN])
def test_staff_are_not_kept_signed_in_past_closing_the_browser(
    app, auth, client, make_user, make_doctor, role
):
    user = make_doctor().user if role == Role.DOCTOR else make_user(Role.ADMIN)
    auth.login(user, remember="y")
    assert client.get_cookie("remember_token") is None
