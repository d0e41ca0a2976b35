"""A patient books, sees, cancels and moves appointments through the pages."""

import html
import re
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from portal.booking import services
from portal.booking.models import Appointment, Status
from portal.db import utcnow


def free_slots(db, doctor, days=14):
    now = utcnow()
    return services.slots_for(
        doctor=doctor, first_day=now.date(), last_day=now.date() + timedelta(days=days), now=now
    )


def take(db, doctor, patient, slot, status=Status.CONFIRMED):
    appointment = Appointment(
        doctor=doctor,
        patient=patient,
        clinic=doctor.clinic,
        starts_at=slot.start,
        ends_at=slot.end,
        status=status,
        reason="Check-up",
    )
    db.session.add(appointment)
    db.session.commit()
    return appointment


def offered_starts(page):
    """The start times the page offers to book: buttons of a form that opens the panel."""
    if not re.search(r'action="/doctors/\d+/book"', page):
        return []
    return [html.unescape(start) for start in re.findall(r'name="start" value="([^"]+)"', page)]


def appointments_of(db, patient):
    db.session.expire_all()
    return db.session.scalars(select(Appointment).where(Appointment.patient_id == patient.id)).all()


def test_the_doctor_page_shows_the_profile_and_free_times(client, db, doctor):
    page = client.get(f"/doctors/{doctor.id}")
    assert page.status_code == 200
    assert doctor.user.full_name in page.text
    assert 'id="slot-picker"' in page.text
    first = free_slots(db, doctor)[0]
    assert offered_starts(page.text)[0] == first.start.isoformat()
    assert "no free time" in page.text  # the weekend


def test_choosing_a_day_swaps_in_that_days_slots(htmx, db, doctor):
    slots = free_slots(db, doctor)
    later_day = slots[-1].local_date
    response = htmx.get(f"/doctors/{doctor.id}/slots?day={later_day.isoformat()}")
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="slot-picker"' in response.text
    assert "HX-Request" in response.headers["Vary"]
    assert 'aria-current="date"' in response.text
    times = re.findall(r'aria-label="Book ([^",]+)', response.text)
    assert len(times) == len([slot for slot in slots if slot.local_date == later_day])


def test_without_javascript_the_day_link_returns_the_whole_page(client, doctor):
    response = client.get(f"/doctors/{doctor.id}/slots?day=2000-01-01")
    assert "<html" in response.text
    assert response.status_code == 200


def test_an_inactive_doctor_has_no_page(client, db, doctor):
    doctor.is_active = False
    db.session.commit()
    assert client.get(f"/doctors/{doctor.id}").status_code == 404


def test_booking_needs_a_signed_in_patient(client, db, doctor):
    slot = free_slots(db, doctor)[0]
    response = client.get(
        f"/doctors/{doctor.id}/book", query_string={"start": slot.start.isoformat()}
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_a_patient_books_through_htmx_and_gets_the_confirmation(auth, htmx, db, doctor, patient):
    slot = free_slots(db, doctor)[0]
    auth.login(patient.user)
    panel = htmx.get(f"/doctors/{doctor.id}/book", query_string={"start": slot.start.isoformat()})
    assert 'id="booking-panel"' in panel.text
    assert "<html" not in panel.text
    response = htmx.post(
        f"/doctors/{doctor.id}/book", data={"start": slot.start.isoformat(), "reason": "Headaches"}
    )
    assert response.status_code == 200
    assert "You are booked" in response.text
    assert "/ics" in response.text
    [appointment] = appointments_of(db, patient)
    assert (appointment.starts_at, appointment.reason) == (slot.start, "Headaches")


def test_without_javascript_booking_lands_on_the_appointment(auth, client, db, doctor, patient):
    slot = free_slots(db, doctor)[0]
    auth.login(patient.user)
    response = client.post(f"/doctors/{doctor.id}/book", data={"start": slot.start.isoformat()})
    assert response.status_code == 303
    [appointment] = appointments_of(db, patient)
    assert response.headers["Location"] == f"/appointments/{appointment.id}"
    assert "You are booked" not in client.get(response.headers["Location"]).text


def test_a_slot_just_taken_says_so_and_keeps_the_reason(
    auth, htmx, db, doctor, patient, make_patient
):
    slots = free_slots(db, doctor)
    taken = slots[0]
    take(db, doctor, make_patient(), taken)
    auth.login(patient.user)
    response = htmx.post(
        f"/doctors/{doctor.id}/book",
        data={"start": taken.start.isoformat(), "reason": "Sore throat"},
    )
    assert response.status_code == 409
    assert "just taken" in response.text
    assert "Sore throat" in response.text
    assert "Other free times that day" in response.text
    offered = offered_starts(response.text)
    assert offered
    assert taken.start.isoformat() not in offered
    assert appointments_of(db, patient) == []


def test_a_bad_start_is_refused_and_books_nothing(auth, client, db, doctor, patient):
    auth.login(patient.user)
    response = client.post(f"/doctors/{doctor.id}/book", data={"start": "tomorrow at nine"})
    assert response.status_code == 422
    assert "Choose a time from the list." in response.text
    assert appointments_of(db, patient) == []


def test_doctors_cannot_book(auth, client, db, doctor, make_doctor):
    slot = free_slots(db, doctor)[0]
    auth.login(make_doctor().user)
    response = client.post(f"/doctors/{doctor.id}/book", data={"start": slot.start.isoformat()})
    assert response.status_code == 403


def test_my_appointments_lists_upcoming_and_past(auth, client, db, doctor, patient, make_patient):
    slots = free_slots(db, doctor)
    upcoming = take(db, doctor, patient, slots[5])
    cancelled = take(db, doctor, patient, slots[6], status=Status.CANCELLED)
    someone_else = take(db, doctor, make_patient(), slots[7])
    auth.login(patient.user)
    page = client.get("/appointments").text
    assert f'id="appointment-{upcoming.id}"' in page
    assert f'id="appointment-{cancelled.id}"' not in page
    assert f'id="appointment-{someone_else.id}"' not in page
    past = client.get("/appointments?past=1").text
    assert f'id="appointment-{cancelled.id}"' in past


def test_cancel_through_htmx_frees_the_slot(auth, htmx, db, doctor, patient):
    slot = free_slots(db, doctor, days=20)[-1]
    appointment = take(db, doctor, patient, slot)
    auth.login(patient.user)
    response = htmx.post(f"/appointments/{appointment.id}/cancel", data={"reason": "Away"})
    assert response.status_code == 200
    assert f'id="appointment-{appointment.id}"' in response.text
    assert "You cancelled this appointment." in response.text
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == Status.CANCELLED
    assert slot.start in [free.start for free in free_slots(db, doctor, days=20)]


def test_after_the_cutoff_the_page_says_why_and_cancel_is_refused(
    auth, htmx, client, db, doctor, patient
):
    soon = free_slots(db, doctor, days=20)[0]
    appointment = take(db, doctor, patient, soon)
    services.get_booking_settings().cancel_cutoff_hours = 24 * 30
    db.session.commit()
    auth.login(patient.user)
    page = client.get("/appointments").text
    assert "too late to cancel or move this appointment online" in page
    assert f"/appointments/{appointment.id}/cancel" not in page
    response = htmx.post(f"/appointments/{appointment.id}/cancel", data={"reason": ""})
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == Status.CONFIRMED


def test_reschedule_moves_the_appointment(auth, client, db, doctor, patient):
    slots = free_slots(db, doctor, days=20)
    appointment = take(db, doctor, patient, slots[-1])
    auth.login(patient.user)
    page = client.get(f"/appointments/{appointment.id}/reschedule").text
    assert "Move to " in page
    response = client.post(
        f"/appointments/{appointment.id}/reschedule", data={"start": slots[-2].start.isoformat()}
    )
    assert response.status_code == 303
    db.session.expire_all()
    moved = db.session.get(Appointment, appointment.id)
    assert moved.starts_at == slots[-2].start


def test_a_reschedule_into_a_taken_slot_leaves_the_appointment(
    auth, htmx, db, doctor, patient, make_patient
):
    slots = free_slots(db, doctor, days=20)
    appointment = take(db, doctor, patient, slots[-1])
    take(db, doctor, make_patient(), slots[-2])
    auth.login(patient.user)
    response = htmx.post(
        f"/appointments/{appointment.id}/reschedule", data={"start": slots[-2].start.isoformat()}
    )
    assert response.status_code == 409
    assert "just taken" in response.text
    assert 'id="slot-picker"' in response.text
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).starts_at == slots[-1].start


def test_the_calendar_file(auth, client, db, doctor, patient):
    appointment = take(db, doctor, patient, free_slots(db, doctor)[0])
    auth.login(patient.user)
    response = client.get(f"/appointments/{appointment.id}/ics")
    assert response.headers["Content-Type"].startswith("text/calendar")
    body = response.text
    assert "BEGIN:VEVENT" in body
    assert "DTSTART:" + appointment.starts_at.strftime("%Y%m%dT%H%M%SZ") in body
    assert doctor.user.full_name in body


@pytest.mark.parametrize("path", ["", "/ics", "/reschedule"])
def test_other_peoples_appointments_are_not_found(
    auth, client, db, doctor, patient, make_patient, path
):
    appointment = take(db, doctor, make_patient(), free_slots(db, doctor)[0])
    auth.login(patient.user)
    assert client.get(f"/appointments/{appointment.id}{path}").status_code == 404
    response = client.post(f"/appointments/{appointment.id}/cancel", data={"reason": "x"})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == Status.CONFIRMED


def test_after_booking_the_picker_no_longer_offers_the_time(auth, htmx, db, doctor, patient):
    slot = free_slots(db, doctor)[0]
    auth.login(patient.user)
    response = htmx.post(f"/doctors/{doctor.id}/book", data={"start": slot.start.isoformat()})
    picker = response.text[response.text.index('id="slot-picker"') :]
    assert 'hx-swap-oob="outerHTML"' in picker
    assert offered_starts(picker)
    assert slot.start.isoformat() not in offered_starts(picker)
    assert 'aria-label="Book ' in picker


def test_the_reason_follows_the_patient_to_another_time(
    auth, htmx, db, doctor, patient, make_patient
):
    slots = free_slots(db, doctor)
    take(db, doctor, make_patient(), slots[0])
    auth.login(patient.user)
    conflict = htmx.post(
        f"/doctors/{doctor.id}/book",
        data={"start": slots[0].start.isoformat(), "reason": "Sore throat"},
    )
    other = conflict.text[conflict.text.index("Other free times") :]
    assert 'name="reason" value="Sore throat"' in other
    starts = offered_starts(other)
    assert starts
    panel = htmx.get(
        f"/doctors/{doctor.id}/book", query_string={"start": starts[0], "reason": "Sore throat"}
    )
    assert "Sore throat" in panel.text
    assert "Book this appointment" in panel.text


def test_the_day_strip_speaks_the_visitors_language(htmx, db, doctor):
    french = htmx.get(
        f"/doctors/{doctor.id}/slots", headers={"Accept-Language": "fr-FR,fr;q=0.9"}
    ).text
    english = htmx.get(f"/doctors/{doctor.id}/slots").text
    days = re.compile(r'class="day[^"]*"[^>]*><span>([^<]+)</span>')
    french_days, english_days = days.findall(french), days.findall(english)
    assert len(french_days) == len(english_days) == 14
    # Today and tomorrow are named so; the other days by weekday and date.
    assert french_days[:2] == ["Aujourd\u2019hui", "Demain"]
    assert english_days[:2] == ["Today", "Tomorrow"]
    weekdays_fr = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
    assert all(label.startswith(weekdays_fr) for label in french_days[2:]), french_days
    assert all(
        label[:3] in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun") for label in english_days[2:]
    )


def test_times_name_the_zone_as_people_say_it(client, htmx, db, doctor):
    for page in (
        client.get(f"/doctors/{doctor.id}").text,
        client.get("/find").text,
        htmx.get(f"/doctors/{doctor.id}/slots", headers={"Accept-Language": "fr"}).text,
    ):
        assert "Europe/Paris" not in page
    assert "Times shown: Paris time." in client.get(f"/doctors/{doctor.id}").text
    french = htmx.get(f"/doctors/{doctor.id}/slots", headers={"Accept-Language": "fr"}).text
    assert "Horaires affichés : heure de Paris." in french


def test_a_cancelled_visit_reads_differently_from_a_confirmed_one(
    auth, client, db, doctor, patient
):
    slots = free_slots(db, doctor)
    kept = take(db, doctor, patient, slots[0])
    dropped = take(db, doctor, patient, slots[1], status=Status.CANCELLED)
    auth.login(patient.user)
    upcoming = client.get("/appointments").text
    past = client.get("/appointments?past=1").text
    kept_row = upcoming[upcoming.index(f'id="appointment-{kept.id}"') :]
    dropped_row = past[past.index(f'id="appointment-{dropped.id}"') :]
    assert 'class="appointment appointment-confirmed"' in upcoming
    assert 'class="appointment appointment-cancelled"' in past
    # Told in words and a mark, not by colour alone.
    assert re.search(
        r'status-badge status-cancelled"><span aria-hidden="true">✕ </span>Cancelled', dropped_row
    )
    assert re.search(
        r'status-badge status-confirmed"><span aria-hidden="true">✓ </span>Confirmed', kept_row
    )


def test_a_doctor_without_weekly_hours_is_not_listed_until_they_have_some(
    client, auth, db, make_doctor, make_user, admin
):
    from portal.scheduling.models import WeeklyHours

    newcomer = make_doctor(user=make_user("doctor", full_name="Nina Newcomer"), hours=False)
    assert "Nina Newcomer" not in client.get("/find").text
    assert "Nina Newcomer" not in client.get(f"/clinics/{newcomer.clinic_id}").text
    auth.login(admin)
    assert "Nina Newcomer" in auth.client.get("/admin/doctors").text  # admins still see them
    auth.logout()
    db.session.add(
        WeeklyHours(doctor_id=newcomer.id, weekday=0, start_time=time(9), end_time=time(12))
    )
    db.session.commit()
    assert "Nina Newcomer" in client.get("/find").text
