"""Every read of medical data leaves an audit event: who, what, when, from where."""

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from tests.api.conftest import Api

ADDRESS = {"REMOTE_ADDR": "203.0.113.7"}


@pytest.fixture
def api(app, client):
    return Api(app, client)


@pytest.fixture
def cared_for(db, doctor, patient, make_visit):
    make_visit(doctor, patient)
    return patient


def events(db, action):
    db.session.expire_all()
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


def test_a_doctor_opening_a_record_is_audited_with_the_address(db, client, auth, doctor, cared_for):
    auth.login(doctor.user)
    page = client.get(f"/my-patients/{cared_for.id}", environ_base=ADDRESS)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    [event] = events(db, "patient.record_viewed")
    assert (event.actor_id, event.entity_type, event.entity_id) == (
        doctor.user.id,
        "patient",
        cared_for.id,
    )
    assert event.ip_address == "203.0.113.7"
    assert event.created_at is not None


def test_a_record_read_through_the_api_is_audited(db, api, doctor, cared_for):
    answer = api.get(f"/patients/{cared_for.id}", user=doctor.user, environ_base=ADDRESS)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    [event] = events(db, "patient.record_viewed")
    assert event.actor_id == doctor.user.id
    assert event.entity_id == cared_for.id
    assert event.ip_address == "203.0.113.7"


def test_a_refused_read_leaves_no_read_event(db, api, make_doctor, cared_for):
    stranger = make_doctor()
    assert api.get(f"/patients/{cared_for.id}", user=stranger.user).status_code == 404
    assert events(db, "patient.record_viewed") == []


def test_an_admin_opening_a_record_is_audited(db, client, auth, admin, patient):
    auth.login(admin)
    page = client.get(f"/admin/patients/{patient.id}", environ_base=ADDRESS)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    [event] = events(db, "patient.record_viewed")
    assert (event.actor_id, event.entity_id, event.ip_address) == (
        admin.id,
        patient.id,
        "203.0.113.7",
    )


def test_a_patient_opening_their_profile_is_audited(db, client, auth, patient):
    auth.login(patient.user)
    page = client.get("/profile", environ_base=ADDRESS)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    [event] = events(db, "patient.record_viewed")
    assert (event.actor_id, event.entity_id) == (patient.user.id, patient.id)


def test_a_doctors_patient_list_is_audited_with_who_was_in_it(
    db, client, api, auth, doctor, cared_for
):
    auth.login(doctor.user)
    assert client.get("/my-patients", environ_base=ADDRESS).status_code == 200
    assert api.get("/patients", user=doctor.user).status_code == 200
    first, second = events(db, "patient.list_viewed")
    assert first.actor_id == doctor.user.id
    assert first.changes["patients"] == [cared_for.id]
    assert first.ip_address == "203.0.113.7"
    assert second.changes["patients"] == [cared_for.id]


def test_the_appointments_export_is_audited(db, client, auth, admin, doctor, cared_for):
    auth.login(admin)
    answer = client.get("/admin/appointments.csv?status=confirmed", environ_base=ADDRESS)
    assert answer.status_code == 200
    [event] = events(db, "appointments.exported")
    assert event.actor_id == admin.id
    assert event.changes["rows"] == 1
    assert event.changes["status"] == "confirmed"
    assert event.ip_address == "203.0.113.7"


def test_every_event_of_a_request_has_its_address(db, client, auth, admin):
    """Changes are audited with the address too, not only reads."""
    auth.login(admin)
    client.post(
        "/admin/settings",
        data={"min_notice_minutes": 60, "horizon_days": 30, "cancel_cutoff_hours": 12},
        environ_base=ADDRESS,
    )
    [event] = events(db, "settings.changed")
    assert event.ip_address == "203.0.113.7"
