"""Password reset and email verification, on the pages and in the API, with the links
read from what a real SMTP server received."""

import email
import re
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import func, select

from portal.auth.models import AccountToken, RefreshToken, User
from portal.booking import services
from portal.db import utcnow
from portal.messages import delivery
from portal.messages.models import Message
from tests.api.conftest import Api
from tests.conftest import PASSWORD

NEW_PASSWORD = "lantern-orchard-77"


def deliver(db):
    """Send what is queued, as a worker would after the commit."""
    db.session.commit()
    delivery.tick(now=utcnow())


def mails_to(smtp_server, address):
    found = []
    for _sender, recipients, raw in smtp_server.received:
        if address in recipients:
            found.append(email.message_from_bytes(raw, policy=policy.default))
    return found


def text_of(message):
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    return ""


def link_in(message, path):
    match = re.search(
        r"https?://[^\s\"<>]+" + re.escape(path) + r"([A-Za-z0-9_\-]+)", text_of(message)
    )
    assert match, text_of(message)
    return match.group(1)


# Password reset -------------------------------------------------------------------------


def test_forgot_password_is_offered_on_the_sign_in_page(client):
    page = client.get("/login")
    assert 'href="/password/forgot"' in page.text
    assert "Forgot your password?" in page.text


def test_a_reset_link_sets_a_new_password_once_and_signs_out_everywhere(
    app, db, client, patient, smtp_server
):
    other_device = app.test_client()
    assert (
        other_device.post(
            "/login", data={"email": patient.user.email, "password": PASSWORD}
        ).status_code
        == 303
    )
    api_tokens = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": patient.user.email, "password": PASSWORD},
    ).get_json()

    answer = client.post("/password/forgot", data={"email": patient.user.email.upper()})
    assert answer.status_code == 200
    assert "a link to choose a new password is on its way" in answer.text
    deliver(db)
    (message,) = mails_to(smtp_server, patient.user.email)
    assert message["Subject"] == "Reset your password for the clinic portal"
    token = link_in(message, "/password/reset/")
    # Only a digest is kept.
    assert db.session.scalar(select(func.count()).where(AccountToken.token_hash == token)) == 0

    # The link's token moves into the session; the address bar keeps no secret.
    opened = client.get(f"/password/reset/{token}")
    assert (opened.status_code, opened.headers["Location"]) == (303, "/password/reset")
    form = client.get("/password/reset")
    assert form.status_code == 200
    assert form.headers["Cache-Control"] == "no-store"
    done = client.post("/password/reset", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303
    assert client.get("/patient").status_code == 200  # signed in here

    # The other session and every refresh token ended.
    assert other_device.get("/patient").status_code == 302
    refreshed = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": api_tokens["refresh_token"]},
    )
    assert refreshed.status_code == 401
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(func.count()).where(
                RefreshToken.user_id == patient.user.id, RefreshToken.revoked_at.is_(None)
            )
        )
        == 0
    )
    # The old password is gone, the new one works; the link works once.
    assert client.post("/logout").status_code == 303
    fresh = app.test_client()
    assert (
        fresh.post("/login", data={"email": patient.user.email, "password": PASSWORD}).status_code
        == 422
    )
    assert (
        fresh.post(
            "/login", data={"email": patient.user.email, "password": NEW_PASSWORD}
        ).status_code
        == 303
    )
    again = app.test_client().get(f"/password/reset/{token}", follow_redirects=True)
    assert again.status_code == 400
    assert "This link does not work any more" in again.text


def test_the_answer_is_the_same_for_an_unknown_address(db, client, patient, smtp_server):
    known = client.post("/password/forgot", data={"email": patient.user.email})
    unknown = client.post("/password/forgot", data={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace(patient.user.email, "X") == unknown.text.replace(
        "nobody@example.org", "X"
    )
    api_known = client.post("/api/v1/auth/password-reset", json={"email": patient.user.email})
    api_unknown = client.post("/api/v1/auth/password-reset", json={"email": "nobody@example.org"})
    assert (api_known.status_code, api_known.data) == (api_unknown.status_code, api_unknown.data)
    assert api_known.status_code == 202
    deliver(db)
    assert len(mails_to(smtp_server, patient.user.email)) == 2
    assert mails_to(smtp_server, "nobody@example.org") == []


def test_a_reset_link_expires_after_an_hour(db, client, patient, controlled_clock):
    client.post("/api/v1/auth/password-reset", json={"email": patient.user.email})
    token = _token_from_outbox(db, "/password/reset/")
    controlled_clock.shift(timedelta(minutes=61))
    answer = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    assert answer.status_code == 400
    assert answer.get_json()["code"] == "invalid_token"


def test_the_api_resets_a_password_once(api, db, client, patient):
    old_access = api.token(patient.user)
    client.post("/api/v1/auth/password-reset", json={"email": patient.user.email})
    token = _token_from_outbox(db, "/password/reset/")
    weak = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": "short"}
    )
    assert weak.status_code == 400
    assert list(weak.get_json()["errors"]) == ["password"]
    done = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    assert done.status_code == 204
    # The access token issued before the reset no longer works.
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {old_access}"})
    assert me.status_code == 401
    again = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    assert (again.status_code, again.get_json()["code"]) == (400, "invalid_token")
    unknown = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": "nope", "password": NEW_PASSWORD}
    )
    assert (unknown.status_code, unknown.get_json()["code"]) == (400, "invalid_token")


def test_the_reset_message_is_in_the_users_language(
    db, client, make_patient, make_user, smtp_server
):
    french = make_patient(user=make_user(locale="fr"))
    client.post("/api/v1/auth/password-reset", json={"email": french.user.email})
    deliver(db)
    (message,) = mails_to(smtp_server, french.user.email)
    assert (
        message["Subject"].strip() == "Réinitialisez votre mot de passe du portail de la clinique"
    )
    assert "Bonjour" in text_of(message)


def test_reset_requests_are_limited_per_client_address(app, client, patient):
    app.config["PASSWORD_RESET_LIMIT_PER_ADDRESS"] = "2 per hour"
    try:
        answers = [
            client.post("/api/v1/auth/password-reset", json={"email": patient.user.email})
            for _ in range(3)
        ]
        pages = [
            client.post("/password/forgot", data={"email": patient.user.email}) for _ in range(3)
        ]
    finally:
        app.config["PASSWORD_RESET_LIMIT_PER_ADDRESS"] = "5 per 15 minutes"
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert answers[2].get_json()["code"] == "rate_limited"
    assert "Retry-After" in answers[2].headers
    assert [p.status_code for p in pages] == [200, 200, 429]


def _token_from_outbox(db, path):
    db.session.expire_all()
    text = db.session.scalars(select(Message.text).order_by(Message.id.desc())).first()
    match = re.search(re.escape(path) + r"([A-Za-z0-9_\-]+)", text)
    assert match, text
    return match.group(1)


# Email verification ---------------------------------------------------------------------


def register(client, email="new.patient@example.org", **extra):
    return client.post(
        "/register",
        data={
            "full_name": "Nora Newcomer",
            "email": email,
            "password": PASSWORD,
            "confirm": PASSWORD,
            **extra,
        },
    )


def test_a_registered_patient_verifies_their_address_before_booking(
    db, client, open_slot, smtp_server
):
    doctor, start = open_slot
    assert register(client).status_code == 303
    user = db.session.scalar(select(User).where(User.email == "new.patient@example.org"))
    assert user.email_verified is False

    # Booking is refused with a way to get the link again.
    panel = client.get(f"/doctors/{doctor.id}/book", query_string={"start": start.isoformat()})
    assert "Confirm your email address before you book" in panel.text
    assert 'action="/verify-email/resend"' in panel.text
    refused = client.post(f"/doctors/{doctor.id}/book", data={"start": start.isoformat()})
    assert refused.status_code == 403
    assert "Confirm your email address before you book" in refused.text

    deliver(db)
    (message,) = mails_to(smtp_server, "new.patient@example.org")
    assert message["Subject"] == "Confirm your email address for the clinic portal"
    token = link_in(message, "/verify-email/")
    # Opening the link verifies nothing by itself (mail scanners open links).
    assert client.get(f"/verify-email/{token}").headers["Location"] == "/verify-email"
    assert client.get("/verify-email").status_code == 200
    db.session.expire_all()
    assert db.session.get(User, user.id).email_verified is False
    assert client.post("/verify-email").status_code == 303
    db.session.expire_all()
    assert db.session.get(User, user.id).email_verified is True
    again = client.get(f"/verify-email/{token}", follow_redirects=True)
    assert again.status_code == 400  # once

    booked = client.post(f"/doctors/{doctor.id}/book", data={"start": start.isoformat()})
    assert booked.status_code == 303


def test_a_patient_asks_for_the_link_again(db, client, smtp_server):
    register(client)
    resent = client.post("/verify-email/resend", data={"next": "/patient"})
    assert resent.status_code == 303
    assert resent.headers["Location"] == "/patient"
    deliver(db)
    assert len(mails_to(smtp_server, "new.patient@example.org")) == 2


def test_the_api_register_verify_and_book(api, db, client, open_slot):
    doctor, start = open_slot
    created = client.post(
        "/api/v1/auth/register",
        json={"email": "api.patient@example.org", "password": PASSWORD, "full_name": "Api Patient"},
    )
    assert created.status_code == 201
    assert created.get_json()["email_verified"] is False
    user = db.session.scalar(select(User).where(User.email == "api.patient@example.org"))
    assert api.get("/me", user=user).get_json()["email_verified"] is False

    refused = api.post(
        "/appointments", user=user, json={"doctor_id": doctor.id, "start": start.isoformat()}
    )
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "email_not_verified"

    assert api.post("/auth/verify-email/resend", user=user).status_code == 202
    token = _token_from_outbox(db, "/verify-email/")
    assert client.post("/api/v1/auth/verify-email", json={"token": token}).status_code == 204
    again = client.post("/api/v1/auth/verify-email", json={"token": token})
    assert (again.status_code, again.get_json()["code"]) == (400, "invalid_token")
    db.session.expire_all()
    assert api.get("/me", user=user).get_json()["email_verified"] is True
    booked = api.post(
        "/appointments", user=user, json={"doctor_id": doctor.id, "start": start.isoformat()}
    )
    assert booked.status_code == 201, booked.get_json()


def test_accounts_made_by_an_admin_or_activated_count_as_verified(api, admin, patient):
    assert api.get("/me", user=patient.user).get_json()["email_verified"] is True
    created = api.post(
        "/patients",
        user=admin,
        json={"full_name": "Olga Onboarded", "email": "olga@example.org"},
    )
    assert created.status_code == 201, created.get_json()


def test_resending_is_limited_per_account(app, api, db, client):
    client.post(
        "/api/v1/auth/register",
        json={"email": "api.patient@example.org", "password": PASSWORD, "full_name": "Api Patient"},
    )
    user = db.session.scalar(select(User).where(User.email == "api.patient@example.org"))
    statuses = [api.post("/auth/verify-email/resend", user=user).status_code for _ in range(4)]
    assert statuses == [202, 202, 202, 429]


def test_registrations_are_limited_per_client_address(app, client):
    app.config["REGISTER_LIMIT_PER_ADDRESS"] = "2 per hour"
    try:
        pages = [
            register(app.test_client(), email=f"p{n}@example.org").status_code for n in range(3)
        ]
        api = client.post(
            "/api/v1/auth/register",
            json={"email": "p9@example.org", "password": PASSWORD, "full_name": "Api Patient"},
        )
        api_statuses = [api.status_code] + [
            client.post(
                "/api/v1/auth/register",
                json={"email": f"q{n}@example.org", "password": PASSWORD, "full_name": "Q"},
            ).status_code
            for n in range(2)
        ]
    finally:
        app.config["REGISTER_LIMIT_PER_ADDRESS"] = "10 per hour"
    assert pages == [303, 303, 429]
    assert api_statuses == [201, 201, 429]


@pytest.fixture
def api(app, client):
    return Api(app, client)


@pytest.fixture
def open_slot(doctor):
    now = utcnow()
    slots = services.slots_for(
        doctor=doctor, first_day=now.date(), last_day=now.date() + timedelta(days=14), now=now
    )
    return doctor, slots[0].start


def test_a_verified_patient_asking_again_gets_no_link(db, client, auth, patient):
    assert auth.login(patient.user).status_code == 303
    answer = client.post("/verify-email/resend", data={"next": "/patient"}, follow_redirects=True)
    assert "Your email address is confirmed already." in answer.text
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0
