"""Booking rules as the services enforce them, for the HTML pages and the API alike."""

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth.models import Role
from portal.booking import services
from portal.booking.errors import NotChangeable, SlotUnavailable, TooLateToCancel
from portal.booking.models import Appointment, Status
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.scheduling.models import TimeOff

# Tuesday 1 January 2030, 08:00 UTC; the doctor works Monday to Friday 09:00-17:00 Paris.
NOW = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)
MONDAY_10 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)  # 10:00 in Paris


def book(patient, doctor, start=MONDAY_10, now=NOW, actor=None, reason="Check-up"):
    return services.book(
        actor=actor or patient.user,
        patient=patient,
        doctor_id=doctor.id,
        start=start,
        reason=reason,
        now=now,
    )


def test_a_patient_books_a_free_slot(db, doctor, patient):
    appointment = book(patient, doctor)
    db.session.commit()
    assert (appointment.status, appointment.seat) == (Status.CONFIRMED, 1)
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=30)
    assert appointment.clinic_id == doctor.clinic_id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "appointment.booked"))
    assert event.entity_id == appointment.id
    assert event.actor_id == patient.user_id


@pytest.mark.parametrize(
    "start",
    [
        datetime(2030, 1, 7, 7, 0, tzinfo=UTC),  # 08:00 Paris, before the hours
        datetime(2030, 1, 5, 9, 0, tzinfo=UTC),  # a Saturday
        datetime(2030, 1, 7, 9, 10, tzinfo=UTC),  # not a slot boundary
        datetime(2030, 1, 1, 9, 0, tzinfo=UTC),  # today, inside the minimum notice
        datetime(2030, 6, 3, 8, 0, tzinfo=UTC),  # beyond the 90-day horizon
    ],
)
def test_times_that_are_not_bookable_are_refused(db, doctor, patient, start):
    with pytest.raises(SlotUnavailable):
        book(patient, doctor, start=start)


def test_a_time_without_an_offset_is_refused(db, doctor, patient):
    with pytest.raises(ValidationFailed):
        book(patient, doctor, start=MONDAY_10.replace(tzinfo=None))


def test_time_off_blocks_the_slot(db, doctor, patient):
    db.session.add(
        TimeOff(
            doctor=doctor,
            starts_at=MONDAY_10 - timedelta(hours=1),
            ends_at=MONDAY_10 + timedelta(minutes=10),
        )
    )
    db.session.commit()
    with pytest.raises(SlotUnavailable):
        book(patient, doctor)


def test_a_one_seat_slot_is_booked_once(db, doctor, make_patient):
    book(make_patient(), doctor)
    db.session.commit()
    with pytest.raises(SlotUnavailable):
        book(make_patient(), doctor)


def test_a_three_seat_slot_takes_three(db, make_doctor, make_patient):
    doctor = make_doctor(seats_per_slot=3)
    seats = [book(make_patient(), doctor).seat for _ in range(3)]
    db.session.commit()
    assert seats == [1, 2, 3]
    with pytest.raises(SlotUnavailable):
        book(make_patient(), doctor)


def test_the_daily_maximum_closes_the_day(db, make_doctor, make_patient):
    doctor = make_doctor(max_appointments_per_day=2)
    book(make_patient(), doctor)
    book(make_patient(), doctor, start=MONDAY_10 + timedelta(hours=1))
    db.session.commit()
    with pytest.raises(SlotUnavailable):
        book(make_patient(), doctor, start=MONDAY_10 + timedelta(hours=2))
    book(make_patient(), doctor, start=MONDAY_10 + timedelta(days=1))


def test_a_patient_cannot_book_for_someone_else(db, doctor, make_patient):
    me, other = make_patient(), make_patient()
    with pytest.raises(NotFound):
        book(other, doctor, actor=me.user)


def test_an_admin_books_for_a_patient_and_a_doctor_cannot(db, admin, doctor, patient):
    assert book(patient, doctor, actor=admin).patient_id == patient.id
    with pytest.raises(NotAllowed):
        book(patient, doctor, start=MONDAY_10 + timedelta(hours=1), actor=doctor.user)


def test_cancelling_frees_the_seat_at_once(db, doctor, make_patient):
    first = book(make_patient(), doctor)
    db.session.commit()
    services.cancel(actor=first.patient.user, appointment=first, reason="Feeling better", now=NOW)
    db.session.commit()
    assert (first.status, first.cancel_reason) == (Status.CANCELLED, "Feeling better")
    assert first.cancelled_by_id == first.patient.user_id
    again = book(make_patient(), doctor)
    db.session.commit()
    assert again.seat == 1


def test_patients_cannot_cancel_after_the_cutoff_but_doctors_can(db, doctor, patient):
    appointment = book(patient, doctor)
    db.session.commit()
    late = MONDAY_10 - timedelta(hours=23)
    with pytest.raises(TooLateToCancel):
        services.cancel(actor=patient.user, appointment=appointment, reason="", now=late)
    services.cancel(actor=doctor.user, appointment=appointment, reason="Doctor ill", now=late)
    assert appointment.status == Status.CANCELLED
    with pytest.raises(NotChangeable):
        services.cancel(actor=doctor.user, appointment=appointment, reason="", now=late)


def test_reschedule_moves_the_same_appointment(db, doctor, patient):
    appointment = book(patient, doctor)
    db.session.commit()
    later = MONDAY_10 + timedelta(hours=3)
    moved = services.reschedule(actor=patient.user, appointment=appointment, start=later, now=NOW)
    db.session.commit()
    assert moved.id == appointment.id
    assert moved.starts_at == later
    # The old time is free again.
    assert book(patient, doctor).starts_at == MONDAY_10


def test_a_failed_reschedule_leaves_the_appointment_untouched(db, doctor, make_patient):
    mine = book(make_patient(), doctor)
    book(make_patient(), doctor, start=MONDAY_10 + timedelta(hours=1))
    db.session.commit()
    with pytest.raises(SlotUnavailable):
        services.reschedule(
            actor=mine.patient.user, appointment=mine, start=MONDAY_10 + timedelta(hours=1), now=NOW
        )
    db.session.rollback()
    db.session.expire_all()
    stored = db.session.get(Appointment, mine.id)
    assert (stored.starts_at, stored.status) == (MONDAY_10, Status.CONFIRMED)


def test_visits_are_closed_only_once_started_and_only_by_doctors(db, doctor, patient):
    appointment = book(patient, doctor)
    db.session.commit()
    with pytest.raises(NotChangeable):
        services.mark_completed(actor=doctor.user, appointment=appointment, notes="", now=NOW)
    with pytest.raises(NotFound):
        services.mark_no_show(actor=patient.user, appointment=appointment, notes="", now=MONDAY_10)
    services.mark_completed(
        actor=doctor.user,
        appointment=appointment,
        notes="All well",
        now=MONDAY_10 + timedelta(minutes=5),
    )
    assert (appointment.status, appointment.notes) == (Status.COMPLETED, "All well")


def test_others_appointments_are_not_found(db, doctor, make_doctor, make_patient, admin):
    mine = book(make_patient(), doctor)
    db.session.commit()
    other_patient = make_patient()
    other_doctor = make_doctor()
    for actor in (other_patient.user, other_doctor.user):
        with pytest.raises(NotFound):
            services.get_appointment(actor=actor, appointment_id=mine.id)
    for actor in (mine.patient.user, doctor.user, admin):
        assert services.get_appointment(actor=actor, appointment_id=mine.id).id == mine.id


def test_settings_changes_are_validated_and_audited(db, admin, make_user):
    with pytest.raises(NotAllowed):
        services.update_booking_settings(
            actor=make_user(Role.DOCTOR),
            min_notice_minutes=0,
            horizon_days=10,
            cancel_cutoff_hours=1,
        )
    with pytest.raises(ValidationFailed) as refused:
        services.update_booking_settings(
            actor=admin, min_notice_minutes=-1, horizon_days=731, cancel_cutoff_hours=1
        )
    assert set(refused.value.errors) == {"min_notice_minutes", "horizon_days"}
    db.session.rollback()
    assert services.get_booking_settings().horizon_days == 90
    services.update_booking_settings(
        actor=admin, min_notice_minutes=0, horizon_days=365, cancel_cutoff_hours=12
    )
    db.session.commit()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "settings.changed"))
    assert event.changes["horizon_days"] == [90, 365]


def test_a_longer_old_appointment_blocks_the_slots_it_overlaps(db, make_doctor, patient):
    doctor = make_doctor(slot_minutes=60)
    db.session.add(
        Appointment(
            patient=patient,
            doctor=doctor,
            clinic=doctor.clinic,
            starts_at=MONDAY_10,
            ends_at=MONDAY_10 + timedelta(minutes=60),
        )
    )
    doctor.slot_minutes = 30
    db.session.commit()
    for start in (MONDAY_10, MONDAY_10 + timedelta(minutes=30)):
        with pytest.raises(SlotUnavailable):
            book(patient, doctor, start=start)
    assert book(patient, doctor, start=MONDAY_10 + timedelta(minutes=60)).seat == 1


def test_changing_hours_keeps_existing_appointments(db, doctor, patient):
    appointment = book(patient, doctor)
    db.session.commit()
    for hours in list(doctor_hours(db, doctor)):
        db.session.delete(hours)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == Status.CONFIRMED


def doctor_hours(db, doctor):
    from portal.scheduling.models import WeeklyHours

    return db.session.scalars(select(WeeklyHours).where(WeeklyHours.doctor_id == doctor.id))


def test_slot_window_respects_time_zone_of_the_clinic(db, make_doctor, make_clinic, patient):
    clinic = make_clinic(name="Hudson", city="New York", country="US", timezone="America/New_York")
    doctor = make_doctor(clinic=clinic)
    slots = services.slots_for(
        doctor=doctor, first_day=MONDAY_10.date(), last_day=MONDAY_10.date(), now=NOW
    )
    assert slots[0].start == datetime(2030, 1, 7, 14, 0, tzinfo=UTC)  # 09:00 New York
    assert all(slot.local_date == MONDAY_10.date() for slot in slots)
    assert len(slots) == 16
    assert time(9) <= slots[0].start.astimezone(clinic_zone(clinic)).time()


def clinic_zone(clinic):
    from zoneinfo import ZoneInfo

    return ZoneInfo(clinic.timezone)
