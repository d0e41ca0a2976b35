"""A patient's data: downloaded in full, and erased when they close their account."""

import json

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import RefreshToken, User
from portal.booking.models import Appointment, Status
from portal.directory.models import CareAssignment, Patient
from tests.api.conftest import Api, assert_problem
from tests.conftest import PASSWORD


@pytest.fixture
def api(app, client):
    return Api(app, client)


@pytest.fixture
def maya(db, make_user, make_patient):
    user = make_user(full_name="Maya Chen", email="maya@example.org")
    return make_patient(
        user=user,
        phone="+33 6 12 34 56 78",
        blood_group="O+",
        allergies="Penicillin",
        emergency_contact="Leo Chen +33 6 00 00 00 00",
    )


@pytest.fixture
def visits(db, doctor, maya, make_visit):
    past = make_visit(doctor, maya, days=-10, status=Status.COMPLETED, reason="Migraine")
    future = make_visit(doctor, maya, days=5, reason="Follow-up on migraine")
    db.session.add(CareAssignment(doctor_id=doctor.id, patient_id=maya.id))
    db.session.commit()
    return past, future


def fresh(db, model, key):
    db.session.expire_all()
    return db.session.get(model, key)


# Export ---------------------------------------------------------------------------------


def test_a_patient_downloads_all_their_data_as_json(api, doctor, maya, visits):
    api.get(f"/patients/{maya.id}", user=doctor.user)  # a read by the doctor
    answer = api.get("/me/export", user=maya.user)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    data = answer.get_json()
    assert data["profile"]["full_name"] == "Maya Chen"
    assert data["profile"]["allergies"] == "Penicillin"
    assert [item["full_name"] for item in data["profile"]["doctors"]] == [doctor.full_name]
    assert [item["reason"] for item in data["appointments"]] == [
        "Migraine",
        "Follow-up on migraine",
    ]
    assert data["messages"] == []
    [read] = data["record_reads"]
    assert read["by"] == doctor.user.full_name
    assert read["action"] == "patient.record_viewed"


def test_a_patient_downloads_their_data_from_their_profile(client, auth, maya, visits):
    auth.login(maya.user)
    page = client.get("/profile/data")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "Penicillin" in page.text
    assert "Follow-up on migraine" in page.text
    download = client.get("/profile/data.json")
    assert download.status_code == 200
    assert download.headers["Cache-Control"] == "no-store"
    assert "attachment" in download.headers["Content-Disposition"]
    assert json.loads(download.data)["profile"]["email"] == "maya@example.org"


def test_the_export_is_audited(db, api, maya):
    api.get("/me/export", user=maya.user)
    db.session.expire_all()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "patient.exported"))
    assert (event.actor_id, event.entity_id) == (maya.user.id, maya.id)


def test_an_admin_exports_on_a_patients_behalf_and_nobody_else_may(
    api, admin, doctor, maya, make_patient, visits
):
    answer = api.get(f"/patients/{maya.id}/export", user=admin)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.get_json()["profile"]["id"] == maya.id
    assert_problem(api.get(f"/patients/{maya.id}/export", user=doctor.user), 403, "forbidden")
    other = make_patient()
    assert_problem(api.get(f"/patients/{maya.id}/export", user=other.user), 404, "not_found")


def test_an_admin_downloads_a_patients_data_from_the_admin_pages(client, auth, admin, maya):
    auth.login(admin)
    page = client.get(f"/admin/patients/{maya.id}/data")
    assert page.status_code == 200
    assert "Penicillin" in page.text
    download = client.get(f"/admin/patients/{maya.id}/data.json")
    assert json.loads(download.data)["profile"]["full_name"] == "Maya Chen"


# Erasure --------------------------------------------------------------------------------


def test_a_patient_closes_their_account_with_their_password(db, api, doctor, maya, visits):
    past, future = visits
    user_id, patient_id = maya.user.id, maya.id
    token = api.token(maya.user)
    refused = api.delete("/me", user=maya.user, json={"password": "not-my-password"})
    assert_problem(refused, 400, "validation_failed")
    answer = api.delete("/me", user=maya.user, json={"password": PASSWORD})
    assert answer.status_code == 204

    user = fresh(db, User, user_id)
    patient = fresh(db, Patient, patient_id)
    assert "Maya" not in user.full_name
    assert "maya" not in user.email
    assert not user.is_active
    assert user.password_hash is None
    assert (patient.phone, patient.blood_group, patient.allergies) == ("", None, "")
    assert patient.date_of_birth is None
    assert patient.emergency_contact == ""
    assert db.session.scalars(select(CareAssignment)).all() == []
    # Past visits stay for the clinic, without the patient's words; future ones end.
    assert fresh(db, Appointment, past.id).status == Status.COMPLETED
    assert fresh(db, Appointment, past.id).reason == ""
    assert fresh(db, Appointment, future.id).status == Status.CANCELLED
    # Every session and token ends, this one included.
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/me", headers=headers).status_code == 401
    assert all(item.revoked_at for item in db.session.scalars(select(RefreshToken)))
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "patient.account_closed")
    )
    assert (event.actor_id, event.entity_id) == (user_id, patient_id)
    assert event.changes["cancelled_visits"] == 1


def test_closing_from_the_profile_signs_the_patient_out(db, client, auth, maya, visits):
    auth.login(maya.user)
    wrong = client.post("/profile/close", data={"password": "wrong-password-here"})
    assert wrong.status_code == 422
    assert fresh(db, User, maya.user_id).is_active
    done = client.post("/profile/close", data={"password": PASSWORD})
    assert done.status_code == 303
    assert client.get("/profile").status_code == 302  # signed out
    assert auth.login("maya@example.org").status_code == 422


def test_an_admin_closes_an_account_on_a_patients_behalf(
    db, api, client, auth, admin, doctor, maya, visits
):
    assert_problem(api.delete(f"/patients/{maya.id}", user=doctor.user), 403, "forbidden")
    assert api.delete(f"/patients/{maya.id}", user=admin).status_code == 204
    assert not fresh(db, User, maya.user_id).is_active
    assert fresh(db, Appointment, visits[1].id).status == Status.CANCELLED


def test_an_admin_closes_an_account_from_the_patient_page(db, client, auth, admin, maya):
    auth.login(admin)
    answer = client.post(f"/admin/patients/{maya.id}/close")
    assert answer.status_code in (200, 303)
    assert not fresh(db, User, maya.user_id).is_active


def test_a_closed_patient_is_no_longer_anyones_patient(db, api, doctor, maya, visits):
    api.delete("/me", user=maya.user, json={"password": PASSWORD})
    listed = api.get("/patients", user=doctor.user).get_json()
    # The past visit keeps the doctor's link to the record, but nothing names Maya.
    assert all("Maya" not in item["full_name"] for item in listed["items"])


def test_the_trail_keeps_what_happened_but_not_the_erased_values(db, api, admin, maya, visits):
    changed = api.patch(f"/patients/{maya.id}", user=admin, json={"phone": "+33 1 23 45 67 89"})
    assert changed.status_code == 200
    api.delete(f"/patients/{maya.id}", user=admin)
    db.session.expire_all()
    trail = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    updated = next(event for event in trail if event.action == "patient.updated")
    assert updated.changes == {"erased": ["phone"]}
    assert "+33" not in json.dumps([event.changes for event in trail])
    assert "Migraine" not in json.dumps([event.changes for event in trail])
    assert trail[-1].action == "patient.account_closed"


def test_an_admin_closing_the_account_ends_the_patients_open_session(
    app, db, auth, admin, maya, visits
):
    patient_browser = app.test_client()
    patient_browser.post("/login", data={"email": "maya@example.org", "password": PASSWORD})
    assert patient_browser.get("/profile").status_code == 200
    auth.login(admin)
    auth.client.post(f"/admin/patients/{maya.id}/close")
    assert patient_browser.get("/profile").status_code == 302


# Messages -------------------------------------------------------------------------------


def _message_to(db, user, *, event, status=None):
    from portal.messages import services as outbox
    from portal.messages.models import Message

    message_id = outbox.queue(
        kind="booking_confirmed",
        event=event,
        to_address=user.email,
        subject=f"Your appointment, {user.full_name}",
        text=f"Hello {user.full_name}",
        html=f"<p>Hello {user.full_name}</p>",
        user_id=user.id,
    )
    if status is not None:
        db.session.get(Message, message_id).status = status
    db.session.commit()
    return message_id


def test_the_export_lists_the_messages_sent_to_the_patient(db, api, maya):
    _message_to(db, maya.user, event="appointment-1-booked", status="sent")
    data = api.get("/me/export", user=maya.user).get_json()
    [message] = data["messages"]
    assert message["kind"] == "booking_confirmed"
    assert message["to"] == "maya@example.org"
    assert message["subject"] == "Your appointment, Maya Chen"
    assert message["status"] == "sent"


def test_the_data_page_lists_the_messages_sent_to_the_patient(db, client, auth, maya):
    _message_to(db, maya.user, event="appointment-1-booked", status="sent")
    auth.login(maya.user)
    page = client.get("/profile/data").get_data(as_text=True)
    assert "Your appointment, Maya Chen" in page


def test_closing_an_account_erases_the_patients_messages_and_tells_the_doctor(
    db, api, doctor, maya, visits
):
    from portal.messages.models import Message

    _past, future = visits
    sent = _message_to(db, maya.user, event="appointment-1-booked", status="sent")
    _message_to(db, maya.user, event="appointment-2-booked")  # not sent yet
    user_id = maya.user.id
    assert api.delete("/me", user=maya.user, json={"password": PASSWORD}).status_code == 204

    db.session.expire_all()
    mine = db.session.scalars(select(Message).where(Message.user_id == user_id)).all()
    # What was sent stays as a fact (kind, status, time), naming nobody; the rest is gone.
    assert [message.id for message in mine] == [sent]
    [kept] = mine
    assert (kept.subject, kept.text, kept.html) == ("", "", "")
    assert "maya" not in kept.to_address
    # The doctor hears that the visit still to come was cancelled; the patient gets nothing.
    told = db.session.scalars(select(Message).where(Message.appointment_id == future.id)).all()
    assert [(message.kind, message.user_id) for message in told] == [
        ("doctor_cancellation", doctor.user_id)
    ]
