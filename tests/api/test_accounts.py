"""Registration, tokens, revocation, activation and the caller's own account."""

from datetime import timedelta

import jwt
import pytest
from sqlalchemy import select

from portal.api.security import _key
from portal.auth.models import RefreshToken, Role, User
from portal.db import utcnow
from tests.api.conftest import assert_problem
from tests.conftest import PASSWORD

NEW_PASSWORD = "violet-lantern-harbour"


def sign_in(api, email, password=PASSWORD, *, form=True):
    data = {"grant_type": "password", "username": email, "password": password}
    return api.post("/auth/token", **({"data": data} if form else {"json": data}))


def refresh(api, token):
    return api.post("/auth/token", json={"grant_type": "refresh_token", "refresh_token": token})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


# Registration ---------------------------------------------------------------------------


def test_a_patient_registers_and_gets_their_account(api, db):
    response = api.post(
        "/auth/register",
        json={
            "email": "Nora@Example.org",
            "password": "tulip-harbour-42",
            "full_name": "Nora Diaz",
            "phone": "+33 6 12 34 56 78",
            "date_of_birth": "1990-04-01",
        },
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["email"] == "nora@example.org"
    assert body["role"] == "patient"
    assert body["patient_id"]
    assert "doctor_id" not in body
    assert response.headers["Location"] == f"/api/v1/patients/{body['patient_id']}"
    user = db.session.scalar(select(User).where(User.email == "nora@example.org"))
    assert (user.patient.phone, str(user.patient.date_of_birth)) == (
        "+33 6 12 34 56 78",
        "1990-04-01",
    )


def test_registration_problems_are_reported_per_field(api, patient):
    response = api.post(
        "/auth/register",
        json={"email": patient.user.email, "password": "short", "full_name": "X"},
    )
    body = assert_problem(response, 400, "validation_failed")
    assert set(body["errors"]) == {"email", "password"}


def test_only_patients_register(api):
    response = api.post(
        "/auth/register",
        json={
            "email": "a@example.org",
            "password": "tulip-harbour-42",
            "full_name": "A",
            "role": "admin",
        },
    )
    body = assert_problem(response, 400, "invalid_request")
    assert "role" in body["errors"]


# Tokens ---------------------------------------------------------------------------------


@pytest.mark.parametrize("form", [True, False], ids=["form", "json"])
def test_the_password_grant_gives_an_access_and_a_refresh_token(api, patient, form):
    response = sign_in(api, patient.user.email.upper(), form=form)
    assert response.status_code == 200
    tokens = response.get_json()
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 15 * 60
    assert response.headers["Cache-Control"] == "no-store"
    claims = jwt.decode(
        tokens["access_token"], options={"verify_signature": False}, algorithms=["HS256"]
    )
    assert claims["sub"] == str(patient.user.id)
    assert claims["sv"] == patient.user.session_version
    assert claims["exp"] - claims["iat"] == 15 * 60
    me = api.get("/me", headers=bearer(tokens["access_token"]))
    assert me.get_json()["id"] == patient.user.id


def test_refresh_tokens_are_kept_only_as_hashes(api, db, patient):
    tokens = sign_in(api, patient.user.email).get_json()
    stored = db.session.scalars(select(RefreshToken.token_hash)).all()
    assert len(stored) == 1
    assert tokens["refresh_token"] not in stored[0]
    assert len(stored[0]) == 64


@pytest.mark.parametrize("email", ["patient-known", "nobody@example.org"])
def test_bad_credentials_get_the_same_answer_whether_or_not_the_email_exists(api, patient, email):
    email = patient.user.email if email == "patient-known" else email
    response = sign_in(api, email, "wrong-password-123")
    body = assert_problem(response, 401, "invalid_grant")
    assert body["detail"] == "That email and password do not match an account."
    assert body["error"] == "invalid_grant"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_account_without_a_password_yet_cannot_sign_in(api, make_user):
    user = make_user(Role.DOCTOR, password_hash=None)
    assert_problem(sign_in(api, user.email, ""), 401, "invalid_grant")


def test_a_missing_field_of_the_grant_is_400(api):
    response = api.post("/auth/token", data={"grant_type": "password", "password": "x"})
    body = assert_problem(response, 400, "validation_failed")
    assert list(body["errors"]) == ["username"]
    response = api.post("/auth/token", json={"grant_type": "client_credentials"})
    assert_problem(response, 400, "invalid_request")


def test_refresh_rotates_the_token(api, patient):
    first = sign_in(api, patient.user.email).get_json()
    second = refresh(api, first["refresh_token"])
    assert second.status_code == 200
    renewed = second.get_json()
    assert renewed["refresh_token"] != first["refresh_token"]
    assert api.get("/me", headers=bearer(renewed["access_token"])).status_code == 200
    assert refresh(api, renewed["refresh_token"]).status_code == 200


def test_a_reused_refresh_token_revokes_the_whole_family(api, patient):
    first = sign_in(api, patient.user.email).get_json()
    renewed = refresh(api, first["refresh_token"]).get_json()
    body = assert_problem(refresh(api, first["refresh_token"]), 401, "invalid_grant")
    assert body["error"] == "invalid_grant"
    # The thief's and the owner's newer token are both dead now.
    assert_problem(refresh(api, renewed["refresh_token"]), 401, "invalid_grant")


def test_an_unknown_refresh_token_is_invalid_grant(api):
    assert_problem(refresh(api, "made-up"), 401, "invalid_grant")


def test_an_expired_refresh_token_is_refused(api, db, patient):
    tokens = sign_in(api, patient.user.email).get_json()
    record = db.session.scalar(select(RefreshToken))
    record.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert_problem(refresh(api, tokens["refresh_token"]), 401, "invalid_grant")


def test_revoke_ends_a_refresh_token(api, patient):
    tokens = sign_in(api, patient.user.email).get_json()
    response = api.post("/auth/revoke", json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 204
    assert response.get_data() == b""
    assert_problem(refresh(api, tokens["refresh_token"]), 401, "invalid_grant")
    # Revoking twice, or an unknown token, is not an error (RFC 7009).
    assert api.post("/auth/revoke", json={"refresh_token": "nope"}).status_code == 204


def test_an_expired_access_token_is_401(app, api, patient):
    with app.app_context():
        expired = jwt.encode(
            {
                "sub": str(patient.user.id),
                "sv": 1,
                "aud": "clinic-portal-api",
                "exp": int((utcnow() - timedelta(seconds=5)).timestamp()),
            },
            _key(),
            algorithm="HS256",
        )
    assert_problem(api.get("/me", headers=bearer(expired)), 401, "invalid_token")


def test_a_token_signed_with_another_key_is_401(api, patient):
    forged = jwt.encode(
        {"sub": str(patient.user.id), "sv": 1, "aud": "clinic-portal-api", "exp": 4102444800},
        "x" * 32,
        algorithm="HS256",
    )
    assert_problem(api.get("/me", headers=bearer(forged)), 401, "invalid_token")


def test_a_password_change_ends_every_token(api, patient):
    tokens = sign_in(api, patient.user.email).get_json()
    response = api.patch(
        "/me",
        headers=bearer(tokens["access_token"]),
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert_problem(api.get("/me", headers=bearer(tokens["access_token"])), 401, "invalid_token")
    assert_problem(refresh(api, tokens["refresh_token"]), 401, "invalid_grant")
    assert sign_in(api, patient.user.email, NEW_PASSWORD).status_code == 200


def test_a_wrong_current_password_changes_nothing(api, patient):
    response = api.patch(
        "/me",
        user=patient.user,
        json={"current_password": "not-it-at-all", "new_password": NEW_PASSWORD},
    )
    body = assert_problem(response, 400, "validation_failed")
    assert list(body["errors"]) == ["current_password"]
    assert sign_in(api, patient.user.email).status_code == 200


def test_deactivation_ends_every_token(api, db, admin, doctor):
    tokens = sign_in(api, doctor.user.email).get_json()
    assert api.delete(f"/doctors/{doctor.id}", user=admin).status_code == 204
    assert_problem(api.get("/me", headers=bearer(tokens["access_token"])), 401, "invalid_token")
    assert_problem(refresh(api, tokens["refresh_token"]), 401, "invalid_grant")
    assert_problem(sign_in(api, doctor.user.email), 401, "invalid_grant")


def test_failed_sign_ins_are_limited_per_account_without_checking_the_password(app, api, patient):
    for _attempt in range(5):
        assert sign_in(api, patient.user.email, "wrong-password-1").status_code == 401
    response = sign_in(api, patient.user.email)  # the right password, but too late
    body = assert_problem(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0
    assert "error" not in body or body["error"] != "invalid_grant"


def test_failed_sign_ins_are_limited_per_address(app, api, make_user):
    users = [make_user(Role.PATIENT) for _ in range(5)]
    for user in users:
        for _attempt in range(4):
            assert sign_in(api, user.email, "wrong-password-1").status_code == 401
    response = sign_in(api, users[0].email)
    assert_problem(response, 429, "rate_limited")
    assert response.headers["Retry-After"]


def test_successful_sign_ins_do_not_count(api, patient):
    for _attempt in range(8):
        assert sign_in(api, patient.user.email).status_code == 200


# Activation -----------------------------------------------------------------------------


def test_an_onboarded_doctor_activates_their_account_once(api, admin, make_clinic, make_department):
    clinic, department = make_clinic(), make_department()
    onboarded = api.post(
        "/doctors",
        user=admin,
        json={
            "email": "ines.moreau@example.org",
            "full_name": "Inès Moreau",
            "clinic_id": clinic.id,
            "department_ids": [department.id],
            "license_number": "FR-12345",
        },
    ).get_json()
    token = onboarded["activation_token"]
    assert onboarded["activation_url"].endswith(f"/activate/{token}")
    assert_problem(sign_in(api, "ines.moreau@example.org", NEW_PASSWORD), 401, "invalid_grant")
    response = api.post("/auth/activate", json={"token": token, "password": NEW_PASSWORD})
    assert response.status_code == 204
    assert sign_in(api, "ines.moreau@example.org", NEW_PASSWORD).status_code == 200
    again = api.post("/auth/activate", json={"token": token, "password": "another-long-one-9"})
    assert_problem(again, 400, "invalid_token")


def test_an_unknown_activation_token_is_400(api):
    response = api.post("/auth/activate", json={"token": "nope", "password": NEW_PASSWORD})
    assert_problem(response, 400, "invalid_token")


# The caller's account -------------------------------------------------------------------


def test_me_says_who_the_caller_is(api, admin, doctor, patient):
    body = api.get("/me", user=doctor.user).get_json()
    assert body == {
        "id": doctor.user.id,
        "email": doctor.user.email,
        "full_name": doctor.user.full_name,
        "role": "doctor",
        "locale": None,
        "email_verified": True,
        "notify_reminders": True,
        "otp_enabled": False,
        "doctor_id": doctor.id,
    }
    assert api.get("/me", user=patient.user).get_json()["patient_id"] == patient.id
    admin_body = api.get("/me", user=admin).get_json()
    assert admin_body["role"] == "admin"
    assert "doctor_id" not in admin_body
    assert "patient_id" not in admin_body


def test_a_patient_turns_reminders_off_and_on(api, db, patient):
    response = api.patch("/me", user=patient.user, json={"notify_reminders": False})
    assert response.status_code == 200
    assert response.get_json()["notify_reminders"] is False
    assert api.get("/me", user=patient.user).get_json()["notify_reminders"] is False
    db.session.expire_all()
    assert patient.user.notify_reminders is False
    again = api.patch("/me", user=patient.user, json={"notify_reminders": True})
    assert again.get_json()["notify_reminders"] is True
    wrong = api.patch("/me", user=patient.user, json={"notify_reminders": "maybe"})
    assert wrong.status_code == 400


def test_me_changes_name_and_language(api, patient):
    response = api.patch("/me", user=patient.user, json={"full_name": "Ana Lima", "locale": "fr"})
    assert response.status_code == 200
    assert response.get_json()["full_name"] == "Ana Lima"
    assert response.get_json()["locale"] == "fr"
    response = api.patch("/me", user=patient.user, json={"locale": "de"})
    body = assert_problem(response, 400, "invalid_request")
    assert list(body["errors"]) == ["locale"]
