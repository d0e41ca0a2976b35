"""Staff with two-factor sign-in send a code with the password grant; /me says whether
it is on; admins can require it of staff through the settings."""

from datetime import timedelta

import pyotp
import pytest

from portal.auth import two_factor
from portal.db import utcnow
from tests.api.conftest import assert_problem
from tests.conftest import PASSWORD


def code_now(secret, shift=timedelta()):
    return pyotp.TOTP(secret).at(utcnow() + shift)


@pytest.fixture
def enrolled(db, doctor, controlled_clock):
    """A doctor with two-factor sign-in on: (user, secret, recovery codes)."""
    user = doctor.user
    record = two_factor.begin_enrolment(user=user)
    codes = two_factor.confirm_enrolment(user=user, code=code_now(record.secret), now=utcnow())
    db.session.commit()
    controlled_clock.shift(timedelta(seconds=60))
    return user, record.secret, codes


def password_grant(api, user, form=True, **extra):
    data = {"grant_type": "password", "username": user.email, "password": PASSWORD, **extra}
    if form:
        return api.post("/auth/token", data=data)
    return api.post("/auth/token", json=data)


@pytest.mark.parametrize("form", [True, False], ids=["form", "json"])
def test_without_the_code_the_answer_is_otp_required(api, enrolled, form):
    user, _secret, _codes = enrolled
    response = password_grant(api, user, form=form)
    body = assert_problem(response, 401, "otp_required")
    assert "otp" in body["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "access_token" not in body


@pytest.mark.parametrize("form", [True, False], ids=["form", "json"])
def test_with_the_code_the_tokens_come(api, enrolled, form):
    user, secret, _codes = enrolled
    response = password_grant(api, user, form=form, otp=code_now(secret))
    assert response.status_code == 200, response.text
    token = response.get_json()["access_token"]
    me = api.get("/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["otp_enabled"] is True


def test_a_wrong_expired_or_reused_code_is_refused(api, enrolled):
    user, secret, _codes = enrolled
    assert_problem(password_grant(api, user, otp="000000"), 401, "otp_invalid")
    expired = code_now(secret, -timedelta(minutes=3))
    assert_problem(password_grant(api, user, otp=expired), 401, "otp_invalid")
    code = code_now(secret)
    assert password_grant(api, user, otp=code).status_code == 200
    assert_problem(password_grant(api, user, otp=code), 401, "otp_invalid")


def test_a_recovery_code_works_once(api, enrolled):
    user, _secret, codes = enrolled
    assert password_grant(api, user, otp=codes[0]).status_code == 200
    assert_problem(password_grant(api, user, otp=codes[0]), 401, "otp_invalid")


def test_a_wrong_password_with_a_right_code_is_still_invalid_grant(api, enrolled):
    user, secret, _codes = enrolled
    response = api.post(
        "/auth/token",
        data={
            "grant_type": "password",
            "username": user.email,
            "password": "not-the-password",
            "otp": code_now(secret),
        },
    )
    assert_problem(response, 401, "invalid_grant")


def test_me_says_when_two_factor_is_off(api, doctor, patient):
    assert api.get("/me", user=doctor.user).get_json()["otp_enabled"] is False
    assert api.get("/me", user=patient.user).get_json()["otp_enabled"] is False


def test_admins_require_it_of_staff_through_the_settings(api, admin, doctor, patient):
    assert api.get("/settings", user=admin).get_json()["require_staff_otp"] is False
    response = api.patch("/settings", user=admin, json={"require_staff_otp": True})
    assert response.status_code == 200, response.text
    assert response.get_json()["require_staff_otp"] is True
    assert response.get_json()["horizon_days"] == 90
    assert api.get("/settings", user=admin).get_json()["require_staff_otp"] is True
    # Staff without it get no token until they turn it on in the portal; patients are
    # not concerned.
    assert_problem(password_grant(api, doctor.user), 403, "otp_enrolment_required")
    assert password_grant(api, patient.user).status_code == 200


def test_only_admins_change_the_requirement(api, doctor):
    response = api.patch("/settings", user=doctor.user, json={"require_staff_otp": False})
    assert response.status_code == 403


def test_the_document_describes_the_code_and_the_flag(api):
    document = api.get("/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert "otp" in schemas["TokenIn"]["properties"]
    assert "otp_enabled" in schemas["UserOut"]["properties"]
    assert "require_staff_otp" in schemas["SettingsOut"]["properties"]
    token = document["paths"]["/api/v1/auth/token"]["post"]
    assert "otp_required" in token["description"]
