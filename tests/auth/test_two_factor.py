"""Staff turn on two-factor sign-in with an authenticator app; then a password alone
signs nobody in. Codes are computed as the app would, on the suite's clock."""

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from portal.auth.models import RecoveryCode, TwoFactor
from portal.db import utcnow
from tests.conftest import PASSWORD


def code_now(secret, shift=timedelta()):
    return pyotp.TOTP(secret).at(utcnow() + shift)


def enrol(client, db, user):
    """Turn two-factor sign-in on for the signed-in user; returns (secret, recovery codes)."""
    assert client.post("/account/two-factor/set-up").status_code == 303
    db.session.expire_all()
    secret = db.session.get(TwoFactor, user.id).secret
    page = client.post("/account/two-factor/confirm", data={"code": code_now(secret)})
    assert page.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f-]+)</code></li>", page.text)
    return secret, codes


@pytest.fixture
def enrolled_doctor(client, auth, db, doctor, controlled_clock):
    """A doctor with two-factor sign-in on, signed out; (user, secret, recovery codes)."""
    auth.login(doctor.user)
    secret, codes = enrol(client, db, doctor.user)
    auth.logout()
    # The code used to confirm works once: later sign-ins use later ones.
    controlled_clock.shift(timedelta(seconds=60))
    return doctor.user, secret, codes


def test_a_doctor_turns_it_on_with_a_qr_code_drawn_by_the_portal(client, auth, db, doctor):
    auth.login(doctor.user)
    start = client.get("/account/two-factor")
    assert start.status_code == 200
    assert "Set up two-factor sign-in" in start.text
    assert client.post("/account/two-factor/set-up").status_code == 303
    page = client.get("/account/two-factor")
    secret = db.session.get(TwoFactor, doctor.user.id).secret
    assert page.headers["Cache-Control"] == "no-store"
    assert '<svg role="img"' in page.text
    assert "<title>QR code to scan with your authenticator app</title>" in page.text
    assert secret in page.text
    assert "<script" not in page.text.split("<main", 1)[1]
    assert 'autocomplete="one-time-code"' in page.text

    wrong = client.post("/account/two-factor/confirm", data={"code": "000000"})
    assert wrong.status_code == 422
    assert "That code is not right." in wrong.text
    assert db.session.get(TwoFactor, doctor.user.id).confirmed_at is None

    done = client.post("/account/two-factor/confirm", data={"code": code_now(secret)})
    assert done.status_code == 200
    assert done.headers["Cache-Control"] == "no-store"
    assert "Two-factor sign-in is on." in done.text
    codes = re.findall(r"<li><code>([0-9a-f-]+)</code></li>", done.text)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    # Shown once, kept only as digests.
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10
    assert not {code.replace("-", "") for code in codes} & set(stored)
    status = client.get("/account/two-factor")
    assert "Two-factor sign-in is on." in status.text
    assert "You have 10 unused recovery codes." in status.text
    assert codes[0] not in status.text


def test_the_password_alone_does_not_sign_in(client, auth, enrolled_doctor):
    user, secret, _codes = enrolled_doctor
    first = auth.login(user)
    assert first.status_code == 303
    assert first.headers["Location"] == "/login/code"
    # Not signed in between the two steps.
    assert client.get("/doctor").headers["Location"].startswith("/login")
    page = client.get("/login/code")
    assert page.status_code == 200
    assert "Enter your sign-in code" in page.text
    wrong = client.post("/login/code", data={"code": "123456"})
    assert wrong.status_code == 422
    assert "That code is not right." in wrong.text
    assert client.get("/doctor").status_code == 302
    done = client.post("/login/code", data={"code": code_now(secret)})
    assert done.status_code == 303
    assert done.headers["Location"] == "/doctor"
    assert client.get("/doctor").status_code == 200


def test_the_code_step_keeps_where_the_user_was_going(client, auth, enrolled_doctor):
    user, secret, _codes = enrolled_doctor
    auth.login(user, next="/doctor/hours")
    done = client.post("/login/code", data={"code": code_now(secret)})
    assert done.headers["Location"] == "/doctor/hours"


def test_a_code_from_the_step_before_works_but_an_expired_one_does_not(
    client, auth, enrolled_doctor
):
    user, secret, _codes = enrolled_doctor
    auth.login(user)
    old = code_now(secret, -timedelta(minutes=2))
    assert client.post("/login/code", data={"code": old}).status_code == 422
    drifted = code_now(secret, -timedelta(seconds=30))
    assert client.post("/login/code", data={"code": drifted}).status_code == 303


def test_a_code_opens_one_sign_in_only(client, auth, enrolled_doctor, controlled_clock):
    user, secret, _codes = enrolled_doctor
    code = code_now(secret)
    auth.login(user)
    assert client.post("/login/code", data={"code": code}).status_code == 303
    auth.logout()
    auth.login(user)
    replay = client.post("/login/code", data={"code": code})
    assert replay.status_code == 422
    controlled_clock.shift(timedelta(seconds=30))
    assert client.post("/login/code", data={"code": code_now(secret)}).status_code == 303


def test_a_recovery_code_signs_in_once(client, auth, db, enrolled_doctor):
    user, _secret, codes = enrolled_doctor
    auth.login(user)
    typed = " " + codes[0].upper() + " "
    assert client.post("/login/code", data={"code": typed}).status_code == 303
    auth.logout()
    auth.login(user)
    assert client.post("/login/code", data={"code": codes[0]}).status_code == 422
    assert client.post("/login/code", data={"code": codes[1]}).status_code == 303
    assert "You have 8 unused recovery codes." in client.get("/account/two-factor").text


def test_five_wrong_codes_send_the_user_back_to_the_password(client, auth, enrolled_doctor):
    user, secret, _codes = enrolled_doctor
    auth.login(user)
    for _attempt in range(4):
        assert client.post("/login/code", data={"code": "000000"}).status_code == 422
    fifth = client.post("/login/code", data={"code": "000000"})
    assert fifth.status_code == 303
    assert fifth.headers["Location"] == "/login"
    assert "Too many wrong codes." in client.get("/login").text
    # The step is over: even the right code now needs the password first.
    late = client.post("/login/code", data={"code": code_now(secret)})
    assert late.headers["Location"] == "/login"
    assert client.get("/doctor").status_code == 302


def test_wrong_codes_are_limited_across_sign_ins(client, auth, enrolled_doctor):
    user, secret, _codes = enrolled_doctor
    for _round in range(2):
        auth.login(user)
        for _attempt in range(5):
            client.post("/login/code", data={"code": "000000"})
    auth.login(user)
    limited = client.post("/login/code", data={"code": code_now(secret)})
    assert limited.status_code == 429
    assert client.get("/doctor").status_code == 302


def test_the_code_step_expires(client, auth, enrolled_doctor, controlled_clock):
    user, secret, _codes = enrolled_doctor
    auth.login(user)
    controlled_clock.shift(timedelta(minutes=6))
    late = client.post("/login/code", data={"code": code_now(secret)})
    assert late.status_code == 303
    assert late.headers["Location"] == "/login"
    assert client.get("/doctor").status_code == 302


def test_the_code_step_without_a_password_sends_to_sign_in(client):
    response = client.post("/login/code", data={"code": "123456"})
    assert response.headers["Location"] == "/login"


def test_turning_it_off_needs_the_password_and_a_code(client, auth, db, enrolled_doctor):
    user, secret, _codes = enrolled_doctor
    auth.login(user)
    client.post("/login/code", data={"code": code_now(secret, timedelta(seconds=-30))})
    bad_password = client.post(
        "/account/two-factor/disable", data={"password": "wrong-one-here", "code": "1"}
    )
    assert bad_password.status_code == 422
    assert "Your password is not right." in bad_password.text
    bad_code = client.post(
        "/account/two-factor/disable", data={"password": PASSWORD, "code": "000000"}
    )
    assert bad_code.status_code == 422
    assert db.session.get(TwoFactor, user.id) is not None
    done = client.post(
        "/account/two-factor/disable", data={"password": PASSWORD, "code": code_now(secret)}
    )
    assert done.status_code == 303
    db.session.expire_all()
    assert db.session.get(TwoFactor, user.id) is None
    assert db.session.scalars(select(RecoveryCode)).all() == []
    auth.logout()
    assert auth.login(user).headers["Location"] == "/doctor"


def test_new_recovery_codes_replace_the_old_ones(client, auth, enrolled_doctor):
    user, secret, codes = enrolled_doctor
    auth.login(user)
    client.post("/login/code", data={"code": code_now(secret, timedelta(seconds=-30))})
    page = client.post("/account/two-factor/recovery-codes", data={"code": code_now(secret)})
    assert page.status_code == 200
    fresh = re.findall(r"<li><code>([0-9a-f-]+)</code></li>", page.text)
    assert len(fresh) == 10
    assert not set(fresh) & set(codes)
    auth.logout()
    auth.login(user)
    assert client.post("/login/code", data={"code": codes[2]}).status_code == 422
    assert client.post("/login/code", data={"code": fresh[0]}).status_code == 303


def test_patients_have_no_two_factor_pages(client, auth, patient):
    auth.login(patient.user)
    assert client.get("/account/two-factor").status_code == 404
    assert client.post("/account/two-factor/set-up").status_code == 404


def test_the_pages_need_a_signed_in_user(client):
    assert client.get("/account/two-factor").headers["Location"].startswith("/login")


def test_an_admin_requires_it_of_staff_who_enrol_right_after_signing_in(
    client, auth, db, admin, doctor, patient, controlled_clock
):
    auth.login(admin)
    page = client.get("/admin/settings")
    assert "Require two-factor sign-in for staff" in page.text
    saved = client.post(
        "/admin/settings",
        data={
            "min_notice_minutes": 120,
            "horizon_days": 90,
            "cancel_cutoff_hours": 24,
            "require_staff_otp": "y",
        },
    )
    assert saved.status_code == 303
    assert "checked" in client.get("/admin/settings").text
    auth.logout()

    signed_in = auth.login(doctor.user)
    assert signed_in.headers["Location"] == "/account/two-factor"
    # Nothing else opens until it is on.
    assert client.get("/doctor").headers["Location"] == "/account/two-factor"
    assert (
        "The clinic requires two-factor sign-in of staff." in client.get("/account/two-factor").text
    )
    _secret, codes = enrol(client, db, doctor.user)
    assert len(codes) == 10
    assert client.get("/doctor").status_code == 200
    auth.logout()

    # Patients are not asked.
    assert auth.login(patient.user).headers["Location"] == "/patient"
