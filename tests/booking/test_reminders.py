"""Reminders before visits, on the suite's clock: once per visit and lead, never stale."""

import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.auth.models import Role
from portal.booking import reminders, services
from portal.booking.models import BookingSettings
from portal.db import utcnow
from portal.extensions import db as _db
from portal.messages import delivery
from portal.messages.models import Message

DAY = timedelta(days=1)


def slot_between(doctor, low, high):
    """The first free slot of the doctor starting between now + low and now + high."""
    now = utcnow()
    slots = services.slots_for(
        doctor=doctor, first_day=now.date(), last_day=(now + high).date(), now=now
    )
    return next(slot for slot in slots if now + low <= slot.start <= now + high)


def book(patient, doctor, slot):
    return services.book(
        actor=patient.user,
        patient=patient,
        doctor_id=doctor.id,
        start=slot.start,
        reason="Persistent cough",
        now=utcnow(),
    )


def set_leads(db, *leads):
    db.session.get(BookingSettings, 1).reminder_minutes_before = list(leads)
    db.session.commit()


def reminder_rows(db):
    db.session.expire_all()
    return db.session.scalars(
        select(Message).where(Message.kind == "reminder").order_by(Message.id)
    ).all()


def run_job(db):
    written = reminders.queue_due_reminders(now=utcnow())
    db.session.commit()
    return written


@pytest.fixture
def visit(db, doctor, patient):
    """A visit booked two to six days ahead."""
    appointment = book(patient, doctor, slot_between(doctor, 2 * DAY, 6 * DAY))
    db.session.commit()
    return appointment


def test_the_reminder_comes_once_when_its_lead_is_reached(
    db, visit, patient, controlled_clock, mail_outbox
):
    assert run_job(db) == 0
    controlled_clock.move_to(visit.starts_at - DAY - timedelta(minutes=1))
    assert run_job(db) == 0
    controlled_clock.move_to(visit.starts_at - DAY + timedelta(minutes=1))
    delivery.tick()
    delivery.tick()
    assert run_job(db) == 0
    [reminder] = [m for m in mail_outbox if m.subject.startswith("Reminder")]
    assert reminder.to == [patient.user.email]
    assert "(Paris time)" in reminder.body
    assert f"/appointments/{visit.id}" in reminder.body
    assert "Persistent cough" not in reminder.body
    [row] = reminder_rows(db)
    assert (row.lead_minutes, row.status) == (1440, "sent")


def test_each_lead_has_its_reminder_and_a_lead_passed_at_booking_is_skipped(
    db, doctor, patient, controlled_clock
):
    # Seven days before a visit two to six days ahead had passed when it was booked.
    set_leads(db, 10080, 1440, 60)
    visit = book(patient, doctor, slot_between(doctor, 2 * DAY, 6 * DAY))
    db.session.commit()
    assert run_job(db) == 0
    controlled_clock.move_to(visit.starts_at - DAY)
    assert run_job(db) == 1
    controlled_clock.move_to(visit.starts_at - timedelta(minutes=59))
    assert run_job(db) == 1
    assert [row.lead_minutes for row in reminder_rows(db)] == [1440, 60]
    controlled_clock.move_to(visit.starts_at + timedelta(minutes=1))
    assert run_job(db) == 0


def test_a_cancelled_visit_gets_no_reminder(db, visit, doctor, controlled_clock, mail_outbox):
    controlled_clock.move_to(visit.starts_at - timedelta(hours=12))
    assert run_job(db) == 1  # queued, not yet delivered
    services.cancel(actor=doctor.user, appointment=visit, reason="Ill", now=utcnow())
    db.session.commit()
    delivery.tick()
    assert reminder_rows(db) == []
    assert [m.subject for m in mail_outbox if m.subject.startswith("Reminder")] == []


def test_a_moved_visit_is_reminded_of_its_new_time_only(
    db, visit, admin, doctor, controlled_clock, mail_outbox
):
    controlled_clock.move_to(visit.starts_at - timedelta(hours=12))
    assert run_job(db) == 1
    old_start = visit.starts_at
    later = slot_between(doctor, old_start - utcnow() + DAY, old_start - utcnow() + 8 * DAY)
    services.reschedule(actor=admin, appointment=visit, start=later.start, now=utcnow())
    db.session.commit()
    assert reminder_rows(db) == []  # the reminder of the old time is withdrawn
    controlled_clock.move_to(old_start - timedelta(hours=1))
    assert run_job(db) == 0
    controlled_clock.move_to(later.start - timedelta(hours=12))
    delivery.tick()
    [reminder] = [m for m in mail_outbox if m.subject.startswith("Reminder")]
    paris = later.start.astimezone(ZoneInfo("Europe/Paris"))
    assert paris.strftime("%-I:%M") in reminder.body
    [row] = reminder_rows(db)
    assert row.status == "sent"
    assert row.event.endswith(f"-reminder-{visit.calendar_sequence}")


def test_a_patient_who_turned_reminders_off_gets_none(db, visit, patient, controlled_clock):
    patient.user.notify_reminders = False
    db.session.commit()
    controlled_clock.move_to(visit.starts_at - timedelta(hours=12))
    assert run_job(db) == 0


def test_the_reminder_is_in_the_patients_language(
    db, doctor, make_patient, make_user, controlled_clock, mail_outbox
):
    patient = make_patient(user=make_user(Role.PATIENT, locale="fr"))
    visit = book(patient, doctor, slot_between(doctor, 2 * DAY, 6 * DAY))
    db.session.commit()
    controlled_clock.move_to(visit.starts_at - timedelta(hours=12))
    delivery.tick()
    [reminder] = [m for m in mail_outbox if m.to == [patient.user.email] and "Rappel" in m.subject]
    assert "Vous pouvez désactiver les rappels" in reminder.body


def test_two_sweeps_racing_write_one_reminder(app, db, visit, controlled_clock):
    controlled_clock.move_to(visit.starts_at - timedelta(hours=12))
    start = threading.Barrier(2)
    results, errors = [], []

    def sweep():
        try:
            with app.app_context():
                start.wait(timeout=10)
                results.append(reminders.queue_due_reminders(now=utcnow()))
                _db.session.commit()
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(reminder_rows(db)) == 1
    assert sum(results) >= 1


def test_a_patient_without_an_email_is_not_reminded_nor_looked_for_again(
    db, doctor, admin, make_patient, make_user, controlled_clock, mail_outbox
):
    caller = make_patient(user=make_user(Role.PATIENT, email=None, password_hash=None))
    slot = slot_between(doctor, 2 * DAY, 6 * DAY)
    appointment = services.book(
        actor=admin, patient=caller, doctor_id=doctor.id, start=slot.start, reason="", now=utcnow()
    )
    db.session.commit()
    controlled_clock.move_to(appointment.starts_at - timedelta(hours=12))
    lead = 24 * 60
    assert reminders.due_reminders(now=utcnow(), lead_minutes=lead) == []
    assert run_job(db) == 0
    assert reminder_rows(db) == []
