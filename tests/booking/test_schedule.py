"""The doctor's schedule: seeing a day or a week of visits, closing and cancelling them."""

import html
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date

from portal.auth.models import Role
from portal.booking.models import Appointment, Status
from portal.db import utcnow

PARIS = ZoneInfo("Europe/Paris")  # the zone of the default clinic


def book(db, doctor, patient, start, **extra):
    appointment = Appointment(
        doctor=doctor,
        patient=patient,
        clinic=doctor.clinic,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        reason=extra.pop("reason", "Check-up"),
        **extra,
    )
    db.session.add(appointment)
    db.session.commit()
    return appointment


def at(day, hour, minute=0, zone=PARIS):
    """The instant of a wall-clock time on a clinic-local day."""
    return datetime.combine(day, time(hour, minute), zone).astimezone(UTC)


def today_in(zone=PARIS):
    return utcnow().astimezone(zone).date()


def reload(db, appointment_id):
    """The appointment as the database has it now (the request used its own session)."""
    db.session.rollback()
    return db.session.get(Appointment, appointment_id)


def links(page):
    """The schedule's navigation links by id, with their attributes unescaped."""
    found = {}
    for attributes in re.findall(r"<a\s([^>]*)>", page):
        pairs = dict(re.findall(r'([\w-]+)="([^"]*)"', attributes))
        if pairs.get("id", "").startswith("schedule-"):
            found[pairs["id"]] = {name: html.unescape(value) for name, value in pairs.items()}
    return found


def row(page, appointment_id):
    """The markup of one visit row."""
    match = re.search(rf'<li id="appointment-{appointment_id}".*?</li>', page, re.S)
    assert match, f"no row for appointment {appointment_id}"
    return match.group(0)


def close_url(appointment):
    return f"/doctor/schedule/appointments/{appointment.id}/close"


def cancel_url(appointment):
    return f"/doctor/schedule/appointments/{appointment.id}/cancel"


# Seeing the schedule ------------------------------------------------------------------


# A visit late in the evening falls on the next UTC day. New York is on another date than
# UTC for a few hours a day, Pago Pago (UTC-11) and Kiritimati (UTC+14) for the rest, so
# whenever this runs, a schedule that took today from UTC shows the wrong visits.
@pytest.mark.parametrize(
    "zone_name", ["America/New_York", "Pacific/Pago_Pago", "Pacific/Kiritimati"]
)
def test_the_schedule_opens_on_today_in_the_clinic_time_zone(
    auth, client, db, make_clinic, make_doctor, make_patient, zone_name
):
    zone = ZoneInfo(zone_name)
    clinic = make_clinic(name="Hudson", city="New York", country="US", timezone=zone_name)
    doctor = make_doctor(clinic=clinic)
    patient = make_patient()
    today = today_in(zone)
    tomorrow, yesterday = today + timedelta(days=1), today - timedelta(days=1)
    book(db, doctor, patient, at(today, 23, 30, zone), reason="Night visit")
    book(db, doctor, patient, at(tomorrow, 23, 30, zone), reason="Next day visit")
    book(db, doctor, patient, at(yesterday, 23, 30, zone), reason="Day before visit")
    auth.login(doctor.user)

    page = client.get("/doctor/schedule").text

    assert "Night visit" in page
    assert "Next day visit" not in page
    assert "Day before visit" not in page
    assert f'<time datetime="{today.isoformat()}">' in page
    assert "11:30" in page
    # The times are labelled with the zone, as people say it, once.
    assert page.count(zone_name.split("/")[-1].replace("_", " ") + " time") == 1
    assert zone_name not in page


def test_the_day_view_lists_that_days_visits_of_this_doctor_only(
    auth, client, db, make_doctor, make_patient, make_user
):
    mine, other = make_doctor(), make_doctor()
    patient = make_patient(user=make_user(Role.PATIENT, full_name="Jeanne Martin"))
    day = today_in() + timedelta(days=30)
    knee = book(db, mine, patient, at(day, 10), reason="Knee pain")
    called_off = book(
        db,
        mine,
        patient,
        at(day, 14),
        reason="Follow-up",
        status=Status.CANCELLED,
        cancelled_at=utcnow(),
        cancel_reason="The doctor is ill",
    )
    book(db, mine, patient, at(day + timedelta(days=1), 10), reason="Not this day")
    book(db, other, patient, at(day, 11), reason="Another doctor's visit")
    auth.login(mine.user)

    page = client.get(f"/doctor/schedule?day={day.isoformat()}").text

    assert page.count('<li id="appointment-') == 2
    visit = row(page, knee.id)
    assert "10:00" in visit
    assert "Jeanne Martin" in visit
    assert "Knee pain" in visit
    assert "Confirmed" in visit
    cancelled = row(page, called_off.id)
    assert "Cancelled" in cancelled
    assert "The doctor is ill" in cancelled
    assert "Not this day" not in page
    assert "Another doctor" not in page
    assert page.count("Paris time") == 1


def test_the_week_view_shows_monday_to_sunday_as_columns(
    auth, client, db, doctor, make_patient, make_user
):
    patient = make_patient(user=make_user(Role.PATIENT, full_name="Paula Patient"))
    monday = today_in() + timedelta(days=28)
    monday -= timedelta(days=monday.weekday())
    wednesday, sunday = monday + timedelta(days=2), monday + timedelta(days=6)
    first = book(db, doctor, patient, at(monday, 9))
    last = book(db, doctor, patient, at(sunday, 18))
    before = book(db, doctor, patient, at(monday - timedelta(days=1), 18))
    after = book(db, doctor, patient, at(sunday + timedelta(days=1), 9))
    auth.login(doctor.user)

    page = client.get(f"/doctor/schedule?day={wednesday.isoformat()}&view=week").text

    days = [monday + timedelta(days=offset) for offset in range(7)]
    assert re.findall(r'<h2 id="day-([\d-]+)"', page) == [day.isoformat() for day in days]
    for day in days:
        assert format_date(day, "full", locale="en") in page  # "Monday, January 6, 2031"
    sections = page.split('<section class="schedule-day week-day')[1:]
    assert f'id="week-appointment-{first.id}"' in sections[0]
    assert f'id="week-appointment-{last.id}"' in sections[6]
    assert "No visits on this day." in sections[2]
    assert "is-selected" in sections[2].split(">")[0]  # a phone shows the day asked
    assert f"week-appointment-{before.id}" not in page
    assert f"week-appointment-{after.id}" not in page
    # Patient names lead to the patient's record.
    assert f'href="/my-patients/{patient.id}">Paula Patient</a>' in sections[0]


def block_classes(page, element_id):
    match = re.search(rf'id="{element_id}" class="([^"]+)"', page)
    return set(match.group(1).split())


def test_a_visit_is_a_block_as_long_as_it_lasts(auth, client, db, doctor, patient):
    monday = today_in() + timedelta(days=35)
    monday -= timedelta(days=monday.weekday())
    short = book(db, doctor, patient, at(monday, 9))  # 09:00-09:30
    long = book(db, doctor, patient, at(monday, 10))
    long.ends_at = long.starts_at + timedelta(minutes=90)
    db.session.commit()
    auth.login(doctor.user)

    page = client.get(f"/doctor/schedule?day={monday.isoformat()}&view=week").text

    # The grid opens at 08:00 (quarter-hour rows): 09:00 is row 5, 10:00 row 9.
    assert {"gr-s5", "gr-n2"} <= block_classes(page, f"week-appointment-{short.id}")
    assert {"gr-s9", "gr-n6"} <= block_classes(page, f"week-appointment-{long.id}")


def test_time_off_and_a_closed_clinic_are_shaded(auth, client, db, doctor):
    from portal.scheduling.models import ClinicClosure, TimeOff

    monday = today_in() + timedelta(days=35)
    monday -= timedelta(days=monday.weekday())
    db.session.add(
        TimeOff(
            doctor_id=doctor.id,
            starts_at=at(monday, 12),
            ends_at=at(monday, 14),
            reason="Lunch meeting",
        )
    )
    db.session.add(ClinicClosure(clinic_id=doctor.clinic_id, day=monday + timedelta(days=3)))
    db.session.commit()
    auth.login(doctor.user)

    page = client.get(f"/doctor/schedule?day={monday.isoformat()}&view=week").text
    sections = page.split('<section class="schedule-day week-day')[1:]
    assert re.search(r'class="week-off gr-s17 gr-n8"', sections[0])  # 12:00-14:00
    assert "Lunch meeting" in sections[0]
    assert "Clinic closed" in sections[3]
    assert "week-off gr-s1 " in sections[3]
    assert "week-off" not in sections[1]


def test_day_headings_are_in_the_doctors_language(auth, client, make_doctor, make_user):
    doctor = make_doctor(user=make_user(Role.DOCTOR, locale="fr"))
    auth.login(doctor.user)
    monday = date(2031, 1, 6)

    page = client.get(f"/doctor/schedule?day={monday.isoformat()}&view=week").text

    assert "lundi 6 janvier 2031" in page
    assert "dimanche 12 janvier 2031" in page


def test_previous_and_next_move_by_a_day_or_a_week(auth, client, db, doctor, patient):
    day = today_in() + timedelta(days=30)
    book(db, doctor, patient, at(day + timedelta(days=1), 10), reason="The following day")
    book(db, doctor, patient, at(day - timedelta(days=7), 10), reason="A week earlier")
    auth.login(doctor.user)

    nav = links(client.get(f"/doctor/schedule?day={day.isoformat()}").text)
    for link in nav.values():
        assert link["href"] == link["hx-get"]
        assert (link["hx-target"], link["hx-push-url"]) == ("#schedule", "true")
    assert nav["schedule-previous"]["href"] == f"/doctor/schedule?day={day - timedelta(days=1)}"
    assert nav["schedule-next"]["href"] == f"/doctor/schedule?day={day + timedelta(days=1)}"
    assert nav["schedule-today"]["href"] == "/doctor/schedule"
    assert "The following day" in client.get(nav["schedule-next"]["href"]).text

    week = links(client.get(nav["schedule-week"]["href"]).text)
    previous = f"/doctor/schedule?day={day - timedelta(days=7)}&view=week"
    assert week["schedule-previous"]["href"] == previous
    assert week["schedule-today"]["href"] == "/doctor/schedule?view=week"
    assert "A week earlier" in client.get(previous).text


def test_htmx_gets_the_schedule_alone_and_a_browser_the_whole_page(auth, client, htmx, doctor):
    auth.login(doctor.user)

    page = client.get("/doctor/schedule?view=week")
    part = htmx.get("/doctor/schedule?view=week")

    assert page.status_code == part.status_code == 200
    assert "<html" in page.text
    assert 'id="schedule"' in page.text
    assert "<html" not in part.text
    assert part.text.strip().startswith('<div id="schedule"')
    assert part.text.count('<h2 id="day-') == 7
    assert "HX-Request" in page.headers["Vary"]
    assert "HX-Request" in part.headers["Vary"]


@pytest.mark.parametrize(
    "value", ["tomorrow", "2031-02-30", "06-01-2031", "20310106", "0001-01-01"]
)
def test_a_day_that_is_not_a_date_shows_today_with_a_message(auth, client, doctor, value):
    auth.login(doctor.user)

    response = client.get(f"/doctor/schedule?day={value}")

    assert response.status_code == 200
    assert f'<time datetime="{today_in().isoformat()}">' in response.text
    assert 'role="alert">That date could not be read, so today is shown.' in response.text


def test_each_visit_offers_only_what_can_be_done_with_it(auth, client, db, doctor, patient):
    now = utcnow().replace(second=0, microsecond=0)
    started = book(db, doctor, patient, now - timedelta(minutes=10))
    future = book(db, doctor, patient, now + timedelta(minutes=60))
    done = book(db, doctor, patient, now - timedelta(minutes=40), status=Status.COMPLETED)
    auth.login(doctor.user)
    pages = {
        visit.id: client.get(f"/doctor/schedule?day={visit.starts_at.astimezone(PARIS).date()}")
        for visit in (started, future, done)
    }

    started_row = row(pages[started.id].text, started.id)
    assert f'action="{close_url(started)}"' in started_row
    assert f'action="{cancel_url(started)}"' in started_row
    for url in (close_url(started), cancel_url(started)):
        assert (
            f'hx-post="{url}" hx-target="#appointment-{started.id}" hx-swap="outerHTML"'
            in started_row
        )
    assert f'<label for="notes-{started.id}">Notes</label>' in started_row
    assert f'<label for="cancel-reason-{started.id}">Reason for cancelling</label>' in started_row
    future_row = row(pages[future.id].text, future.id)
    assert "/close" not in future_row
    assert f'action="{cancel_url(future)}"' in future_row
    done_row = row(pages[done.id].text, done.id)
    assert f'action="{close_url(done)}"' in done_row
    assert "/cancel" not in done_row


# Closing a visit ----------------------------------------------------------------------


def test_a_started_visit_is_closed_as_completed_with_notes(auth, client, db, doctor, patient):
    start = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=20)
    visit = book(db, doctor, patient, start)
    visit_id, day = visit.id, start.astimezone(PARIS).date()
    auth.login(doctor.user)

    response = client.post(
        close_url(visit), data={"outcome": "completed", "notes": "Blood pressure fine."}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == f"/doctor/schedule?day={day.isoformat()}"
    saved = reload(db, visit_id)
    assert (saved.status, saved.notes) == (Status.COMPLETED, "Blood pressure fine.")
    page = client.get(response.headers["Location"]).text
    assert "The visit is marked completed." in page
    assert "Blood pressure fine." in row(page, visit_id)


def test_a_started_visit_is_marked_no_show_in_place(auth, htmx, db, doctor, patient):
    visit = book(db, doctor, patient, utcnow() - timedelta(minutes=5))
    visit_id = visit.id
    auth.login(doctor.user)

    response = htmx.post(
        close_url(visit), data={"outcome": "no_show", "notes": "No answer on the phone."}
    )

    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.startswith(f'<li id="appointment-{visit_id}"')
    assert "No-show" in response.text
    assert "The visit is marked as a no-show." in response.text
    saved = reload(db, visit_id)
    assert (saved.status, saved.notes) == (Status.NO_SHOW, "No answer on the phone.")


@pytest.mark.parametrize(
    ("starts_in", "status", "message"),
    [
        (timedelta(hours=2), Status.CONFIRMED, "A visit can be closed only once it has started."),
        (-timedelta(hours=1), Status.CANCELLED, "This appointment can no longer be changed."),
    ],
)
def test_a_visit_that_has_not_started_or_is_cancelled_is_not_closed(
    auth, client, htmx, db, doctor, patient, starts_in, status, message
):
    visit = book(db, doctor, patient, utcnow() + starts_in, status=status)
    visit_id = visit.id
    auth.login(doctor.user)

    in_place = htmx.post(close_url(visit), data={"outcome": "completed", "notes": "Seen."})
    whole_page = client.post(close_url(visit), data={"outcome": "no_show", "notes": "Seen."})

    assert in_place.status_code == whole_page.status_code == 409
    assert in_place.text.startswith(f'<li id="appointment-{visit_id}"')
    assert f'role="alert" tabindex="-1" autofocus>{message}</p>' in in_place.text
    assert "<html" in whole_page.text
    assert message in row(whole_page.text, visit_id)
    saved = reload(db, visit_id)
    assert (saved.status, saved.notes) == (status, "")


# Cancelling a visit -------------------------------------------------------------------


def test_a_doctor_cancels_a_visit_with_a_reason_the_patient_sees(auth, client, db, doctor, patient):
    start = utcnow().replace(second=0, microsecond=0) + timedelta(hours=1)
    visit = book(db, doctor, patient, start)
    visit_id, doctor_user_id = visit.id, doctor.user_id
    auth.login(doctor.user)

    response = client.post(cancel_url(visit), data={"reason": "Called away to an emergency."})

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"?day={start.astimezone(PARIS).date()}")
    saved = reload(db, visit_id)
    assert saved.status == Status.CANCELLED
    assert saved.cancel_reason == "Called away to an emergency."
    assert saved.cancelled_by_id == doctor_user_id
    assert saved.cancelled_at is not None
    cancelled = row(client.get(response.headers["Location"]).text, visit_id)
    assert "Called away to an emergency." in cancelled
    assert "/cancel" not in cancelled


def test_cancelling_in_place_returns_the_cancelled_row(auth, htmx, db, doctor, patient):
    visit = book(db, doctor, patient, utcnow() + timedelta(days=2))
    visit_id = visit.id
    auth.login(doctor.user)

    response = htmx.post(cancel_url(visit), data={"reason": "Clinic closed that day."})

    assert response.status_code == 200
    assert response.text.startswith(f'<li id="appointment-{visit_id}"')
    assert "Clinic closed that day." in response.text
    assert "Cancelled" in response.text
    assert reload(db, visit_id).status == Status.CANCELLED


@pytest.mark.parametrize("reason", ["", "   "])
def test_cancelling_without_a_reason_changes_nothing(
    auth, client, htmx, db, doctor, patient, reason
):
    visit = book(db, doctor, patient, utcnow() + timedelta(days=1))
    visit_id = visit.id
    auth.login(doctor.user)

    in_place = htmx.post(cancel_url(visit), data={"reason": reason})
    whole_page = client.post(cancel_url(visit), data={"reason": reason})

    assert in_place.status_code == whole_page.status_code == 422
    assert in_place.text.startswith(f'<li id="appointment-{visit_id}"')
    assert 'role="alert"' in in_place.text
    assert 'aria-invalid="true"' in in_place.text
    assert "This field is required." in in_place.text
    assert "<html" in whole_page.text
    assert "This field is required." in row(whole_page.text, visit_id)
    saved = reload(db, visit_id)
    assert (saved.status, saved.cancel_reason, saved.cancelled_by_id) == (
        Status.CONFIRMED,
        "",
        None,
    )


# Who may do what ----------------------------------------------------------------------


@pytest.mark.parametrize("action", ["close", "cancel"])
def test_another_doctors_visit_is_not_found_and_unchanged(
    auth, client, db, make_doctor, patient, action
):
    me, other = make_doctor(), make_doctor()
    visit = book(db, other, patient, utcnow() - timedelta(minutes=10))
    visit_id = visit.id
    auth.login(me.user)

    response = client.post(
        f"/doctor/schedule/appointments/{visit_id}/{action}",
        data={"outcome": "completed", "notes": "Not mine.", "reason": "Not mine."},
    )

    assert response.status_code == 404
    saved = reload(db, visit_id)
    assert (saved.status, saved.notes, saved.cancel_reason) == (Status.CONFIRMED, "", "")


@pytest.mark.parametrize("role", ["patient", "admin", "anonymous"])
@pytest.mark.parametrize(
    ("method", "action"), [("get", None), ("post", "close"), ("post", "cancel")]
)
def test_only_doctors_use_the_schedule(
    auth, client, db, admin, doctor, patient, role, method, action
):
    # The patient's own visit, which the services would let them cancel elsewhere.
    visit = book(db, doctor, patient, utcnow() + timedelta(days=3))
    visit_id = visit.id
    if role == "patient":
        auth.login(patient.user)
    elif role == "admin":
        auth.login(admin)
    url = "/doctor/schedule"
    if action:
        url = f"/doctor/schedule/appointments/{visit_id}/{action}"

    response = getattr(client, method)(
        url, data={"outcome": "no_show", "reason": "Trying.", "notes": "Trying."}
    )

    if role == "anonymous":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
    else:
        assert response.status_code == 403
    assert reload(db, visit_id).status == Status.CONFIRMED


def test_the_doctors_home_and_nav_link_open_the_schedule(auth, client, db, doctor, patient):
    book(db, doctor, patient, at(today_in(), 12), reason="Lunchtime visit")
    auth.login(doctor.user)

    page = client.get("/doctor").text

    assert '<a href="/doctor" aria-current="page">My schedule</a>' in page
    assert '<div id="schedule"' in page
    assert f'<time datetime="{today_in().isoformat()}">' in page
    assert "Lunchtime visit" in page


def test_a_closed_visit_shows_its_outcome_and_keeps_the_form_folded(
    auth, client, db, doctor, patient
):
    now = utcnow().replace(second=0, microsecond=0)
    done = book(
        db, doctor, patient, now - timedelta(minutes=40), status=Status.COMPLETED, notes="Fine"
    )
    open_visit = book(db, doctor, patient, now - timedelta(minutes=10))
    auth.login(doctor.user)
    page = client.get(f"/doctor/schedule?day={done.starts_at.astimezone(PARIS).date()}").text
    done_row = row(page, done.id)
    assert '<strong class="visit-outcome">Completed</strong>' in done_row
    assert "<summary>Change the outcome</summary>" in done_row
    assert f'href="/my-patients/{patient.id}"' in done_row
    # The open visit may fall on the next day in Paris (just after midnight there).
    open_day = open_visit.starts_at.astimezone(PARIS).date()
    page = client.get(f"/doctor/schedule?day={open_day}").text
    assert "Change the outcome" not in row(page, open_visit.id)
