"""Onboarded doctors and patients set their password once with the clinic's link."""

from datetime import timedelta

import pytest

from portal.auth import services, two_factor
from portal.auth.models import ActivationToken, Role
from portal.db import utcnow

NEW_PASSWORD = "lantern-meadow-4821"


@pytest.fixture
def invited(db, make_user, make_doctor, admin):
    """An onboarded doctor without a password, and their activation token."""
    user = make_user(Role.DOCTOR, password_hash=None, full_name="Nadia Invited")
    make_doctor(user=user)
    token = services.create_activation_token(user=user, actor=admin, now=utcnow())
    db.session.commit()
    return user, token


def form(password=NEW_PASSWORD, confirm=None):
    return {"password": password, "confirm": password if confirm is None else confirm}


def open_link(client, token):
    """Open the clinic's link as a browser does: it lands on the clean address."""
    response = client.get(f"/activate/{token}")
    assert response.status_code == 303
    assert response.headers["Location"] == "/activate"
    return client.get("/activate")


def test_the_link_trades_its_token_for_an_address_without_it(client, invited):
    user, token = invited
    first = client.get(f"/activate/{token}")
    assert first.status_code == 303
    assert token not in first.headers["Location"]
    assert first.headers["Cache-Control"] == "no-store"
    page = client.get(first.headers["Location"])
    assert page.status_code == 200
    assert user.email in page.text
    assert token not in page.text
    assert 'action="/activate"' in page.text


def test_the_link_shows_a_form_for_the_account(client, invited):
    user, token = invited
    page = open_link(client, token)
    assert page.status_code == 200
    assert user.email in page.text
    assert '<label for="password">New password</label>' in page.text
    assert '<label for="confirm">Repeat the new password</label>' in page.text
    assert 'autocomplete="new-password"' in page.text
    assert page.headers["Cache-Control"] == "no-store"


def test_the_clean_address_without_a_link_is_refused(client, invited):
    page = client.get("/activate")
    assert page.status_code == 400
    assert "This link does not work any more" in page.text
    assert client.post("/activate", data=form()).status_code == 400


def test_a_valid_token_sets_the_password_once_and_signs_in(auth, client, db, invited):
    user, token = invited
    open_link(client, token)
    response = client.post("/activate", data=form())
    assert response.status_code == 303
    assert response.headers["Location"] == "/doctor"
    home = client.get("/doctor")
    assert home.status_code == 200
    assert "Your password is set. Welcome, Nadia Invited." in home.text
    db.session.expire_all()
    activation = db.session.query(ActivationToken).filter_by(user_id=user.id).one()
    assert activation.used_at is not None
    auth.logout()
    assert auth.login(user, password=NEW_PASSWORD).status_code == 303


def test_staff_required_to_use_two_factor_set_it_up_after_activating(client, db, admin, invited):
    _user, token = invited
    two_factor.set_staff_requirement(actor=admin, required=True)
    db.session.commit()
    open_link(client, token)
    response = client.post("/activate", data=form())
    assert response.headers["Location"] == "/account/two-factor"
    assert client.get("/doctor").headers["Location"] == "/account/two-factor"


def test_a_patient_lands_on_their_home(client, db, make_user, make_patient, admin):
    user = make_user(Role.PATIENT, password_hash=None)
    make_patient(user=user)
    token = services.create_activation_token(user=user, actor=admin, now=utcnow())
    db.session.commit()
    open_link(client, token)
    response = client.post("/activate", data=form())
    assert response.headers["Location"] == "/patient"


def test_a_used_link_is_refused(client, db, invited):
    user, token = invited
    open_link(client, token)
    assert client.post("/activate", data=form()).status_code == 303
    other = client.application.test_client()
    page = open_link(other, token)
    assert page.status_code == 400
    assert "Ask the clinic for a new link." in page.text
    assert 'name="password"' not in page.text
    again = other.post("/activate", data=form("another-good-phrase-77"))
    assert again.status_code == 400
    db.session.expire_all()
    assert services.authenticate(email=user.email, password=NEW_PASSWORD) is not None


def test_a_link_spent_in_another_browser_is_refused_on_submit(client, db, invited):
    user, token = invited
    assert open_link(client, token).status_code == 200
    other = client.application.test_client()
    open_link(other, token)
    assert other.post("/activate", data=form()).status_code == 303
    late = client.post("/activate", data=form("another-good-phrase-77"))
    assert late.status_code == 400
    assert "Ask the clinic for a new link." in late.text
    db.session.expire_all()
    assert services.authenticate(email=user.email, password=NEW_PASSWORD) is not None


def test_an_expired_link_is_refused(client, db, make_user, admin):
    user = make_user(Role.DOCTOR, password_hash=None)
    token = services.create_activation_token(
        user=user, actor=admin, now=utcnow() - timedelta(days=8)
    )
    db.session.commit()
    page = open_link(client, token)
    assert page.status_code == 400
    assert "Ask the clinic for a new link." in page.text
    assert client.post("/activate", data=form()).status_code == 400
    db.session.expire_all()
    assert services.authenticate(email=user.email, password=NEW_PASSWORD) is None


def test_a_link_that_expires_while_open_is_refused(client, db, invited, controlled_clock):
    _user, token = invited
    assert open_link(client, token).status_code == 200
    controlled_clock.shift(timedelta(days=7, minutes=1))
    page = client.post("/activate", data=form())
    assert page.status_code == 400
    assert "Ask the clinic for a new link." in page.text


def test_an_unknown_link_is_refused(client):
    page = open_link(client, "not-a-real-token")
    assert page.status_code == 400
    assert "This link does not work any more" in page.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (form("short"), "Use at least 10 characters."),
        (form("password123"), "too easy to guess"),
        (form(confirm="something-else-entirely"), "The passwords differ."),
        (form(""), "This field is required."),
    ],
)
def test_a_weak_password_is_refused_inline_and_the_link_still_works(
    client, db, invited, data, message
):
    user, token = invited
    open_link(client, token)
    response = client.post("/activate", data=data)
    assert response.status_code == 422
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    db.session.expire_all()
    assert db.session.get(type(user), user.id).password_hash is None
    assert client.get("/activate").status_code == 200
    assert client.post("/activate", data=form()).status_code == 303
