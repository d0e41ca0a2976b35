"""Sign-ins, failed sign-ins and lockouts are in the audit trail, with the address."""

from datetime import timedelta

import pyotp
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth import two_factor
from portal.db import utcnow
from tests.api.conftest import Api
from tests.conftest import PASSWORD

ADDRESS = {"REMOTE_ADDR": "198.51.100.4"}


def events(db, action):
    db.session.expire_all()
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


def test_a_sign_in_and_a_failed_one_are_audited(db, client, patient):
    user = patient.user
    wrong = client.post(
        "/login", data={"email": user.email, "password": "not-the-password"}, environ_base=ADDRESS
    )
    assert wrong.status_code == 422
    [failed] = events(db, "user.sign_in_failed")
    assert (failed.entity_type, failed.entity_id, failed.ip_address) == (
        "user",
        user.id,
        "198.51.100.4",
    )
    right = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        environ_base=ADDRESS,
    )
    assert right.status_code == 303
    [signed_in] = events(db, "user.signed_in")
    assert (signed_in.actor_id, signed_in.ip_address) == (user.id, "198.51.100.4")


def test_a_failed_api_sign_in_is_audited(db, app, client, patient):
    api = Api(app, client)
    answer = api.post(
        "/auth/token",
        json={"grant_type": "password", "username": patient.user.email, "password": "nope"},
    )
    assert answer.status_code == 401
    [failed] = events(db, "user.sign_in_failed")
    assert failed.entity_id == patient.user.id


def test_an_unknown_email_is_audited_without_keeping_what_was_typed(db, client):
    client.post("/login", data={"email": "secret-password@example.org", "password": "x"})
    [failed] = events(db, "user.sign_in_failed")
    assert failed.entity_id is None
    assert "secret" not in str(failed.changes)


def test_a_lockout_is_audited(db, app, client, patient):
    limit = int(app.config["LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS"].split()[0])
    data = {"email": patient.user.email, "password": "not-the-password"}
    for _attempt in range(limit):
        assert client.post("/login", data=data, environ_base=ADDRESS).status_code == 422
    refused = client.post("/login", data=data, environ_base=ADDRESS)
    assert refused.status_code == 429
    [locked] = events(db, "user.locked_out")
    assert (locked.entity_id, locked.ip_address) == (patient.user.id, "198.51.100.4")


def test_an_api_sign_in_is_audited(db, app, client, patient):
    api = Api(app, client)
    answer = api.post(
        "/auth/token",
        json={"grant_type": "password", "username": patient.user.email, "password": PASSWORD},
        environ_base=ADDRESS,
    )
    assert answer.status_code == 200
    [signed_in] = events(db, "user.signed_in")
    assert (signed_in.actor_id, signed_in.ip_address) == (patient.user.id, "198.51.100.4")


def test_a_sign_in_counts_once_the_second_factor_is_given(db, client, doctor, controlled_clock):
    user = doctor.user
    record = two_factor.begin_enrolment(user=user)
    two_factor.confirm_enrolment(
        user=user, code=pyotp.TOTP(record.secret).at(utcnow()), now=utcnow()
    )
    db.session.commit()
    controlled_clock.shift(timedelta(seconds=60))
    asked = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert asked.status_code == 303
    assert events(db, "user.signed_in") == []
    code = pyotp.TOTP(record.secret).at(utcnow())
    done = client.post("/login/code", data={"code": code})
    assert done.status_code == 303
    [signed_in] = events(db, "user.signed_in")
    assert signed_in.actor_id == user.id
