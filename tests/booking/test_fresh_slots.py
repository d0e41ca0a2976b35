"""Free times are fresh by construction: any write to a doctor's appointments, weekly
hours, time off or own row, made through SQLAlchemy Core or plain SQL as well as the
services, shows at once on the day-slots partial and in the API's free slots. Both answer
with an ETag, and a client that holds the same answer gets 304."""

import html
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Date, bindparam, delete, insert, select, text, update

from portal.api import scheduling as api_scheduling
from portal.booking import picker, services
from portal.booking.errors import SlotUnavailable
from portal.booking.models import Appointment
from portal.db import UTCDateTime, utcnow
from portal.directory.models import Doctor
from portal.scheduling.models import ClinicClosure, TimeOff, WeeklyHours
from tests.booking.test_slot_reuse import a_working_day, at, free_now, offered

APPOINTMENTS = Appointment.__table__
HOURS = WeeklyHours.__table__
TIME_OFF = TimeOff.__table__
CLOSURES = ClinicClosure.__table__


def partial_times(htmx, doctor_id, day):
    response = htmx.get(f"/doctors/{doctor_id}/slots", query_string={"day": day.isoformat()})
    assert response.status_code == 200, response.text
    return offered(response.text)


def api_times(client, doctor_id, day):
    response = client.get(
        f"/api/v1/doctors/{doctor_id}/slots",
        query_string={"from": day.isoformat(), "to": day.isoformat()},
    )
    assert response.status_code == 200, response.text
    # The API gives clinic time, the partial's links UTC: compare the instants.
    return [
        datetime.fromisoformat(slot["start"]).astimezone(UTC).isoformat()
        for slot in response.json["slots"]
    ]


def seen(client, htmx, doctor_id, day):
    """What the partial and the API offer on the day, after checking they agree."""
    shown = partial_times(htmx, doctor_id, day)
    assert api_times(client, doctor_id, day) == shown
    return shown


# Each change: a set-up made through the services (rows to change later), then the
# same write in SQLAlchemy Core and in plain SQL, neither of which the ORM sees.


def book_at(db, doctor, patient, start):
    appointment = services.book(
        actor=patient.user,
        patient=patient,
        doctor_id=doctor.id,
        start=start,
        reason="",
        now=utcnow(),
    )
    db.session.commit()
    return appointment.id


def appointment_values(doctor, patient, start):
    return {
        "doctor_id": doctor.id,
        "patient_id": patient.id,
        "clinic_id": doctor.clinic_id,
        "starts_at": start,
        "ends_at": start + timedelta(minutes=doctor.slot_minutes),
    }


def appointment_inserted(db, doctor, patient, day, how):
    values = appointment_values(doctor, patient, at(doctor, day, time(11)))
    if how == "core":
        return insert(APPOINTMENTS).values(**values)
    return text(
        "INSERT INTO appointments (doctor_id, patient_id, clinic_id, starts_at, ends_at, seat, "
        "status, reason, notes, cancel_reason, created_at, updated_at) VALUES (:doctor_id, "
        ":patient_id, :clinic_id, :starts_at, :ends_at, 1, 'confirmed', '', '', '', "
        ":starts_at, :starts_at)"
    ).bindparams(
        bindparam("starts_at", type_=UTCDateTime),
        bindparam("ends_at", type_=UTCDateTime),
        **{name: values[name] for name in ("doctor_id", "patient_id", "clinic_id")},
        starts_at=values["starts_at"],
        ends_at=values["ends_at"],
    )


def appointment_moved(db, doctor, patient, day, how):
    appointment_id = book_at(db, doctor, patient, at(doctor, day, time(10)))
    start = at(doctor, day, time(15))
    end = start + timedelta(minutes=doctor.slot_minutes)
    yield
    if how == "core":
        yield (
            update(APPOINTMENTS)
            .where(APPOINTMENTS.c.id == appointment_id)
            .values(starts_at=start, ends_at=end)
        )
    else:
        yield text(
            "UPDATE appointments SET starts_at = :starts_at, ends_at = :ends_at WHERE id = :id"
        ).bindparams(
            bindparam("starts_at", type_=UTCDateTime),
            bindparam("ends_at", type_=UTCDateTime),
            starts_at=start,
            ends_at=end,
            id=appointment_id,
        )


def appointment_deleted(db, doctor, patient, day, how):
    appointment_id = book_at(db, doctor, patient, at(doctor, day, time(10)))
    yield
    if how == "core":
        yield delete(APPOINTMENTS).where(APPOINTMENTS.c.id == appointment_id)
    else:
        yield text("DELETE FROM appointments WHERE id = :id").bindparams(id=appointment_id)


def hours_inserted(db, doctor, patient, day, how):
    values = {"doctor_id": doctor.id, "weekday": day.weekday()}
    if how == "core":
        return insert(HOURS).values(**values, start_time=time(18), end_time=time(20))
    return text(
        "INSERT INTO weekly_hours (doctor_id, weekday, start_time, end_time) "
        "VALUES (:doctor_id, :weekday, :start_time, :end_time)"
    ).bindparams(
        bindparam("start_time", type_=HOURS.c.start_time.type),
        bindparam("end_time", type_=HOURS.c.end_time.type),
        start_time=time(18),
        end_time=time(20),
        **values,
    )


def hours_changed(db, doctor, patient, day, how):
    where = {"doctor_id": doctor.id, "weekday": day.weekday()}
    if how == "core":
        return (
            update(HOURS)
            .where(HOURS.c.doctor_id == doctor.id, HOURS.c.weekday == day.weekday())
            .values(start_time=time(8), end_time=time(12))
        )
    return text(
        "UPDATE weekly_hours SET start_time = :start_time, end_time = :end_time "
        "WHERE doctor_id = :doctor_id AND weekday = :weekday"
    ).bindparams(
        bindparam("start_time", type_=HOURS.c.start_time.type),
        bindparam("end_time", type_=HOURS.c.end_time.type),
        start_time=time(8),
        end_time=time(12),
        **where,
    )


def hours_deleted(db, doctor, patient, day, how):
    if how == "core":
        return delete(HOURS).where(HOURS.c.doctor_id == doctor.id, HOURS.c.weekday == day.weekday())
    return text(
        "DELETE FROM weekly_hours WHERE doctor_id = :doctor_id AND weekday = :weekday"
    ).bindparams(doctor_id=doctor.id, weekday=day.weekday())


def time_off_sql(statement, **values):
    return text(statement).bindparams(
        *(
            bindparam(name, type_=UTCDateTime)
            for name in ("starts_at", "ends_at")
            if name in values
        ),
        **values,
    )


def time_off_inserted(db, doctor, patient, day, how):
    values = {
        "doctor_id": doctor.id,
        "starts_at": at(doctor, day, time(12)),
        "ends_at": at(doctor, day, time(15)),
    }
    if how == "core":
        return insert(TIME_OFF).values(**values)
    return time_off_sql(
        "INSERT INTO time_off_periods (doctor_id, starts_at, ends_at, reason, created_at) "
        "VALUES (:doctor_id, :starts_at, :ends_at, '', :starts_at)",
        **values,
    )


def a_time_off(db, doctor, day):
    period = TimeOff(
        doctor_id=doctor.id, starts_at=at(doctor, day, time(12)), ends_at=at(doctor, day, time(13))
    )
    db.session.add(period)
    db.session.commit()
    return period.id


def time_off_extended(db, doctor, patient, day, how):
    period_id = a_time_off(db, doctor, day)
    end = at(doctor, day, time(16))
    yield
    if how == "core":
        yield update(TIME_OFF).where(TIME_OFF.c.id == period_id).values(ends_at=end)
    else:
        yield time_off_sql(
            "UPDATE time_off_periods SET ends_at = :ends_at WHERE id = :id",
            ends_at=end,
            id=period_id,
        )


def time_off_deleted(db, doctor, patient, day, how):
    period_id = a_time_off(db, doctor, day)
    yield
    if how == "core":
        yield delete(TIME_OFF).where(TIME_OFF.c.id == period_id)
    else:
        yield text("DELETE FROM time_off_periods WHERE id = :id").bindparams(id=period_id)


def slot_length_changed(db, doctor, patient, day, how):
    if how == "core":
        return update(Doctor.__table__).where(Doctor.id == doctor.id).values(slot_minutes=45)
    return text("UPDATE doctors SET slot_minutes = 45 WHERE id = :id").bindparams(id=doctor.id)


def closure_inserted(db, doctor, patient, day, how):
    if how == "core":
        return insert(CLOSURES).values(clinic_id=doctor.clinic_id, day=day, reason="Holiday")
    return text(
        "INSERT INTO clinic_closures (clinic_id, day, reason, created_at) "
        "VALUES (:clinic_id, :day, 'Holiday', :created_at)"
    ).bindparams(
        bindparam("clinic_id", doctor.clinic_id),
        bindparam("day", day, type_=Date),
        bindparam("created_at", utcnow(), type_=UTCDateTime),
    )


def closure_deleted(db, doctor, patient, day, how):
    closure = ClinicClosure(clinic_id=doctor.clinic_id, day=day)
    db.session.add(closure)
    db.session.commit()
    closure_id = closure.id
    yield
    if how == "core":
        yield delete(CLOSURES).where(CLOSURES.c.id == closure_id)
    else:
        yield text("DELETE FROM clinic_closures WHERE id = :id").bindparams(id=closure_id)


WRITES = [
    appointment_inserted,
    appointment_moved,
    appointment_deleted,
    hours_inserted,
    hours_changed,
    hours_deleted,
    time_off_inserted,
    time_off_extended,
    time_off_deleted,
    slot_length_changed,
    closure_inserted,
    closure_deleted,
]


@pytest.mark.parametrize("how", ["core", "sql"])
@pytest.mark.parametrize("write", WRITES, ids=lambda write: write.__name__)
def test_a_write_outside_the_orm_shows_at_once(write, how, client, htmx, db, doctor, patient):
    day, doctor_id = a_working_day(doctor), doctor.id
    made = write(db, doctor, patient, day, how)
    if not hasattr(made, "send"):
        statement = made
    else:  # a set-up through the services first, then the statement
        next(made)
        statement = next(made)
    before = seen(client, htmx, doctor_id, day)
    assert seen(client, htmx, doctor_id, day) == before  # kept, and still the same

    db.session.execute(statement)
    db.session.commit()

    after = seen(client, htmx, doctor_id, day)
    assert after != before, "the write should change the free times of the day"
    assert after == free_now(db, doctor_id, day)


def test_a_closed_day_changes_every_doctor_of_that_clinic_only(
    client, htmx, db, make_doctor, make_clinic
):
    clinic, elsewhere = make_clinic(), make_clinic(name="Elsewhere")
    doctors = [make_doctor(clinic=clinic), make_doctor(clinic=clinic)]
    other = make_doctor(clinic=elsewhere)
    day = a_working_day(other)
    before = {doctor.id: seen(client, htmx, doctor.id, day) for doctor in [*doctors, other]}
    versions = dict(db.session.execute(select(Doctor.id, Doctor.schedule_version)).all())
    db.session.execute(insert(CLOSURES).values(clinic_id=clinic.id, day=day, reason=""))
    db.session.commit()
    after = dict(db.session.execute(select(Doctor.id, Doctor.schedule_version)).all())
    for doctor in doctors:
        assert after[doctor.id] != versions[doctor.id]
        assert before[doctor.id]
        assert seen(client, htmx, doctor.id, day) == []
    assert after[other.id] == versions[other.id]
    assert seen(client, htmx, other.id, day) == before[other.id]


def test_a_bulk_insert_for_several_doctors_shows_for_each(client, htmx, db, make_doctor, patient):
    doctors = [make_doctor(), make_doctor()]
    day = a_working_day(doctors[0])
    before = {doctor.id: seen(client, htmx, doctor.id, day) for doctor in doctors}
    db.session.execute(
        insert(APPOINTMENTS),
        [
            appointment_values(doctor, patient, at(doctor, day, time(hour)))
            for doctor in doctors
            for hour in (9, 10)
        ],
    )
    db.session.commit()
    for doctor in doctors:
        after = seen(client, htmx, doctor.id, day)
        assert len(after) == len(before[doctor.id]) - 2
        assert after == free_now(db, doctor.id, day)


def test_an_appointment_and_a_day_off_written_with_core_close_the_day(
    client, htmx, db, doctor, patient
):
    # As reported: the partial went on offering the day's slots, and booking one failed.
    day, doctor_id = a_working_day(doctor), doctor.id
    offered_before = seen(client, htmx, doctor_id, day)
    assert len(offered_before) == 16
    db.session.execute(
        insert(APPOINTMENTS).values(
            **appointment_values(doctor, patient, at(doctor, day, time(10)))
        )
    )
    db.session.execute(
        insert(TIME_OFF).values(
            doctor_id=doctor_id,
            starts_at=at(doctor, day, time(0)),
            ends_at=at(doctor, day + timedelta(days=1), time(0)),
        )
    )
    db.session.commit()

    assert seen(client, htmx, doctor_id, day) == []
    with pytest.raises(SlotUnavailable):
        services.book(
            actor=patient.user,
            patient=patient,
            doctor_id=doctor_id,
            start=datetime.fromisoformat(offered_before[0]),
            reason="",
            now=utcnow(),
        )
    db.session.rollback()


def test_emptying_a_table_with_truncate_shows_at_once(client, htmx, db, doctor, backend):
    if backend != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    day = a_working_day(doctor)
    a_time_off(db, doctor, day)
    before = seen(client, htmx, doctor.id, day)
    db.session.execute(text("TRUNCATE time_off_periods"))
    db.session.commit()
    after = seen(client, htmx, doctor.id, day)
    assert len(after) == len(before) + 2
    assert after == free_now(db, doctor.id, day)


def test_a_version_set_by_hand_is_left_as_set(db, doctor):
    # The doctor's own trigger stays out of a write of the version itself, so it cannot
    # call itself again.
    db.session.execute(
        text("UPDATE doctors SET schedule_version = 42 WHERE id = :id"), {"id": doctor.id}
    )
    db.session.commit()
    version = text("SELECT schedule_version FROM doctors WHERE id = :id").bindparams(id=doctor.id)
    assert db.session.scalar(version) == 42
    db.session.execute(text("UPDATE doctors SET bio = 'New' WHERE id = :id"), {"id": doctor.id})
    db.session.commit()
    assert db.session.scalar(version) not in (42, 0)


# ETags ---------------------------------------------------------------------------------


def slots_path(doctor_id, day):
    return f"/doctors/{doctor_id}/slots?day={day.isoformat()}"


def test_the_partial_answers_304_while_it_is_the_same(htmx, db, doctor):
    path = slots_path(doctor.id, a_working_day(doctor))
    first = htmx.get(path)
    etag = first.headers["ETag"]
    assert first.status_code == 200
    assert "no-cache" in first.headers["Cache-Control"]
    assert "HX-Request" in first.headers["Vary"]

    again = htmx.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert "HX-Request" in again.headers["Vary"]
    weak = htmx.get(path, headers={"If-None-Match": "W/" + etag})
    assert weak.status_code == 304


def test_the_partial_s_etag_changes_with_the_schedule(htmx, db, doctor):
    day = a_working_day(doctor)
    path = slots_path(doctor.id, day)
    first = htmx.get(path)
    db.session.execute(
        insert(TIME_OFF).values(
            doctor_id=doctor.id,
            starts_at=at(doctor, day, time(9)),
            ends_at=at(doctor, day, time(10)),
        )
    )
    db.session.commit()
    changed = htmx.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert len(offered(changed.text)) == len(offered(first.text)) - 2


def test_the_partial_s_etag_differs_by_day_and_language(htmx, db, doctor):
    day = a_working_day(doctor)
    etag = htmx.get(slots_path(doctor.id, day)).headers["ETag"]
    other_day = htmx.get(
        slots_path(doctor.id, day + timedelta(days=1)), headers={"If-None-Match": etag}
    )
    assert other_day.status_code == 200
    french = htmx.get(
        slots_path(doctor.id, day), headers={"If-None-Match": etag, "Accept-Language": "fr"}
    )
    assert french.status_code == 200
    assert "Choisissez un jour" in french.text
    assert "Accept-Language" in french.headers["Vary"]


def test_the_partial_s_etag_moves_with_the_clock(htmx, db, doctor, monkeypatch):
    day = a_working_day(doctor)
    path = slots_path(doctor.id, day)
    first = htmx.get(path)
    etag, times = first.headers["ETag"], offered(first.text)
    # Just before the day's third slot minus the notice: the first two are too soon now.
    notice = timedelta(minutes=services.get_booking_settings().min_notice_minutes)
    later = datetime.fromisoformat(times[2]) - notice - timedelta(minutes=1)
    monkeypatch.setattr(picker, "utcnow", lambda: later)
    moved = htmx.get(path, headers={"If-None-Match": etag})
    assert moved.status_code == 200
    assert offered(moved.text) == times[2:]


def test_the_partial_s_etag_changes_with_today(htmx, db, doctor, monkeypatch):
    # A week ahead the same slots stay bookable a day later, but the strip of days
    # starts on another today.
    path = slots_path(doctor.id, a_working_day(doctor, ahead=7))
    now = utcnow()
    monkeypatch.setattr(picker, "utcnow", lambda: now)
    etag = htmx.get(path).headers["ETag"]
    monkeypatch.setattr(picker, "utcnow", lambda: now + timedelta(days=1))
    assert htmx.get(path, headers={"If-None-Match": etag}).status_code == 200


def test_the_full_page_at_the_partial_s_address_is_never_304(client, htmx, db, doctor):
    path = slots_path(doctor.id, a_working_day(doctor))
    etag = htmx.get(path).headers["ETag"]
    page = client.get(path, headers={"If-None-Match": etag})
    assert page.status_code == 200
    assert "<html" in page.text
    assert "ETag" not in page.headers


def test_the_picker_that_moves_an_appointment_is_never_304(client, auth, db, doctor, patient):
    day = a_working_day(doctor)
    appointment_id = book_at(db, doctor, patient, at(doctor, day, time(10)))
    auth.login(patient.user)
    path = f"/appointments/{appointment_id}/reschedule?day={day.isoformat()}"
    for headers in ({}, {"HX-Request": "true"}):
        page = client.get(path, headers={"If-None-Match": "*", **headers})
        assert page.status_code == 200
        assert "ETag" not in page.headers
        # This patient's own picker: its times open the panel that moves their visit.
        assert f'action="/appointments/{appointment_id}/reschedule"' in page.text
        assert 'aria-label="Move to ' in page.text


def api_path(doctor_id, first, last=None):
    last = last or first
    return f"/api/v1/doctors/{doctor_id}/slots?from={first.isoformat()}&to={last.isoformat()}"


def test_the_api_slots_answer_304_while_they_are_the_same(client, db, doctor, patient):
    day = a_working_day(doctor)
    first = client.get(api_path(doctor.id, day))
    etag = first.headers["ETag"]
    again = client.get(api_path(doctor.id, day), headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert (
        client.get(
            api_path(doctor.id, day, day + timedelta(days=1)), headers={"If-None-Match": etag}
        ).status_code
        == 200
    )

    db.session.execute(text("DELETE FROM weekly_hours WHERE doctor_id = :id"), {"id": doctor.id})
    db.session.commit()
    changed = client.get(api_path(doctor.id, day), headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json["slots"] == []
    assert changed.headers["ETag"] != etag


def test_the_api_slots_etag_moves_with_the_clock(client, db, doctor, monkeypatch):
    day = a_working_day(doctor)
    first = client.get(api_path(doctor.id, day))
    starts = [datetime.fromisoformat(slot["start"]) for slot in first.json["slots"]]
    notice = timedelta(minutes=services.get_booking_settings().min_notice_minutes)
    monkeypatch.setattr(api_scheduling, "utcnow", lambda: starts[1] - notice + timedelta(minutes=1))
    moved = client.get(api_path(doctor.id, day), headers={"If-None-Match": first.headers["ETag"]})
    assert moved.status_code == 200
    assert len(moved.json["slots"]) == len(starts) - 2


# Find a doctor: each doctor's next free times, and the card around them ----------------


def next_times_on_find(client, doctor_id):
    response = client.get("/find")
    assert response.status_code == 200, response.text
    card = re.search(
        rf'<li class="doctor-card" id="doctor-{doctor_id}">.*?</li>\s*</ul>', response.text, re.S
    )
    assert card, "the doctor is listed"
    return card.group(0), [
        html.unescape(start) for start in re.findall(r'name="start" value="([^"]+)"', card.group(0))
    ]


@pytest.mark.parametrize("how", ["core", "sql"])
def test_find_offers_a_time_no_more_once_it_is_taken_outside_the_orm(
    how, client, db, doctor, patient
):
    _card, before = next_times_on_find(client, doctor.id)
    assert next_times_on_find(client, doctor.id)[1] == before  # kept, and still the same
    assert len(before) == 3
    first = datetime.fromisoformat(before[0])
    values = appointment_values(doctor, patient, first)
    if how == "core":
        db.session.execute(insert(APPOINTMENTS).values(**values))
    else:
        db.session.execute(
            text(
                "INSERT INTO appointments (doctor_id, patient_id, clinic_id, starts_at, ends_at, "
                "seat, status, reason, notes, cancel_reason, created_at, updated_at) VALUES "
                "(:doctor_id, :patient_id, :clinic_id, :starts_at, :ends_at, 1, 'confirmed', "
                "'', '', '', :starts_at, :starts_at)"
            ).bindparams(
                bindparam("starts_at", type_=UTCDateTime),
                bindparam("ends_at", type_=UTCDateTime),
                **values,
            )
        )
    db.session.commit()

    _card, after = next_times_on_find(client, doctor.id)
    assert before[0] not in after
    assert after[:2] == before[1:]


def test_find_shows_a_name_changed_with_plain_sql_at_once(client, db, doctor):
    card, _times = next_times_on_find(client, doctor.id)
    assert "Renamed Person" not in card
    db.session.execute(
        text("UPDATE users SET full_name = 'Renamed Person' WHERE id = :id"),
        {"id": doctor.user_id},
    )
    db.session.commit()
    card, _times = next_times_on_find(client, doctor.id)
    assert "Renamed Person" in card


def test_find_moves_the_next_times_past_a_day_off_written_with_core(client, db, doctor):
    _card, before = next_times_on_find(client, doctor.id)
    zone = ZoneInfo(doctor.clinic.timezone)
    first_day = datetime.fromisoformat(before[0]).astimezone(zone).date()
    db.session.execute(
        insert(TIME_OFF).values(
            doctor_id=doctor.id,
            starts_at=at(doctor, first_day, time(0)),
            ends_at=at(doctor, first_day + timedelta(days=1), time(0)),
        )
    )
    db.session.commit()
    _card, after = next_times_on_find(client, doctor.id)
    assert after
    assert all(datetime.fromisoformat(start).astimezone(zone).date() > first_day for start in after)


def listed_ids(client, path="/find"):
    response = client.get(path)
    assert response.status_code == 200, response.text
    return [
        int(found)
        for found in re.findall(r'<li class="doctor-card" id="doctor-(\d+)"', response.text)
    ]


@pytest.mark.parametrize("how", ["core", "sql"])
def test_find_lists_a_doctor_once_their_first_hours_are_written_outside_the_orm(
    how, client, db, make_doctor
):
    listed_doctor = make_doctor()
    newcomer = make_doctor(hours=False)
    assert listed_ids(client) == [listed_doctor.id]
    assert listed_ids(client) == [listed_doctor.id]  # kept, and still the same
    values = {"doctor_id": newcomer.id, "weekday": 0, "start_time": time(9), "end_time": time(12)}
    if how == "core":
        db.session.execute(insert(HOURS).values(**values))
    else:
        db.session.execute(
            text(
                "INSERT INTO weekly_hours (doctor_id, weekday, start_time, end_time) "
                "VALUES (:doctor_id, :weekday, :start_time, :end_time)"
            ).bindparams(
                bindparam("start_time", type_=HOURS.c.start_time.type),
                bindparam("end_time", type_=HOURS.c.end_time.type),
                **values,
            )
        )
    db.session.commit()
    assert sorted(listed_ids(client)) == sorted([listed_doctor.id, newcomer.id])

    db.session.execute(text("DELETE FROM weekly_hours WHERE doctor_id = :id"), {"id": newcomer.id})
    db.session.commit()
    assert listed_ids(client) == [listed_doctor.id]


def test_find_shows_a_department_renamed_with_plain_sql_in_the_cards_and_the_filter(
    client, db, make_doctor, make_department
):
    department = make_department(name="Cardiology")
    doctor = make_doctor(departments=[department])
    page = client.get("/find").text
    assert page.count("Cardiology") == 2  # the filter's choice and the doctor's card
    db.session.execute(
        text("UPDATE departments SET name = 'Heart Care' WHERE id = :id"), {"id": department.id}
    )
    db.session.commit()
    page = client.get("/find").text
    assert "Cardiology" not in page
    assert page.count("Heart Care") == 2
    department_page = client.get(f"/departments/{department.id}").text
    assert f'id="doctor-{doctor.id}"' in department_page


def test_a_clinic_page_drops_a_doctor_deactivated_with_core(client, db, make_doctor):
    doctor = make_doctor()
    path = f"/clinics/{doctor.clinic_id}"
    assert listed_ids(client, path) == [doctor.id]
    db.session.execute(
        update(Doctor.__table__).where(Doctor.id == doctor.id).values(is_active=False)
    )
    db.session.commit()
    assert listed_ids(client, path) == []
