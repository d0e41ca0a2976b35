"""What patients and doctors receive about their visits, through a real SMTP server."""

import email
from datetime import UTC, datetime
from email import policy

import pytest
from sqlalchemy import select

from portal.auth.models import Role
from portal.booking import services
from portal.booking.errors import SlotUnavailable
from portal.messages import delivery
from portal.messages.models import Message

NOW = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)  # a Tuesday
MONDAY_10 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)  # 10:00 in Paris
MONDAY_11 = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)
SECRET_REASON = "Recurring chest pain"


def book(patient, doctor, start=MONDAY_10, actor=None):
    return services.book(
        actor=actor or patient.user,
        patient=patient,
        doctor_id=doctor.id,
        start=start,
        reason=SECRET_REASON,
        now=NOW,
    )


def received(smtp_server):
    """Each message the SMTP server took, parsed, by recipient."""
    messages = {}
    for _sender, recipients, raw in smtp_server.received:
        for recipient in recipients:
            messages.setdefault(recipient, []).append(
                email.message_from_bytes(raw, policy=policy.default)
            )
    return messages


def body_of(parsed, content_type):
    for part in parsed.walk():
        if part.get_content_type() == content_type:
            return part.get_payload(decode=True).decode()
    return None


def send_everything(db):
    db.session.commit()
    delivery.tick(now=NOW)


def kinds(db):
    return sorted((m.kind, m.to_address) for m in db.session.scalars(select(Message)).all())


def test_a_booking_tells_the_patient_and_the_doctor(db, doctor, patient, smtp_server):
    appointment = book(patient, doctor)
    send_everything(db)
    inbox = received(smtp_server)
    [confirmation] = inbox[patient.user.email]
    assert confirmation["Subject"] == f"Your appointment with {doctor.user.full_name} is confirmed"
    text = body_of(confirmation, "text/plain")
    assert "Clinique du Parc" in text
    assert "10:00" in text
    assert "(Paris time)" in text
    assert f"/appointments/{appointment.id}" in text
    assert f"/appointments/{appointment.id}" in body_of(confirmation, "text/html")
    calendar = body_of(confirmation, "text/calendar")
    assert "METHOD:REQUEST" in calendar
    assert f"UID:appointment-{appointment.id}@clinic-portal" in calendar
    assert "SEQUENCE:0" in calendar
    assert "DTSTART:20300107T090000Z" in calendar
    [notice] = inbox[doctor.user.email]
    assert patient.user.full_name in notice["Subject"]
    assert "10:00" in body_of(notice, "text/plain")


def test_no_message_carries_the_reason_for_the_visit(db, doctor, patient, smtp_server):
    appointment = book(patient, doctor)
    db.session.commit()
    services.reschedule(actor=patient.user, appointment=appointment, start=MONDAY_11, now=NOW)
    db.session.commit()
    services.cancel(actor=patient.user, appointment=appointment, reason="Feeling worse", now=NOW)
    send_everything(db)
    assert len(smtp_server.received) == 6
    for _sender, _recipients, raw in smtp_server.received:
        assert SECRET_REASON.encode() not in raw
        assert b"Feeling worse" not in raw
        assert b"Recurring" not in raw


def test_the_patients_language_is_used(db, doctor, make_patient, make_user, smtp_server):
    patient = make_patient(user=make_user(Role.PATIENT, locale="fr"))
    book(patient, doctor)
    send_everything(db)
    [confirmation] = received(smtp_server)[patient.user.email]
    assert confirmation["Subject"] == f"Votre rendez-vous avec {doctor.user.full_name} est confirmé"
    text = body_of(confirmation, "text/plain")
    assert "lundi 7 janvier 2030" in text
    assert "(heure de Paris)" in text
    # The doctor, who chose no language, reads English.
    [notice] = received(smtp_server)[doctor.user.email]
    assert notice["Subject"].startswith("New appointment")


def test_moves_and_cancellation_update_the_same_calendar_event(db, doctor, patient, smtp_server):
    appointment = book(patient, doctor)
    db.session.commit()
    services.reschedule(actor=patient.user, appointment=appointment, start=MONDAY_11, now=NOW)
    db.session.commit()
    services.cancel(actor=patient.user, appointment=appointment, reason="", now=NOW)
    send_everything(db)
    calendars = [
        body_of(message, "text/calendar") for message in received(smtp_server)[patient.user.email]
    ]
    uid = f"UID:appointment-{appointment.id}@clinic-portal"
    assert all(uid in calendar for calendar in calendars)
    assert ["SEQUENCE:0" in calendars[0], "SEQUENCE:1" in calendars[1]] == [True, True]
    assert "METHOD:REQUEST" in calendars[1]
    assert "DTSTART:20300107T100000Z" in calendars[1]
    assert "METHOD:CANCEL" in calendars[2]
    assert "SEQUENCE:2" in calendars[2]
    assert "STATUS:CANCELLED" in calendars[2]
    assert kinds(db).count(("doctor_booking", doctor.user.email)) == 2
    assert ("doctor_cancellation", doctor.user.email) in kinds(db)


def test_a_doctors_cancellation_tells_the_patient_why(db, doctor, patient, smtp_server):
    appointment = book(patient, doctor)
    send_everything(db)
    smtp_server.received.clear()
    services.cancel(actor=doctor.user, appointment=appointment, reason="Conference abroad", now=NOW)
    send_everything(db)
    inbox = received(smtp_server)
    [news] = inbox[patient.user.email]
    assert news["Subject"] == f"{doctor.user.full_name} cancelled your appointment"
    assert "Conference abroad" in body_of(news, "text/plain")
    assert "METHOD:CANCEL" in body_of(news, "text/calendar")
    assert doctor.user.email not in inbox  # they know: they did it


def test_deactivating_a_doctor_tells_each_patient(db, admin, doctor, make_patient, smtp_server):
    first, second = make_patient(), make_patient()
    book(first, doctor)
    book(second, doctor, start=MONDAY_11)
    send_everything(db)
    smtp_server.received.clear()
    cancelled = services.deactivate_doctor(actor=admin, doctor=doctor, reason="Moved away", now=NOW)
    send_everything(db)
    assert cancelled == 2
    inbox = received(smtp_server)
    for patient in (first, second):
        [news] = inbox[patient.user.email]
        assert news["Subject"] == "Clinique du Parc cancelled your appointment"
        assert "Moved away" in body_of(news, "text/plain")
    assert doctor.user.email not in inbox


def test_a_booking_that_fails_leaves_no_message(db, doctor, make_patient):
    book(make_patient(), doctor)
    db.session.commit()
    before = kinds(db)
    with pytest.raises(SlotUnavailable):
        book(make_patient(), doctor)
    db.session.rollback()
    assert kinds(db) == before


def test_an_admin_booking_for_a_patient_tells_both(db, admin, doctor, patient):
    book(patient, doctor, actor=admin)
    db.session.commit()
    assert kinds(db) == sorted(
        [("booking_confirmed", patient.user.email), ("doctor_booking", doctor.user.email)]
    )


def test_the_calendar_file_on_the_page_has_no_reason(auth, client, db, doctor, patient):
    appointment = book(patient, doctor)
    db.session.commit()
    auth.login(patient.user)
    calendar = client.get(f"/appointments/{appointment.id}/ics").text
    assert "BEGIN:VEVENT" in calendar
    assert SECRET_REASON not in calendar
    assert "DESCRIPTION" not in calendar
    assert "SEQUENCE:0" in calendar


def test_a_patient_without_an_email_is_booked_and_only_the_doctor_is_told(
    db, admin, doctor, make_patient, make_user, smtp_server
):
    caller = make_patient(user=make_user(Role.PATIENT, email=None, password_hash=None))
    appointment = book(caller, doctor, actor=admin)
    send_everything(db)
    assert appointment.status == "confirmed"
    # No message for the patient, none failed or waiting: the doctor's notice only.
    assert kinds(db) == [("doctor_booking", doctor.user.email)]
    assert {m.status for m in db.session.scalars(select(Message))} == {"sent"}
    assert list(received(smtp_server)) == [doctor.user.email]
    services.cancel(actor=admin, appointment=appointment, reason="Called back", now=NOW)
    send_everything(db)
    assert sorted(kind for kind, _to in kinds(db)) == ["doctor_booking", "doctor_cancellation"]
