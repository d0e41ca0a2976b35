"""Admins change the booking rules and read the audit trail of who changed what."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from portal.admin.services import audit_events
from portal.audit.models import AuditEvent
from portal.audit.services import record_event
from portal.booking.models import BookingSettings
from portal.db import utcnow
from portal.errors import NotAllowed


def settings(db):
    db.session.rollback()
    return db.session.get(BookingSettings, 1)


def test_the_settings_page_shows_the_rules_in_force(as_admin):
    page = as_admin.get("/admin/settings").text
    assert 'value="120"' in page  # minimum notice, the default
    assert 'value="90"' in page
    assert 'value="24"' in page


def test_without_the_row_the_defaults_show_and_reading_saves_nothing(as_admin, db):
    db.session.execute(delete(BookingSettings))
    db.session.commit()
    page = as_admin.get("/admin/settings").text
    assert 'value="120"' in page
    assert settings(db) is None
    response = as_admin.post(
        "/admin/settings",
        data={
            "min_notice_minutes": "30",
            "horizon_days": "90",
            "cancel_cutoff_hours": "24",
            "max_upcoming_per_patient": "5",
        },
    )
    assert response.status_code == 303
    assert settings(db).min_notice_minutes == 30


def test_saving_settings_changes_them_and_records_who_did(as_admin, db, admin):
    response = as_admin.post(
        "/admin/settings",
        data={
            "min_notice_minutes": "30",
            "horizon_days": "365",
            "cancel_cutoff_hours": "48",
            "max_upcoming_per_patient": "5",
        },
    )
    assert response.status_code == 303
    saved = settings(db)
    assert (saved.min_notice_minutes, saved.horizon_days, saved.cancel_cutoff_hours) == (
        30,
        365,
        48,
    )
    assert "Booking settings saved." in as_admin.get("/admin/settings").text
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "settings.changed"))
    assert event.actor_id == admin.id
    assert event.changes == {
        "min_notice_minutes": [120, 30],
        "horizon_days": [90, 365],
        "cancel_cutoff_hours": [24, 48],
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("horizon_days", "731", "Enter a number of days from 1 to 730."),
        ("min_notice_minutes", "-5", "Enter a number of minutes from 0 to 43200."),
        ("cancel_cutoff_hours", "", "This field is required."),
        ("cancel_cutoff_hours", "soon", "Not a valid integer value."),
    ],
)
def test_bad_settings_are_refused_inline(as_admin, db, field, value, message):
    data = {
        "min_notice_minutes": "30",
        "horizon_days": "365",
        "cancel_cutoff_hours": "48",
        "max_upcoming_per_patient": "5",
    }
    response = as_admin.post("/admin/settings", data={**data, field: value})
    assert response.status_code == 422
    assert message in response.text
    assert f'id="{field}-error"' in response.text
    assert settings(db).min_notice_minutes == 120
    changed = select(AuditEvent).where(AuditEvent.action == "settings.changed")
    assert db.session.scalar(changed) is None


@pytest.fixture
def trail(db, admin, make_user):
    other = make_user("admin", full_name="Otto Other")
    start = utcnow() - timedelta(hours=1)
    events = [
        (admin, "doctor.onboarded", "doctor", 1),
        (admin, "clinic.created", "clinic", 2),
        (other, "doctor.updated", "doctor", 1),
        (other, "settings.changed", "settings", 1),
    ]
    for minutes, (actor, action, entity_type, entity_id) in enumerate(events):
        event = record_event(
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            changes={"name": ["Old", "New"]},
        )
        event.created_at = start + timedelta(minutes=minutes)
    db.session.commit()
    return other


TRAIL = ("doctor.onboarded", "clinic.created", "doctor.updated", "settings.changed")


def actions(page):
    return [
        action
        for action in ("doctor.onboarded", "clinic.created", "doctor.updated", "settings.changed")
        if f'data-action="{action}"' in page
    ]


def actions_in_order(page):
    # The admin's own sign-in is in the trail too; these are the trail's events.
    return [action for action in re.findall(r'data-action="([a-z_.]+)"', page) if action in TRAIL]


def test_the_trail_shows_newest_first_with_who_and_what(as_admin, trail):
    page = as_admin.get("/admin/audit").text
    assert actions_in_order(page)[0] == "settings.changed"
    assert actions_in_order(page)[-1] == "doctor.onboarded"
    assert "Otto Other" in page
    assert '<dd>"Old" → "New"</dd>' in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"entity_type": "doctor"}, ["doctor.onboarded", "doctor.updated"]),
        ({"action": "clinic.created"}, ["clinic.created"]),
        ({"actor": "other"}, ["doctor.updated", "settings.changed"]),
        ({"actor": "other", "entity_type": "doctor"}, ["doctor.updated"]),
    ],
)
def test_the_trail_filters(as_admin, trail, query, expected):
    if "actor" in query:
        query = {**query, "actor_id": trail.id}
        del query["actor"]
    assert actions(as_admin.get("/admin/audit", query_string=query).text) == expected


def test_only_admins_may_audit_events(db, trail, make_user):
    with pytest.raises(NotAllowed):
        audit_events(actor=make_user("doctor"))
    with pytest.raises(NotAllowed):
        audit_events(actor=None)
    page = audit_events(actor=trail, per_page=3)
    assert (page.total, len(page.items)) == (4, 3)
    assert page.items[0].action == "settings.changed"


def test_the_trail_tells_each_event_in_words(as_admin, trail):
    page = as_admin.get("/admin/audit").text
    assert "Otto Other changed the booking rules" in page
    assert "<code>settings.changed</code>" not in page


def test_a_doctor_reading_a_record_reads_as_a_sentence_in_the_admins_language(
    db, as_admin, make_doctor, make_user, make_patient
):
    doctor = make_doctor(user=make_user("doctor", full_name="Paul Laurent"))
    patient = make_patient(user=make_user(full_name="Maya Chen"))
    record_event(
        actor=doctor.user,
        action="patient.record_viewed",
        entity_type="patient",
        entity_id=patient.id,
    )
    db.session.commit()
    page = as_admin.get("/admin/audit").text
    assert "Dr Paul Laurent viewed Maya Chen&#39;s record" in page
    as_admin.post("/language", data={"lang": "fr"})
    page = as_admin.get("/admin/audit").text
    assert "Dr Paul Laurent a consulté le dossier de Maya Chen" in page


def test_the_trail_filters_by_person_and_by_record(db, as_admin, trail):
    by_person = as_admin.get("/admin/audit", query_string={"person": "otto"}).text
    assert actions(by_person) == ["doctor.updated", "settings.changed"]
    by_record = as_admin.get(
        "/admin/audit", query_string={"entity_type": "doctor", "entity_id": 1}
    ).text
    assert actions(by_record) == ["doctor.onboarded", "doctor.updated"]
    assert (
        actions(
            as_admin.get(
                "/admin/audit", query_string={"entity_type": "clinic", "entity_id": 3}
            ).text
        )
        == []
    )


def test_the_reminder_leads_are_set_on_the_settings_page(as_admin, db):
    assert 'value="1440"' in as_admin.get("/admin/settings").text
    data = {
        "min_notice_minutes": "120",
        "horizon_days": "90",
        "cancel_cutoff_hours": "24",
        "max_upcoming_per_patient": "5",
        "reminder_minutes_before": "60, 1440",
    }
    assert as_admin.post("/admin/settings", data=data).status_code == 303
    assert settings(db).reminder_minutes_before == [1440, 60]
    assert 'value="1440, 60"' in as_admin.get("/admin/settings").text
    wrong = as_admin.post("/admin/settings", data={**data, "reminder_minutes_before": "soon"})
    assert wrong.status_code == 422
    assert "Give each reminder in minutes, from 10 to 10080." in wrong.text


def test_the_upcoming_visits_per_patient_are_set_on_the_settings_page(as_admin, db):
    assert 'name="max_upcoming_per_patient"' in as_admin.get("/admin/settings").text
    data = {
        "min_notice_minutes": "120",
        "horizon_days": "90",
        "cancel_cutoff_hours": "24",
        "max_upcoming_per_patient": "12",
    }
    assert as_admin.post("/admin/settings", data=data).status_code == 303
    assert settings(db).max_upcoming_per_patient == 12
    wrong = as_admin.post("/admin/settings", data={**data, "max_upcoming_per_patient": "51"})
    assert wrong.status_code == 422
    assert "Enter a number of visits from 1 to 50." in wrong.text


def test_every_action_the_portal_records_reads_as_a_sentence():
    # An action without a sentence would show the admin a raw code.
    from pathlib import Path

    from portal.admin.audit_words import SENTENCES

    source = Path(__file__).resolve().parents[2] / "portal"
    recorded = {
        match
        for path in source.rglob("*.py")
        for match in re.findall(r'action="([a-z_]+\.[a-z_]+)"', path.read_text())
    }
    recorded |= {"appointment.completed", "appointment.no_show"}  # action=f"appointment.{status}"
    assert len(recorded) > 20
    assert sorted(recorded - set(SENTENCES)) == []
