"""No double booking, ever: simultaneous requests in real threads, on each database."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.auth.models import User
from portal.booking import services
from portal.booking.errors import NotChangeable, SlotUnavailable
from portal.booking.models import Appointment, Status
from portal.directory.models import Doctor, Patient
from portal.errors import NotFound
from portal.extensions import db as _db

NOW = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)
MONDAY_10 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


def run_together(app, jobs):
    """Run each job in its own thread and app context, all starting at the same moment,
    each as a request does: call the service, commit once. Nothing takes a lock up front:
    the services' own locking reads must keep the rules on both databases."""
    barrier = threading.Barrier(len(jobs))
    outcomes = [None] * len(jobs)

    def worker(index, job):
        with app.app_context():
            barrier.wait()
            try:
                job()
                _db.session.commit()
                outcomes[index] = "ok"
            except SlotUnavailable:
                _db.session.rollback()
                outcomes[index] = "unavailable"
            except Exception as error:  # reported in the assertion below
                _db.session.rollback()
                outcomes[index] = repr(error)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=worker, args=pair) for pair in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def booking_job(patient_id, doctor_id, start):
    def job():
        patient = _db.session.get(Patient, patient_id)
        actor = _db.session.get(User, patient.user_id)
        doctor = _db.session.get(Doctor, doctor_id)
        services.book(
            actor=actor, patient=patient, doctor_id=doctor.id, start=start, reason="", now=NOW
        )

    return job


def active_count(db, doctor, start=MONDAY_10):
    db.session.expire_all()
    return db.session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.doctor_id == doctor.id,
            Appointment.starts_at == start,
            Appointment.status != Status.CANCELLED,
        )
    )


def test_fifty_simultaneous_bookings_of_a_one_seat_slot_give_one(app, db, doctor, make_patient):
    patients = [make_patient().id for _ in range(50)]
    outcomes = run_together(app, [booking_job(p, doctor.id, MONDAY_10) for p in patients])
    assert sorted(set(outcomes)) == ["ok", "unavailable"], outcomes
    assert outcomes.count("ok") == 1
    assert active_count(db, doctor) == 1


def test_thirty_simultaneous_bookings_into_five_seats_give_five(app, db, make_doctor, make_patient):
    doctor = make_doctor(seats_per_slot=5)
    patients = [make_patient().id for _ in range(30)]
    outcomes = run_together(app, [booking_job(p, doctor.id, MONDAY_10) for p in patients])
    assert outcomes.count("ok") == 5, outcomes
    assert outcomes.count("unavailable") == 25
    db.session.expire_all()
    seats = db.session.scalars(select(Appointment.seat).where(Appointment.doctor_id == doctor.id))
    assert sorted(seats) == [1, 2, 3, 4, 5]


def test_a_daily_maximum_holds_under_simultaneous_bookings(app, db, make_doctor, make_patient):
    doctor = make_doctor(max_appointments_per_day=3)
    starts = [MONDAY_10 + timedelta(minutes=30 * index) for index in range(10)]
    jobs = [booking_job(make_patient().id, doctor.id, start) for start in starts]
    outcomes = run_together(app, jobs)
    assert outcomes.count("ok") == 3, outcomes
    db.session.expire_all()
    total = db.session.scalar(select(func.count()).select_from(Appointment))
    assert total == 3


def test_cancel_then_rebook_under_load(app, db, doctor, make_patient):
    first = services.book(
        actor=(p := make_patient()).user,
        patient=p,
        doctor_id=doctor.id,
        start=MONDAY_10,
        reason="",
        now=NOW,
    )
    db.session.commit()
    services.cancel(actor=p.user, appointment=first, reason="", now=NOW)
    db.session.commit()
    outcomes = run_together(
        app, [booking_job(make_patient().id, doctor.id, MONDAY_10) for _ in range(10)]
    )
    assert outcomes.count("ok") == 1, outcomes
    assert active_count(db, doctor) == 1


@pytest.mark.parametrize("attempt", range(5))
def test_a_reschedule_racing_a_booking_loses_cleanly(app, db, doctor, make_patient, attempt):
    mover = make_patient()
    mine = services.book(
        actor=mover.user, patient=mover, doctor_id=doctor.id, start=MONDAY_10, reason="", now=NOW
    )
    db.session.commit()
    target = MONDAY_10 + timedelta(hours=2)
    appointment_id = mine.id

    def reschedule():
        appointment = _db.session.get(Appointment, appointment_id)
        actor = _db.session.get(User, appointment.patient.user_id)
        services.reschedule(actor=actor, appointment=appointment, start=target, now=NOW)

    outcomes = run_together(app, [reschedule, booking_job(make_patient().id, doctor.id, target)])
    assert sorted(outcomes) == ["ok", "unavailable"], outcomes
    assert active_count(db, doctor, target) == 1
    db.session.expire_all()
    moved = db.session.get(Appointment, appointment_id)
    assert moved.status == Status.CONFIRMED
    if outcomes[0] == "ok":
        assert moved.starts_at == target
        assert active_count(db, doctor, MONDAY_10) == 0
    else:
        assert moved.starts_at == MONDAY_10


@pytest.mark.parametrize("attempt", range(3))
def test_a_doctor_closing_and_a_patient_cancelling_at_once_do_not_both_win(
    app, db, doctor, patient, attempt
):
    appointment = services.book(
        actor=patient.user,
        patient=patient,
        doctor_id=doctor.id,
        start=MONDAY_10,
        reason="",
        now=NOW,
    )
    db.session.commit()
    appointment_id = appointment.id
    later = MONDAY_10 + timedelta(minutes=10)

    def close():
        record = _db.session.get(Appointment, appointment_id)
        try:
            services.mark_completed(
                actor=_db.session.get(User, doctor.user_id),
                appointment=record,
                notes="Seen",
                now=later,
            )
        except NotChangeable:
            raise SlotUnavailable() from None

    def cancel():
        record = _db.session.get(Appointment, appointment_id)
        try:
            services.cancel(
                actor=_db.session.get(User, doctor.user_id),
                appointment=record,
                reason="Clinic closed",
                now=later,
            )
        except NotChangeable:
            raise SlotUnavailable() from None

    outcomes = run_together(app, [close, cancel])
    assert sorted(outcomes) == ["ok", "unavailable"], outcomes
    db.session.expire_all()
    stored = db.session.get(Appointment, appointment_id)
    if outcomes[0] == "ok":
        assert (stored.status, stored.cancelled_at) == (Status.COMPLETED, None)
    else:
        assert stored.status == Status.CANCELLED


@pytest.mark.parametrize("attempt", range(3))
def test_a_patient_cancelling_and_moving_one_visit_at_once_ends_cancelled(
    app, db, doctor, patient, make_patient, attempt
):
    # Two tabs: one cancels, one moves the visit, while someone else books that doctor.
    appointment = services.book(
        actor=patient.user,
        patient=patient,
        doctor_id=doctor.id,
        start=MONDAY_10,
        reason="",
        now=NOW,
    )
    db.session.commit()
    appointment_id, target = appointment.id, MONDAY_10 + timedelta(hours=3)

    def own(change):
        def job():
            record = _db.session.get(Appointment, appointment_id)
            actor = _db.session.get(User, patient.user_id)
            try:
                change(actor, record)
            except NotChangeable:
                raise SlotUnavailable() from None

        return job

    cancel = own(
        lambda actor, record: services.cancel(actor=actor, appointment=record, reason="", now=NOW)
    )
    move = own(
        lambda actor, record: services.reschedule(
            actor=actor, appointment=record, start=target, now=NOW
        )
    )
    other = booking_job(make_patient().id, doctor.id, MONDAY_10 + timedelta(hours=5))
    outcomes = run_together(app, [cancel, move, other])
    # Whichever goes first, the cancel wins: a moved visit can still be cancelled, a
    # cancelled one cannot be moved. Nobody waits on the other for ever (no deadlock).
    assert outcomes[0] == "ok", outcomes
    assert outcomes[2] == "ok", outcomes
    db.session.expire_all()
    stored = db.session.get(Appointment, appointment_id)
    if outcomes[1] == "ok":
        assert (stored.status, stored.starts_at) == (Status.CANCELLED, target)
    else:
        assert outcomes[1] == "unavailable", outcomes
        assert (stored.status, stored.starts_at) == (Status.CANCELLED, MONDAY_10)


def test_simultaneous_sign_ups_all_succeed(app, db):
    barrier = threading.Barrier(12)
    statuses = []

    def sign_up(number):
        client = app.test_client()
        barrier.wait()
        response = client.post(
            "/register",
            data={
                "full_name": f"Person {number}",
                "email": f"person{number}@example.org",
                "password": "tulip-harbour-42",
                "confirm": "tulip-harbour-42",
            },
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=sign_up, args=(number,)) for number in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [303] * 12
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(User)) == 12


def deactivation_job(admin_id, doctor_id):
    def job():
        actor = _db.session.get(User, admin_id)
        doctor = _db.session.get(Doctor, doctor_id)
        services.deactivate_doctor(actor=actor, doctor=doctor, reason="Moved away", now=NOW)

    return job


def confirmed_future(db, doctor):
    db.session.expire_all()
    return db.session.scalars(
        select(Appointment).where(
            Appointment.doctor_id == doctor.id,
            Appointment.status == Status.CONFIRMED,
            Appointment.starts_at > NOW,
        )
    ).all()


@pytest.mark.parametrize("attempt", range(3))
def test_no_confirmed_visit_survives_a_deactivation_racing_bookings(
    app, db, doctor, admin, make_patient, attempt
):
    starts = [MONDAY_10 + timedelta(minutes=30 * index) for index in range(12)]
    jobs = [booking_job(make_patient().id, doctor.id, start) for start in starts]
    jobs.insert(attempt * 5, deactivation_job(admin.id, doctor.id))
    outcomes = run_together(app, jobs)
    # A booking after the deactivation finds no doctor to book (404) or no free slot.
    assert all(
        outcome in ("ok", "unavailable") or outcome.startswith("NotFound") for outcome in outcomes
    ), outcomes
    assert outcomes[attempt * 5] == "ok"
    assert confirmed_future(db, doctor) == []


def test_a_booking_that_read_the_doctor_before_a_deactivation_books_nothing(
    app, db, doctor, admin, patient
):
    # The patient's page showed the doctor; the doctor leaves; then the patient books.
    shown, deactivated = threading.Event(), threading.Event()
    outcome = []

    def patient_books():
        with app.app_context():
            try:
                stale = _db.session.get(Doctor, doctor.id)
                assert stale.is_active
                shown.set()
                assert deactivated.wait(timeout=30)
                booker = _db.session.get(Patient, patient.id)
                services.book(
                    actor=_db.session.get(User, booker.user_id),
                    patient=booker,
                    doctor_id=stale.id,
                    start=MONDAY_10,
                    reason="",
                    now=NOW,
                )
                _db.session.commit()
                outcome.append("ok")
            except (SlotUnavailable, NotFound) as error:
                _db.session.rollback()
                outcome.append(type(error).__name__)
            finally:
                _db.session.remove()

    thread = threading.Thread(target=patient_books)
    thread.start()
    assert shown.wait(timeout=30)
    with app.app_context():
        deactivation_job(admin.id, doctor.id)()
        _db.session.commit()
        _db.session.remove()
    deactivated.set()
    thread.join(timeout=60)
    assert outcome in (["SlotUnavailable"], ["NotFound"])
    assert confirmed_future(db, doctor) == []
