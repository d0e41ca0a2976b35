"""Appointments over the API: book, retry safely, list, read, cancel, reschedule, close,
export."""

import threading
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from portal.booking.models import Appointment, BookingSettings, Status
from portal.db import utcnow
from tests.api.conftest import assert_problem, count, first_slot


def book(api, user, doctor, start, **extra):
    return api.post(
        "/appointments", user=user, json={"doctor_id": doctor.id, "start": start, **extra}
    )


def test_a_patient_books_a_slot_verbatim_from_the_slots_endpoint(api, patient, open_doctor):
    start = first_slot(api, open_doctor.id)
    response = book(api, patient.user, open_doctor, start, reason="Back pain")
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/appointments/{body['id']}"
    assert body["start"] == start
    assert body["status"] == "confirmed"
    assert body["doctor"] == {"id": open_doctor.id, "full_name": open_doctor.user.full_name}
    assert body["patient"] == {"id": patient.id, "full_name": patient.user.full_name}
    assert body["clinic"]["id"] == open_doctor.clinic_id
    assert (body["reason"], body["cancelled_at"], body["cancel_reason"]) == ("Back pain", None, "")
    assert "notes" not in body  # the doctor's notes are not for the patient
    assert body["booked_by"] == "patient"
    assert datetime.fromisoformat(body["created_at"]).utcoffset() is not None
    after = api.get(f"/doctors/{open_doctor.id}/slots").get_json()["slots"]
    assert start not in [slot["start"] for slot in after]


def test_any_offset_names_the_same_instant(api, patient, open_doctor):
    start = datetime.fromisoformat(first_slot(api, open_doctor.id))
    in_new_york = start.astimezone(timezone(timedelta(hours=-5))).isoformat()
    response = book(api, patient.user, open_doctor, in_new_york)
    assert response.status_code == 201
    assert datetime.fromisoformat(response.get_json()["start"]) == start


def test_a_taken_slot_is_409_slot_unavailable(api, patient, make_patient, open_doctor):
    start = first_slot(api, open_doctor.id)
    assert book(api, patient.user, open_doctor, start).status_code == 201
    other = make_patient()
    body = assert_problem(book(api, other.user, open_doctor, start), 409, "slot_unavailable")
    assert body["detail"] == "That time was just taken or is no longer available."


def test_times_that_are_not_slots_are_409(api, patient, open_doctor):
    now = utcnow().replace(second=0, microsecond=0)
    for start in (
        now - timedelta(days=1),  # past
        now + timedelta(days=400),  # beyond the horizon
        (now + timedelta(days=2)).replace(minute=7),  # not a slot boundary
    ):
        response = book(api, patient.user, open_doctor, start.isoformat())
        assert_problem(response, 409, "slot_unavailable")


def test_an_admin_books_for_a_patient(api, admin, patient, open_doctor):
    start = first_slot(api, open_doctor.id)
    response = book(api, admin, open_doctor, start, patient_id=patient.id)
    assert response.status_code == 201
    assert response.get_json()["patient"]["id"] == patient.id
    assert response.get_json()["notes"] == ""
    assert response.get_json()["booked_by"] == "staff"
    listed = api.get("/appointments", user=admin, query_string={"patient_id": patient.id})
    assert [item["id"] for item in listed.get_json()["items"]] == [response.get_json()["id"]]
    assert (
        api.get(
            "/appointments", user=admin, query_string={"patient_id": patient.id + 1000}
        ).get_json()["items"]
        == []
    )
    missing = book(api, admin, open_doctor, start)
    assert list(assert_problem(missing, 400, "validation_failed")["errors"]) == ["patient_id"]


def test_an_idempotency_key_replays_the_first_answer(api, db, patient, open_doctor):
    start = first_slot(api, open_doctor.id)
    headers = {"Idempotency-Key": "booking-7f3a"}
    first = api.post(
        "/appointments",
        user=patient.user,
        headers=headers,
        json={"doctor_id": open_doctor.id, "start": start},
    )
    again = api.post(
        "/appointments",
        user=patient.user,
        headers=headers,
        json={"doctor_id": open_doctor.id, "start": start},
    )
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(db, Appointment) == 1


def test_the_same_key_with_another_body_is_409(api, patient, open_doctor):
    slots = api.get(f"/doctors/{open_doctor.id}/slots").get_json()["slots"]
    headers = {"Idempotency-Key": "k-1"}
    api.post(
        "/appointments",
        user=patient.user,
        headers=headers,
        json={"doctor_id": open_doctor.id, "start": slots[0]["start"]},
    )
    other = api.post(
        "/appointments",
        user=patient.user,
        headers=headers,
        json={"doctor_id": open_doctor.id, "start": slots[1]["start"]},
    )
    assert_problem(other, 409, "idempotency_key_reused")


def test_keys_belong_to_their_caller_and_last_24_hours(api, db, patient, make_patient, open_doctor):
    from portal.auth.models import IdempotencyKey

    slots = api.get(f"/doctors/{open_doctor.id}/slots").get_json()["slots"]
    headers = {"Idempotency-Key": "shared"}
    mine = api.post(
        "/appointments",
        user=patient.user,
        headers=headers,
        json={"doctor_id": open_doctor.id, "start": slots[0]["start"]},
    )
    theirs = api.post(
        "/appointments",
        user=make_patient().user,
        headers=headers,
        json={"doctor_id": open_doctor.id, "start": slots[1]["start"]},
    )
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert theirs.get_json()["id"] != mine.get_json()["id"]
    record = db.session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == patient.user.id)
    )
    record.created_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    later = api.post(
        "/appointments",
        user=patient.user,
        headers=headers,
        json={"doctor_id": open_doctor.id, "start": slots[2]["start"]},
    )
    assert later.status_code == 201
    assert "Idempotent-Replayed" not in later.headers


def test_a_failed_booking_is_not_remembered(api, patient, make_patient, open_doctor):
    start = first_slot(api, open_doctor.id)
    assert book(api, make_patient().user, open_doctor, start).status_code == 201
    headers = {"Idempotency-Key": "retry-me"}
    body = {"doctor_id": open_doctor.id, "start": start}
    refused = api.post("/appointments", user=patient.user, headers=headers, json=body)
    assert_problem(refused, 409, "slot_unavailable")
    body["start"] = api.get(f"/doctors/{open_doctor.id}/slots").get_json()["slots"][0]["start"]
    assert api.post("/appointments", user=patient.user, headers=headers, json=body).status_code in (
        201,
        409,
    )


def test_a_bad_idempotency_key_is_400(api, patient, open_doctor):
    response = api.post(
        "/appointments",
        user=patient.user,
        headers={"Idempotency-Key": "x" * 300},
        json={"doctor_id": open_doctor.id, "start": first_slot(api, open_doctor.id)},
    )
    assert list(assert_problem(response, 400, "validation_failed")["errors"]) == ["Idempotency-Key"]


def test_simultaneous_retries_with_one_key_book_once(app, api, db, patient, open_doctor):
    start, doctor_id = first_slot(api, open_doctor.id), open_doctor.id
    token = api.token(patient.user)
    answers = []

    def attempt():
        client = app.test_client()
        answers.append(
            client.post(
                "/api/v1/appointments",
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "same"},
                json={"doctor_id": doctor_id, "start": start},
            )
        )

    threads = [threading.Thread(target=attempt) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [answer.status_code for answer in answers] == [201] * 5
    assert len({answer.get_json()["id"] for answer in answers}) == 1
    assert count(db, Appointment) == 1


def test_simultaneous_bookings_of_one_seat_give_one_appointment(
    app, api, db, make_patient, open_doctor
):
    start, doctor_id = first_slot(api, open_doctor.id), open_doctor.id
    tokens = [api.token(make_patient().user) for _ in range(6)]
    statuses = []

    def attempt(token):
        response = app.test_client().post(
            "/api/v1/appointments",
            headers={"Authorization": f"Bearer {token}"},
            json={"doctor_id": doctor_id, "start": start},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [409] * 5
    assert count(db, Appointment) == 1


def test_doctors_cannot_book(api, open_doctor, patient):
    response = book(api, open_doctor.user, open_doctor, first_slot(api, open_doctor.id))
    assert_problem(response, 403, "forbidden")


def test_lists_show_each_role_their_own(api, world, past_appointment):
    def ids(user, query=""):
        items = api.get("/appointments" + query, user=user).get_json()["items"]
        return [item["id"] for item in items]

    both = {world.appointment.id, world.past.id}
    assert set(ids(world.patient.user)) == both
    assert ids(world.other_patient.user) == []
    assert set(ids(world.doctor.user)) == both
    assert ids(world.other_doctor.user) == []
    assert set(ids(world.admin)) == both
    # Newest start first, and filters.
    assert ids(world.admin) == [world.appointment.id, world.past.id]
    assert ids(world.admin, f"?doctor_id={world.other_doctor.id}") == []
    assert ids(world.admin, "?status=cancelled") == []
    now = utcnow().isoformat()
    assert ids(world.admin, "?from=" + now.replace("+", "%2B")) == [world.appointment.id]
    assert ids(world.admin, "?to=" + now.replace("+", "%2B")) == [world.past.id]
    # An unencoded "+" arrives as a space; the offset is still understood.
    assert ids(world.admin, "?from=" + now) == [world.appointment.id]
    naive = api.get("/appointments?from=2030-01-01T10:00:00", user=world.admin)
    assert list(assert_problem(naive, 400, "invalid_request")["errors"]) == ["from"]
    page = api.get("/appointments?per_page=1&page=2", user=world.admin).get_json()
    assert (page["total"], page["page"], page["per_page"], len(page["items"])) == (2, 2, 1, 1)


def test_notes_are_for_the_doctor_and_admins(api, world):
    path = f"/appointments/{world.appointment.id}"
    assert "notes" not in api.get(path, user=world.patient.user).get_json()
    assert api.get(path, user=world.doctor.user).get_json()["notes"] == "Private notes"
    assert api.get(path, user=world.admin).get_json()["notes"] == "Private notes"


def test_a_patient_cancels_and_the_seat_is_free_again(api, patient, open_doctor, db):
    settings = db.session.get(BookingSettings, 1)
    settings.cancel_cutoff_hours = 0
    db.session.commit()
    start = first_slot(api, open_doctor.id)
    booked = book(api, patient.user, open_doctor, start).get_json()
    response = api.post(
        f"/appointments/{booked['id']}/cancel", user=patient.user, json={"reason": "Better"}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["cancel_reason"]) == ("cancelled", "Better")
    assert body["cancelled_at"]
    slots = api.get(f"/doctors/{open_doctor.id}/slots").get_json()["slots"]
    assert start in [slot["start"] for slot in slots]
    again = api.post(f"/appointments/{booked['id']}/cancel", user=patient.user)
    assert_problem(again, 409, "not_changeable")


def test_a_patient_cannot_cancel_inside_the_cutoff(api, db, patient, open_doctor):
    settings = db.session.get(BookingSettings, 1)
    settings.min_notice_minutes = 0
    db.session.commit()
    soon = first_slot(api, open_doctor.id)  # within the next hours: inside the 24 h cutoff
    booked = book(api, patient.user, open_doctor, soon).get_json()
    response = api.post(f"/appointments/{booked['id']}/cancel", user=patient.user, json={})
    assert_problem(response, 409, "too_late_to_cancel")
    assert api.get(f"/appointments/{booked['id']}", user=patient.user).get_json()["status"] == (
        "confirmed"
    )
    by_doctor = api.post(f"/appointments/{booked['id']}/cancel", user=open_doctor.user)
    assert by_doctor.status_code == 200


def test_rescheduling_moves_the_appointment_atomically(api, world, make_patient):
    slots = api.get(f"/doctors/{world.doctor.id}/slots").get_json()["slots"]
    path = f"/appointments/{world.appointment.id}"
    before = api.get(path, user=world.patient.user).get_json()
    taken = slots[0]["start"]
    assert book(api, make_patient().user, world.doctor, taken).status_code == 201
    refused = api.post(path + "/reschedule", user=world.patient.user, json={"start": taken})
    assert_problem(refused, 409, "slot_unavailable")
    assert api.get(path, user=world.patient.user).get_json() == before
    moved = api.post(
        path + "/reschedule", user=world.patient.user, json={"start": slots[1]["start"]}
    )
    assert moved.status_code == 200
    assert moved.get_json()["start"] == slots[1]["start"]
    assert moved.get_json()["id"] == world.appointment.id


def test_a_doctor_closes_a_visit_once_it_has_started(api, world):
    response = api.patch(
        f"/appointments/{world.past.id}",
        user=world.doctor.user,
        json={"status": "no_show", "notes": "Did not come."},
    )
    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["notes"]) == (
        "no_show",
        "Did not come.",
    )
    early = api.patch(
        f"/appointments/{world.appointment.id}",
        user=world.doctor.user,
        json={"status": "completed"},
    )
    assert_problem(early, 409, "not_changeable")
    wrong = api.patch(
        f"/appointments/{world.past.id}", user=world.doctor.user, json={"status": "cancelled"}
    )
    assert list(assert_problem(wrong, 400, "invalid_request")["errors"]) == ["status"]


def test_an_appointment_exports_as_icalendar(api, world):
    response = api.get(f"/appointments/{world.appointment.id}/ics", user=world.patient.user)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    text = response.get_data(as_text=True)
    assert text.startswith("BEGIN:VCALENDAR")
    assert f"UID:appointment-{world.appointment.id}@clinic-portal" in text
    assert world.doctor.user.full_name in text


def test_the_stored_start_is_the_slot_instant(api, db, patient, open_doctor):
    start = first_slot(api, open_doctor.id)
    booked = book(api, patient.user, open_doctor, start).get_json()
    stored = db.session.scalar(select(Appointment).where(Appointment.id == booked["id"]))
    assert stored.starts_at == datetime.fromisoformat(start)
    assert stored.status == Status.CONFIRMED
