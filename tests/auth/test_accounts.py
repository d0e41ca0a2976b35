"""Registration, sign-in, sign-out and passwords, as a visitor experiences them."""

import pytest
from sqlalchemy import func, select

from portal.auth.models import Role, User
from portal.directory.models import Patient
from tests.conftest import PASSWORD


def count_users(db):
    return db.session.scalar(select(func.count()).select_from(User))


def register(client, **overrides):
    data = {
        "full_name": "Nora Vidal",
        "email": "nora@example.org",
        "password": "tulip-harbour-42",
        "confirm": "tulip-harbour-42",
    }
    data.update(overrides)
    return client.post("/register", data=data)


def test_a_new_patient_registers_and_lands_on_their_home(client, db):
    response = register(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/patient"
    user = db.session.scalar(select(User).where(User.email == "nora@example.org"))
    assert user.role == Role.PATIENT
    assert db.session.scalar(select(Patient).where(Patient.user_id == user.id)) is not None
    home = client.get("/patient")
    assert home.status_code == 200
    assert "Hello, Nora Vidal" in home.text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"password": "short", "confirm": "short"}, "at least 10 characters"),
        ({"password": "password123", "confirm": "password123"}, "too easy to guess"),
        ({"password": "qwertyuiop", "confirm": "qwertyuiop"}, "too easy to guess"),
        ({"confirm": "something-else-9"}, "The passwords differ."),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"full_name": "   "}, "This field is required."),
    ],
)
def test_bad_registration_shows_an_inline_message_and_creates_nothing(
    client, db, overrides, message
):
    response = register(client, **overrides)
    assert response.status_code == 422
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert count_users(db) == 0


def test_an_email_is_registered_once_whatever_its_case(client, db, make_user):
    make_user(Role.PATIENT, email="nora@example.org")
    response = register(client, email="Nora@Example.ORG")
    assert response.status_code == 422
    assert "An account with this email already exists." in response.text
    assert count_users(db) == 1


@pytest.mark.parametrize(
    ("role", "home"),
    [(Role.ADMIN, "/admin/"), (Role.DOCTOR, "/doctor"), (Role.PATIENT, "/patient")],
)
def test_each_role_lands_on_its_own_home(
    auth, client, make_user, make_doctor, make_patient, role, home
):
    user = make_user(role)
    if role == Role.DOCTOR:
        make_doctor(user=user)
    if role == Role.PATIENT:
        make_patient(user=user)
    response = auth.login(user.email.upper())
    assert response.status_code == 303
    assert response.headers["Location"] == home
    assert client.get(home).status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_answer(auth, patient):
    wrong = auth.login(patient.user.email, "not-the-password")
    unknown = auth.login("nobody@example.org", "not-the-password")
    message = "That email and password do not match an account."
    assert wrong.status_code == unknown.status_code == 422
    assert message in wrong.text
    assert message in unknown.text


def test_a_deactivated_account_cannot_sign_in(auth, db, patient):
    patient.user.is_active = False
    db.session.commit()
    assert auth.login(patient.user).status_code == 422


def test_failures_are_limited_per_account_even_with_the_right_password(auth, patient):
    for _attempt in range(5):
        assert auth.login(patient.user, "wrong-password-1").status_code == 422
    blocked = auth.login(patient.user)
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text
    assert "Retry-After" in blocked.headers


def test_failures_are_limited_per_client_address(auth, app):
    for number in range(20):
        assert auth.login(f"someone{number}@example.org", "wrong-password-1").status_code == 422
    assert auth.login("another@example.org", "wrong-password-1").status_code == 429


def test_successful_sign_ins_do_not_count_towards_the_limit(auth, patient):
    for _attempt in range(7):
        assert auth.login(patient.user).status_code == 303
        auth.logout()


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/account/password", "/account/password"),
        ("https://evil.example/steal", "/patient"),
        ("//evil.example/steal", "/patient"),
        ("/\\evil.example", "/patient"),
        ("", "/patient"),
    ],
)
def test_next_redirects_stay_on_the_site(auth, patient, next_url, expected):
    response = auth.login(patient.user, next=next_url)
    assert response.headers["Location"] == expected


def test_a_protected_page_sends_visitors_to_sign_in_and_back(client, auth, patient):
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/account/password")
    login_page = client.get(response.headers["Location"])
    assert 'value="/account/password"' in login_page.text


def test_an_expired_session_on_an_htmx_request_navigates_to_sign_in(htmx):
    response = htmx.get("/patient")
    assert response.headers["HX-Redirect"].startswith("/login?next=/patient")
    assert "<html" not in response.text


def test_remember_me_sets_a_lasting_cookie(auth, client, patient):
    auth.login(patient.user, remember="y")
    cookie = client.get_cookie("remember_token")
    assert cookie is not None
    assert cookie.http_only


def test_sign_out(auth, client, patient):
    auth.login(patient.user)
    response = auth.logout()
    assert response.status_code == 303
    assert client.get("/patient").status_code == 302


def test_changing_the_password_signs_out_other_devices(app, auth, client, patient):
    other_device = app.test_client()
    other_device.post("/login", data={"email": patient.user.email, "password": PASSWORD})
    assert other_device.get("/patient").status_code == 200

    auth.login(patient.user)
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "meadow-lantern-77",
            "confirm": "meadow-lantern-77",
        },
    )
    assert response.status_code == 303
    assert client.get("/patient").status_code == 200
    assert other_device.get("/patient").status_code == 302
    auth.logout()
    assert auth.login(patient.user, "meadow-lantern-77").status_code == 303


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {
                "current_password": "wrong-one-123",
                "new_password": "meadow-lantern-77",
                "confirm": "meadow-lantern-77",
            },
            "Your current password is not right.",
        ),
        (
            {"current_password": PASSWORD, "new_password": "12345678910", "confirm": "12345678910"},
            "too easy to guess",
        ),
        (
            {
                "current_password": PASSWORD,
                "new_password": "meadow-lantern-77",
                "confirm": "meadow-lantern-78",
            },
            "The passwords differ.",
        ),
    ],
)
def test_a_refused_password_change_changes_nothing(auth, client, patient, data, message):
    auth.login(patient.user)
    response = client.post("/account/password", data=data)
    assert response.status_code == 422
    assert message in response.text
    auth.logout()
    assert auth.login(patient.user).status_code == 303
