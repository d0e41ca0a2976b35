"""Pages that show free times reuse the slots a worker computed, and still show exactly
what is free: every change to a doctor's schedule, whoever makes it, shows on the next
request, and the clock still moves the earliest bookable time along."""

import html
import inspect
import re
from datetime import UTC, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, event, select

from portal.booking import availability, picker, services
from portal.booking.models import Appointment, BookingSettings, Status
from portal.db import utcnow
from portal.directory import services as directory
from portal.scheduling import services as scheduling
from portal.scheduling.models import WeeklyHours

HTMX = {"HX-Request": "true"}


def offered(page):
    """The start times the partial offers to book, in order: the buttons of the form that
    opens the booking panel."""
    if not re.search(r'action="/doctors/\d+/book"', page):
        return []
    return [html.unescape(start) for start in re.findall(r'name="start" value="([^"]+)"', page)]


def a_working_day(doctor, ahead=3):
    """A Monday to Friday date a few days ahead in the doctor's clinic."""
    day = utcnow().astimezone(ZoneInfo(doctor.clinic.timezone)).date() + timedelta(days=ahead)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def free_now(db, doctor_id, day):
    """What the database says is free on the day, computed afresh (no reuse)."""
    db.session.expire_all()
    doctor = services.bookable_doctor(doctor_id)
    now = utcnow()
    return [
        slot.start.isoformat()
        for slot in services.slots_for(doctor=doctor, first_day=day, last_day=day, now=now)
    ]


def shown(htmx, doctor_id, day):
    response = htmx.get(f"/doctors/{doctor_id}/slots", query_string={"day": day.isoformat()})
    assert response.status_code == 200, response.text
    return offered(response.text)


def book(db, doctor, patient, start):
    appointment = services.book(
        actor=patient.user,
        patient=patient,
        doctor_id=doctor.id,
        start=start,
        reason="",
        now=utcnow(),
    )
    db.session.commit()
    return appointment


def at(doctor, day, wall):
    return datetime.combine(day, wall, ZoneInfo(doctor.clinic.timezone)).astimezone(UTC)


# Each change is made as another worker would: through the services, committed, and the
# page asked again. The page must then match a fresh computation from the database.


def booked(db, doctor, patient, admin, day):
    book(db, doctor, patient, at(doctor, day, time(10)))


def cancelled(db, doctor, patient, admin, day):
    appointment = book(db, doctor, patient, at(doctor, day, time(10)))
    yield
    services.cancel(actor=patient.user, appointment=appointment, reason="", now=utcnow())
    db.session.commit()


def rescheduled(db, doctor, patient, admin, day):
    appointment = book(db, doctor, patient, at(doctor, day, time(10)))
    yield
    services.reschedule(
        actor=patient.user, appointment=appointment, start=at(doctor, day, time(15)), now=utcnow()
    )
    db.session.commit()


def booked_without_the_services(db, doctor, patient, admin, day):
    # A row written straight through the ORM (an import, a console session) counts too.
    start = at(doctor, day, time(11))
    db.session.add(
        Appointment(
            doctor_id=doctor.id,
            patient_id=patient.id,
            clinic_id=doctor.clinic_id,
            starts_at=start,
            ends_at=start + timedelta(minutes=doctor.slot_minutes),
            status=Status.CONFIRMED,
            reason="",
        )
    )
    db.session.commit()


def hours_added(db, doctor, patient, admin, day):
    scheduling.add_interval(
        actor=admin, doctor=doctor, weekday=day.weekday(), start=time(18), end=time(20)
    )
    db.session.commit()


def hours_of_the_day(db, doctor, day):
    return db.session.scalar(
        select(WeeklyHours).where(
            WeeklyHours.doctor_id == doctor.id, WeeklyHours.weekday == day.weekday()
        )
    )


def hours_changed(db, doctor, patient, admin, day):
    interval = hours_of_the_day(db, doctor, day)
    scheduling.update_interval(
        actor=admin, interval=interval, weekday=day.weekday(), start=time(8), end=time(12)
    )
    db.session.commit()


def hours_removed(db, doctor, patient, admin, day):
    scheduling.remove_interval(actor=admin, interval=hours_of_the_day(db, doctor, day))
    db.session.commit()


def slot_length_changed(db, doctor, patient, admin, day):
    scheduling.set_slot_settings(actor=admin, doctor=doctor, slot_minutes=45, seats=2)
    db.session.commit()


def time_off_taken(db, doctor, patient, admin, day):
    scheduling.add_time_off(
        actor=admin,
        doctor=doctor,
        starts_at=at(doctor, day, time(12)),
        ends_at=at(doctor, day, time(15)),
        reason="Training",
    )
    db.session.commit()


def time_off_removed(db, doctor, patient, admin, day):
    period = scheduling.add_time_off(
        actor=admin,
        doctor=doctor,
        starts_at=at(doctor, day, time(0)),
        ends_at=at(doctor, day + timedelta(days=1), time(0)),
        reason="Conference",
    )
    db.session.commit()
    yield
    scheduling.remove_time_off(actor=admin, time_off=period)
    db.session.commit()


def daily_maximum_reached(db, doctor, patient, admin, day):
    book(db, doctor, patient, at(doctor, day, time(9)))
    yield
    directory.update_doctor(actor=admin, doctor=doctor, max_appointments_per_day=1)
    db.session.commit()


def clinic_moved_to_another_zone(db, doctor, patient, admin, day):
    directory.update_clinic(actor=admin, clinic=doctor.clinic, timezone="America/New_York")
    db.session.commit()


CHANGES = [
    booked,
    cancelled,
    rescheduled,
    booked_without_the_services,
    hours_added,
    hours_changed,
    hours_removed,
    slot_length_changed,
    time_off_taken,
    time_off_removed,
    daily_maximum_reached,
    clinic_moved_to_another_zone,
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda change: change.__name__)
def test_the_slots_partial_shows_every_schedule_change_at_once(
    change, htmx, db, doctor, patient, admin
):
    day = a_working_day(doctor)
    steps = None
    if inspect.isgeneratorfunction(change):  # a set-up step, then the change
        steps = change(db, doctor, patient, admin, day)
        next(steps)
    before = shown(htmx, doctor.id, day)
    assert before == free_now(db, doctor.id, day)
    assert shown(htmx, doctor.id, day) == before  # asked twice: the same answer

    if steps is None:
        change(db, doctor, patient, admin, day)
    else:
        next(steps, None)
    after = shown(htmx, doctor.id, day)

    assert after != before, "the change should change the free times of the day"
    assert after == free_now(db, doctor.id, day)


def test_the_doctor_page_shows_a_booking_made_elsewhere(client, db, doctor, patient):
    first = client.get(f"/doctors/{doctor.id}")
    taken = offered(first.text)[0]
    book(db, doctor, patient, datetime.fromisoformat(taken))

    again = client.get(f"/doctors/{doctor.id}")
    assert taken not in offered(again.text)


def test_the_earliest_time_moves_on_with_the_clock(htmx, db, doctor, monkeypatch):
    day = a_working_day(doctor)
    before = shown(htmx, doctor.id, day)
    assert len(before) > 4
    # Two hours before the day's third slot, with the default notice of an hour or more,
    # the first slots are too soon to book; nothing about the schedule changed.
    later = datetime.fromisoformat(before[2]) - timedelta(minutes=30)
    monkeypatch.setattr(picker, "utcnow", lambda: later)
    settings = services.get_booking_settings()
    notice = timedelta(minutes=settings.min_notice_minutes)
    expected = [start for start in before if datetime.fromisoformat(start) >= later + notice]
    assert shown(htmx, doctor.id, day) == expected
    assert len(expected) < len(before)


def statement_counts(db, looks):
    """How many SQL statements each of the looks (callables) sends."""
    counts = []

    def count(*_args):
        counts[-1] += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for look in looks:
            counts.append(0)
            look()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return counts


def test_a_second_look_at_a_strip_reuses_what_the_worker_read(htmx, db, doctor, patient):
    day, doctor_id = a_working_day(doctor), doctor.id
    start = at(doctor, day, time(10))
    look = partial(shown, htmx, doctor_id, day)
    counts = statement_counts(db, [look, look, partial(book, db, doctor, patient, start), look])
    # The doctor's schedule version and the rules, then the schedule (hours, time off and
    # appointments in one query). The second look reuses the strip after reading the
    # version; a booking changes the schedule, so the next look reads and computes again.
    assert counts[:2] + counts[3:] == [2, 1, 2]


def test_with_no_slots_kept_every_look_computes(app, htmx, db, doctor, monkeypatch):
    monkeypatch.setitem(app.extensions, availability.CACHE, availability.WorkerCache(0))
    look = partial(shown, htmx, doctor.id, a_working_day(doctor))
    assert statement_counts(db, [look, look]) == [2, 2]


def test_a_closed_visit_keeps_its_time_taken(htmx, db, doctor, patient):
    day = a_working_day(doctor)
    appointment = book(db, doctor, patient, at(doctor, day, time(10)))
    before = shown(htmx, doctor.id, day)
    services.mark_completed(
        actor=doctor.user, appointment=appointment, notes="Seen", now=appointment.starts_at
    )
    db.session.commit()
    assert shown(htmx, doctor.id, day) == before == free_now(db, doctor.id, day)


def test_the_partial_uses_the_default_rules_until_an_admin_saves_some(htmx, db, doctor):
    db.session.execute(delete(BookingSettings))
    db.session.commit()
    day = a_working_day(doctor)
    offered_times = shown(htmx, doctor.id, day)
    assert offered_times
    assert offered_times == free_now(db, doctor.id, day)


def test_the_same_day_asked_in_two_languages_comes_back_in_each(htmx, db, doctor):
    day = a_working_day(doctor).isoformat()
    path = f"/doctors/{doctor.id}/slots?day={day}"
    english = htmx.get(path).text
    french = htmx.get(path, headers={"Accept-Language": "fr"}).text
    assert "Choose a day" in english
    assert "Choisissez un jour" in french
    assert "Choose a day" not in french
    assert "Choose a day" in htmx.get(path).text  # and English again after the French
    assert offered(english) == offered(french)


def test_a_kept_partial_is_the_same_page_as_a_fresh_one(app, htmx, db, doctor, monkeypatch):
    path = f"/doctors/{doctor.id}/slots?day={a_working_day(doctor).isoformat()}"
    htmx.get(path)
    kept = htmx.get(path)
    monkeypatch.setitem(app.extensions, picker.RENDERED, availability.WorkerCache(0))
    fresh = htmx.get(path)
    assert kept.text == fresh.text
    assert kept.headers["Vary"] == fresh.headers["Vary"]
    assert "HX-Request" in kept.headers["Vary"]
    assert "<html" not in kept.text
