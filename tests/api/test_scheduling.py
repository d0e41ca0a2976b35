"""Weekly hours, time off and slots over the API."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.booking.models import BookingSettings
from portal.db import utcnow
from portal.scheduling.models import WeeklyHours
from tests.api.conftest import assert_problem


def test_a_doctor_reads_their_weekly_hours(api, doctor):
    body = api.get(f"/doctors/{doctor.id}/availability", user=doctor.user).get_json()
    assert (body["slot_minutes"], body["seats"]) == (30, 1)
    assert body["intervals"][0] == {"weekday": 0, "start": "09:00", "end": "17:00"}
    assert len(body["intervals"]) == 5


def test_put_replaces_the_whole_week(api, doctor):
    week = {
        "slot_minutes": 20,
        "seats": 2,
        "intervals": [
            {"weekday": 1, "start": "14:00", "end": "18:00"},
            {"weekday": 1, "start": "09:00", "end": "12:00"},
        ],
    }
    response = api.put(f"/doctors/{doctor.id}/availability", user=doctor.user, json=week)
    assert response.status_code == 200
    assert response.get_json() == {
        "slot_minutes": 20,
        "seats": 2,
        "intervals": [
            {"weekday": 1, "start": "09:00", "end": "12:00"},
            {"weekday": 1, "start": "14:00", "end": "18:00"},
        ],
    }
    again = api.get(f"/doctors/{doctor.id}/availability", user=doctor.user).get_json()
    assert again == response.get_json()


def test_overlapping_or_backwards_intervals_are_400(api, doctor):
    response = api.put(
        f"/doctors/{doctor.id}/availability",
        user=doctor.user,
        json={
            "slot_minutes": 30,
            "intervals": [
                {"weekday": 0, "start": "09:00", "end": "12:00"},
                {"weekday": 0, "start": "11:00", "end": "13:00"},
                {"weekday": 2, "start": "15:00", "end": "10:00"},
            ],
        },
    )
    body = assert_problem(response, 400, "validation_failed")
    assert set(body["errors"]) == {"intervals[1].start", "intervals[2].end"}


def test_slot_minutes_outside_5_to_480_are_400(api, doctor):
    for minutes in (4, 481):
        response = api.put(
            f"/doctors/{doctor.id}/availability",
            user=doctor.user,
            json={"slot_minutes": minutes, "intervals": []},
        )
        body = assert_problem(response, 400, "invalid_request")
        assert list(body["errors"]) == ["slot_minutes"]


def test_a_bad_wall_clock_time_is_400(api, doctor):
    response = api.put(
        f"/doctors/{doctor.id}/availability",
        user=doctor.user,
        json={"slot_minutes": 30, "intervals": [{"weekday": 0, "start": "9am", "end": "24:00"}]},
    )
    body = assert_problem(response, 400, "invalid_request")
    assert body["errors"]["intervals[0].start"] == ["Enter a time as hours and minutes."]


def test_changing_hours_keeps_booked_appointments(api, patient, open_doctor):
    from tests.api.conftest import first_slot

    start = first_slot(api, open_doctor.id)
    booked = api.post(
        "/appointments", user=patient.user, json={"doctor_id": open_doctor.id, "start": start}
    ).get_json()
    emptied = api.put(
        f"/doctors/{open_doctor.id}/availability",
        user=open_doctor.user,
        json={"slot_minutes": 45, "intervals": []},
    )
    assert emptied.status_code == 200
    kept = api.get(f"/appointments/{booked['id']}", user=patient.user).get_json()
    assert (kept["status"], kept["start"]) == ("confirmed", start)


def test_time_off_is_added_listed_and_removed(api, doctor):
    response = api.post(
        f"/doctors/{doctor.id}/time-off",
        user=doctor.user,
        json={
            "start": "2099-07-01T00:00:00+02:00",
            "end": "2099-07-15T00:00:00+02:00",
            "reason": "Holiday",
        },
    )
    assert response.status_code == 201
    created = response.get_json()
    assert created["start"] == "2099-07-01T00:00:00+02:00"
    assert response.headers["Location"] == f"/api/v1/doctors/{doctor.id}/time-off"
    listed = api.get(f"/doctors/{doctor.id}/time-off", user=doctor.user).get_json()
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert api.delete(f"/time-off/{created['id']}", user=doctor.user).status_code == 204
    assert api.get(f"/doctors/{doctor.id}/time-off", user=doctor.user).get_json()["total"] == 0


def test_time_off_must_end_after_it_starts(api, doctor):
    response = api.post(
        f"/doctors/{doctor.id}/time-off",
        user=doctor.user,
        json={"start": "2099-07-15T00:00:00+02:00", "end": "2099-07-01T00:00:00+02:00"},
    )
    body = assert_problem(response, 400, "validation_failed")
    assert list(body["errors"]) == ["end"]


def test_time_off_blocks_the_slots_it_overlaps(api, open_doctor):
    slots = api.get(f"/doctors/{open_doctor.id}/slots").get_json()["slots"]
    first = slots[0]
    api.post(
        f"/doctors/{open_doctor.id}/time-off",
        user=open_doctor.user,
        json={"start": first["start"], "end": first["end"]},
    )
    after = api.get(f"/doctors/{open_doctor.id}/slots").get_json()["slots"]
    assert first["start"] not in [slot["start"] for slot in after]


def test_slots_are_public_and_in_the_clinics_zone(api, doctor):
    today = utcnow().date()
    monday = today + timedelta(days=7 - today.weekday())
    response = api.get(f"/doctors/{doctor.id}/slots?from={monday}&to={monday}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["timezone"] == "Europe/Paris"
    first = body["slots"][0]
    assert first["start"].startswith(f"{monday}T09:00:00+0")
    assert first["seats_left"] == 1
    assert len(body["slots"]) == 16
    start, end = (datetime.fromisoformat(first[key]) for key in ("start", "end"))
    assert end - start == timedelta(minutes=30)


def test_slots_span_at_most_31_days(api, doctor):
    today = date.today()
    ok = api.get(f"/doctors/{doctor.id}/slots?from={today}&to={today + timedelta(days=30)}")
    assert ok.status_code == 200
    too_long = api.get(f"/doctors/{doctor.id}/slots?from={today}&to={today + timedelta(days=31)}")
    body = assert_problem(too_long, 400, "validation_failed")
    assert list(body["errors"]) == ["to"]
    backwards = api.get(f"/doctors/{doctor.id}/slots?from={today}&to={today - timedelta(1)}")
    assert_problem(backwards, 400, "validation_failed")
    assert_problem(api.get(f"/doctors/{doctor.id}/slots?from=soon"), 400, "invalid_request")


def test_slots_of_an_unknown_doctor_are_404(api):
    assert_problem(api.get("/doctors/999/slots"), 404, "not_found")


def _next_spring_forward(zone):
    day = utcnow().date() + timedelta(days=2)
    while True:
        noon = datetime.combine(day, time(12), tzinfo=zone)
        midnight = datetime.combine(day, time(0), tzinfo=zone)
        if noon.utcoffset() > midnight.utcoffset():
            return day
        day += timedelta(days=1)


def test_slots_leave_out_the_missing_hour_of_a_spring_forward_day(
    api, db, make_doctor, make_clinic
):
    clinic = make_clinic(timezone="Europe/Paris")
    doctor = make_doctor(clinic=clinic, hours=False)
    for weekday in range(7):
        db.session.add(
            WeeklyHours(doctor_id=doctor.id, weekday=weekday, start_time=time(1), end_time=time(4))
        )
    settings = db.session.get(BookingSettings, 1)
    settings.horizon_days = 730
    db.session.commit()
    day = _next_spring_forward(ZoneInfo("Europe/Paris"))
    body = api.get(f"/doctors/{doctor.id}/slots?from={day}&to={day}").get_json()
    assert [slot["start"] for slot in body["slots"]] == [
        f"{day}T01:00:00+01:00",
        f"{day}T01:30:00+01:00",
        f"{day}T03:00:00+02:00",
        f"{day}T03:30:00+02:00",
    ]
