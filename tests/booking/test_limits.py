"""Limits against one account hoarding visits: no two overlapping visits per patient, at
most max_upcoming_per_patient future visits when a patient books, and none of it for an
admin booking for a patient. The same rules on the pages and in the API."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.booking import services
from portal.booking.errors import BookingLimitReached, OverlappingVisit
from portal.booking.models import Appointment, BookingSettings, Status
from tests.api.conftest import Api
from tests.booking.test_concurrency import booking_job, run_together

NOW = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)  # a Tuesday
MONDAY_10 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)  # 10:00 in Paris


def hour(days=0, hours=0):
    """A slot start: Monday 10:00 Paris plus whole days and hours (weekdays only)."""
    return MONDAY_10 + timedelta(days=days, hours=hours)


def book(patient, doctor, start, actor=None):
    return services.book(
        actor=actor or patient.user,
        patient=patient,
        doctor_id=doctor.id,
        start=start,
        reason="",
        now=NOW,
    )


def confirmed(db, patient):
    db.session.expire_all()
    return db.session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(Appointment.patient_id == patient.id, Appointment.status == Status.CONFIRMED)
    )


@pytest.fixture
def api(app, client):
    return Api(app, client)


def test_a_patient_cannot_take_both_seats_of_a_slot(db, make_doctor, patient):
    doctor = make_doctor(seats_per_slot=2)
    book(patient, doctor, hour())
    db.session.commit()
    with pytest.raises(OverlappingVisit) as refused:
        book(patient, doctor, hour())
    db.session.rollback()
    assert "You already have a visit at that time" in str(refused.value.message)
    assert doctor.user.full_name in str(refused.value.message)
    assert "Monday, January 7, 2030, 10:00" in str(refused.value.message)
    assert confirmed(db, patient) == 1


def test_a_patient_cannot_hold_overlapping_visits_with_two_doctors(
    db, make_doctor, patient, make_patient
):
    first, second = make_doctor(), make_doctor(slot_minutes=60)
    book(patient, first, hour(hours=0.5))  # 10:30-11:00
    db.session.commit()
    with pytest.raises(OverlappingVisit):
        book(patient, second, hour())  # 10:00-11:00
    db.session.rollback()
    # Back to back is fine, and another patient may take the time.
    book(patient, second, hour(hours=1))
    book(make_patient(), second, hour())
    db.session.commit()


def test_moving_a_visit_onto_another_one_is_refused(db, make_doctor, patient):
    first, second = make_doctor(), make_doctor()
    kept = book(patient, first, hour())
    moving = book(patient, second, hour(hours=2))
    db.session.commit()
    with pytest.raises(OverlappingVisit):
        services.reschedule(actor=patient.user, appointment=moving, start=hour(), now=NOW)
    db.session.rollback()
    # Moving a visit within its own time (to the next slot) is not an overlap with itself.
    services.reschedule(actor=patient.user, appointment=kept, start=hour(hours=0.5), now=NOW)
    db.session.commit()


def test_one_fresh_account_books_at_most_five_upcoming_visits(db, doctor, patient):
    # The finding: one new account booked 41 visits in under two seconds.
    outcomes = []
    for day in range(8):
        try:
            book(patient, doctor, hour(days=day % 5 + 7 * (day // 5)))
            db.session.commit()
            outcomes.append("booked")
        except BookingLimitReached as error:
            db.session.rollback()
            outcomes.append(error.code)
    assert outcomes == ["booked"] * 5 + ["booking_limit_reached"] * 3
    assert confirmed(db, patient) == 5


def test_the_limit_follows_the_setting_and_cancelling_frees_a_place(db, admin, doctor, patient):
    services.update_booking_settings(
        actor=admin,
        min_notice_minutes=120,
        horizon_days=90,
        cancel_cutoff_hours=24,
        max_upcoming_per_patient=2,
    )
    db.session.commit()
    visits = [book(patient, doctor, hour(days=day)) for day in range(2)]
    db.session.commit()
    with pytest.raises(BookingLimitReached):
        book(patient, doctor, hour(days=2))
    db.session.rollback()
    services.cancel(actor=patient.user, appointment=visits[0], reason="", now=NOW)
    db.session.commit()
    book(patient, doctor, hour(days=2))
    db.session.commit()
    assert db.session.get(BookingSettings, 1).max_upcoming_per_patient == 2


def test_an_admin_booking_for_a_patient_is_not_limited(db, admin, make_doctor, patient):
    doctor = make_doctor(seats_per_slot=2)
    for day in range(7):
        book(patient, doctor, hour(days=day % 5 + 7 * (day // 5)), actor=admin)
        db.session.commit()
    assert confirmed(db, patient) == 7
    # An overlap is still refused: one person cannot be in two places.
    with pytest.raises(OverlappingVisit):
        book(patient, doctor, hour(), actor=admin)
    db.session.rollback()


def test_simultaneous_bookings_of_one_patient_give_one_visit(app, db, make_doctor, patient):
    doctors = [make_doctor() for _ in range(6)]
    patient_id = patient.id
    outcomes = run_together(
        app, [booking_job(patient_id, doctor.id, MONDAY_10) for doctor in doctors]
    )
    assert outcomes.count("ok") == 1, outcomes
    assert all(o == "ok" or "OverlappingVisit" in o for o in outcomes), outcomes
    assert confirmed(db, patient) == 1


# The pages and the API ------------------------------------------------------------------


@pytest.fixture
def booked_now(controlled_clock):
    controlled_clock.move_to(NOW)


def test_the_api_answers_409_with_stable_codes(api, db, admin, make_doctor, patient, booked_now):
    doctor = make_doctor(seats_per_slot=2)
    body = {"doctor_id": doctor.id, "start": hour().isoformat()}
    assert api.post("/appointments", user=patient.user, json=body).status_code == 201
    twice = api.post("/appointments", user=patient.user, json=body)
    assert (twice.status_code, twice.get_json()["code"]) == (409, "overlapping_visit")
    assert doctor.user.full_name in twice.get_json()["detail"]
    api.patch("/settings", user=admin, json={"max_upcoming_per_patient": 1})
    more = api.post(
        "/appointments", user=patient.user, json={**body, "start": hour(days=1).isoformat()}
    )
    assert (more.status_code, more.get_json()["code"]) == (409, "booking_limit_reached")
    for_them = api.post(
        "/appointments",
        user=admin,
        json={**body, "start": hour(days=1).isoformat(), "patient_id": patient.id},
    )
    assert for_them.status_code == 201


def test_the_booking_page_names_the_other_visit(db, client, auth, make_doctor, patient, booked_now):
    doctor = make_doctor(seats_per_slot=2)
    assert auth.login(patient.user).status_code == 303
    start = hour().isoformat()
    assert client.post(f"/doctors/{doctor.id}/book", data={"start": start}).status_code == 303
    again = client.post(
        f"/doctors/{doctor.id}/book", data={"start": start}, headers={"HX-Request": "true"}
    )
    assert again.status_code == 409
    assert "You already have a visit at that time" in again.text
    assert doctor.user.full_name in again.text
