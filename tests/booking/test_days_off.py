"""A doctor takes whole days off in one step, and decides what happens to the visits
already booked on them."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.booking import services
from portal.booking.models import Appointment, Status
from portal.db import utcnow
from portal.errors import ValidationFailed
from portal.scheduling.models import TimeOff

PARIS = ZoneInfo("Europe/Paris")


def at(day, hour):
    return datetime.combine(day, time(hour), PARIS).astimezone(UTC)


def a_weekday(days_ahead=10):
    day = utcnow().astimezone(PARIS).date() + timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def book(db, doctor, patient, start):
    appointment = Appointment(
        doctor=doctor,
        patient=patient,
        clinic=doctor.clinic,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        status=Status.CONFIRMED,
    )
    db.session.add(appointment)
    db.session.commit()
    return appointment


def status_of(db, appointment_id):
    db.session.expire_all()
    return db.session.get(Appointment, appointment_id)


@pytest.fixture
def signed_in(auth, doctor):
    auth.login(doctor.user)
    return auth.client


def test_a_free_day_off_is_taken_in_one_click_midnight_to_midnight(signed_in, db, doctor):
    day = a_weekday()
    answer = signed_in.post("/doctor/schedule/days-off", data={"first_day": day.isoformat()})
    assert answer.status_code == 303
    period = db.session.scalar(select(TimeOff))
    assert (period.starts_at, period.ends_at) == (
        datetime.combine(day, time(0), PARIS).astimezone(UTC),
        datetime.combine(day + timedelta(days=1), time(0), PARIS).astimezone(UTC),
    )
    now = utcnow()
    slots = services.slots_for(doctor=doctor, first_day=day, last_day=day, now=now)
    assert slots == []


def test_visits_on_the_days_are_listed_before_anything_is_saved(
    signed_in, db, doctor, make_patient, make_user
):
    first = a_weekday()
    last = first + timedelta(days=1)
    patient = make_patient(user=make_user(full_name="Bea Booked"))
    visit = book(db, doctor, patient, at(last, 10))
    answer = signed_in.post(
        "/doctor/schedule/days-off",
        data={"first_day": first.isoformat(), "last_day": last.isoformat(), "reason": "Congress"},
    )
    assert answer.status_code == 200
    assert "1 visit is booked on these days" in answer.text
    assert "Bea Booked" in answer.text
    assert 'name="visits" value="cancel"' in answer.text
    assert db.session.scalar(select(TimeOff)) is None
    assert status_of(db, visit.id).status == Status.CONFIRMED


def test_the_doctor_cancels_those_visits_with_the_reason(signed_in, db, doctor, patient):
    day = a_weekday()
    visit = book(db, doctor, patient, at(day, 10))
    answer = signed_in.post(
        "/doctor/schedule/days-off",
        data={"first_day": day.isoformat(), "reason": "Congress", "visits": "cancel"},
    )
    assert answer.status_code == 303
    cancelled = status_of(db, visit.id)
    assert cancelled.status == Status.CANCELLED
    assert cancelled.cancel_reason == "Congress"
    assert cancelled.cancelled_by_id == doctor.user_id
    assert db.session.scalar(select(TimeOff)) is not None


def test_or_keeps_them(signed_in, db, doctor, patient):
    day = a_weekday()
    visit = book(db, doctor, patient, at(day, 10))
    answer = signed_in.post(
        "/doctor/schedule/days-off", data={"first_day": day.isoformat(), "visits": "keep"}
    )
    assert answer.status_code == 303
    assert status_of(db, visit.id).status == Status.CONFIRMED
    assert db.session.scalar(select(TimeOff)) is not None
    # The doctor is told the visit stays, as on the time-off page.
    week = signed_in.get(answer.headers["Location"]).text
    assert "1 visit stays booked during this time off." in week


def test_a_range_ending_before_it_starts_is_refused(signed_in, db):
    day = a_weekday()
    answer = signed_in.post(
        "/doctor/schedule/days-off",
        data={"first_day": day.isoformat(), "last_day": (day - timedelta(days=1)).isoformat()},
    )
    assert answer.status_code == 422
    assert "The last day must not be before the first." in answer.text
    assert db.session.scalar(select(TimeOff)) is None


def test_another_doctor_cannot_take_days_off_for_someone(db, make_doctor, doctor):
    other = make_doctor()
    with pytest.raises(services.NotFound):
        services.take_days_off(
            actor=other.user,
            doctor=doctor,
            first_day=a_weekday(),
            last_day=None,
            reason="",
            cancel_visits=True,
            now=utcnow(),
        )


def test_a_too_long_range_is_refused(db, doctor):
    day = a_weekday()
    with pytest.raises(ValidationFailed):
        services.visits_in_days_off(
            actor=doctor.user,
            doctor=doctor,
            first_day=day,
            last_day=day + timedelta(days=400),
            now=utcnow(),
        )


def test_patients_cannot_use_the_page(auth, patient):
    auth.login(patient.user)
    assert auth.client.get("/doctor/schedule/days-off").status_code == 403


def test_the_day_view_takes_the_day_off_in_one_click(signed_in, db, doctor):
    day = a_weekday()
    page = signed_in.get(f"/doctor/schedule?day={day.isoformat()}").text
    assert 'action="/doctor/schedule/days-off"' in page
    assert f'name="first_day" value="{day.isoformat()}"' in page
    answer = signed_in.post("/doctor/schedule/days-off", data={"first_day": day.isoformat()})
    assert answer.status_code == 303
    assert db.session.scalar(select(TimeOff)) is not None
    past = signed_in.get(f"/doctor/schedule?day={(day - timedelta(days=60)).isoformat()}").text
    assert 'action="/doctor/schedule/days-off"' not in past
