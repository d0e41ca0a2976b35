"""Each request's changes are saved once, after the answer is ready, or not at all; an
answer never claims a change the database refused."""

import pytest
from flask import has_request_context
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.api.security import issue_access_token
from portal.auth.models import User
from portal.db import utcnow
from portal.directory.models import Department
from tests.conftest import PASSWORD


@pytest.fixture
def refusing_commits(app):
    """The database refuses every commit a request makes, as a unique index does when
    another request saved the same row a moment earlier."""

    def refuse(session):
        if has_request_context():
            raise IntegrityError("COMMIT", {}, Exception("duplicate key value"))

    event.listen(Session, "before_commit", refuse)
    yield
    event.remove(Session, "before_commit", refuse)


def _count(db, model):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def _register(client):
    return client.post(
        "/register",
        data={
            "full_name": "Nora Vidal",
            "email": "nora@example.org",
            "password": "tulip-harbour-42",
            "confirm": "tulip-harbour-42",
        },
    )


def test_a_sign_up_the_database_refuses_says_so_and_signs_nobody_in(client, db, refusing_commits):
    response = _register(client)
    assert response.status_code == 409
    assert "Someone changed the same data at the same moment" in response.text
    assert _count(db, User) == 0
    # No welcome message waits on the next page, and nobody is signed in.
    home = client.get("/")
    assert "Your account is ready" not in home.text
    assert client.get("/patient").status_code == 302


def test_an_api_write_the_database_refuses_is_a_problem_not_a_success(
    client, db, admin, refusing_commits
):
    token = issue_access_token(admin, now=utcnow())
    response = client.post(
        "/api/v1/departments",
        headers={"Authorization": f"Bearer {token}"},
        json={"code": "cardio", "name": "Cardiology"},
    )
    assert response.status_code == 409
    assert response.content_type == "application/problem+json"
    assert response.get_json()["code"] == "changed_meanwhile"
    assert _count(db, Department) == 0


def test_a_page_that_only_reads_is_not_troubled_by_the_commit(client, refusing_commits):
    # Nothing to save: the answer stands.
    assert client.get("/login").status_code == 200


@pytest.fixture
def refuse_writes(app):
    """Calling it makes the database refuse each request's first write, as a unique
    index does when another request saved the same value while this one was checking."""

    def refuse(session, _context, _instances):
        if has_request_context():
            raise IntegrityError("INSERT", {}, Exception("duplicate key value"))

    yield lambda: event.listen(Session, "before_flush", refuse)
    if event.contains(Session, "before_flush", refuse):
        event.remove(Session, "before_flush", refuse)


def test_a_write_the_database_refuses_is_a_clear_error_on_a_page_and_in_the_api(
    client, db, admin, refuse_writes
):
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    refuse_writes()
    page = client.post("/admin/departments", data={"code": "cardio", "name": "Cardiology"})
    assert page.status_code == 409
    assert "Someone changed the same data at the same moment" in page.text
    token = issue_access_token(admin, now=utcnow())
    response = client.post(
        "/api/v1/departments",
        headers={"Authorization": f"Bearer {token}"},
        json={"code": "cardio", "name": "Cardiology"},
    )
    assert response.status_code == 409
    assert response.get_json()["code"] == "changed_meanwhile"
    assert _count(db, Department) == 0
