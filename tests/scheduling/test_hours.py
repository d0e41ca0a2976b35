"""A doctor keeps their weekly hours, slot length and seats: with and without JavaScript."""

import json
import re
from datetime import UTC, datetime, time

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.auth.models import Role
from portal.booking.models import Appointment, Status
from portal.directory.models import Doctor
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.scheduling import services
from portal.scheduling.models import WeeklyHours

HOURS = "/doctor/hours"


def shown(response):
    """The response text with Babel's narrow no-break spaces (as in "9:00 AM") made plain."""
    return response.text.replace("\u202f", " ").replace("\xa0", " ")


def add_url(weekday):
    return f"{HOURS}/days/{weekday}/intervals"


def schedule(db, doctor):
    """The doctor's intervals as the database holds them now."""
    db.session.expire_all()
    rows = db.session.execute(
        select(WeeklyHours.weekday, WeeklyHours.start_time, WeeklyHours.end_time)
        .where(WeeklyHours.doctor_id == doctor.id)
        .order_by(WeeklyHours.weekday, WeeklyHours.start_time)
    ).all()
    return [tuple(row) for row in rows]


def interval_on(db, doctor, weekday):
    db.session.expire_all()
    return db.session.scalars(
        select(WeeklyHours)
        .where(WeeklyHours.doctor_id == doctor.id, WeeklyHours.weekday == weekday)
        .order_by(WeeklyHours.start_time)
    ).first()


def events(db, action=None):
    # The doctor's own sign-in is in the trail too; these are the schedule's events.
    statement = select(AuditEvent).where(AuditEvent.action != "user.signed_in")
    statement = statement.order_by(AuditEvent.id)
    if action:
        statement = statement.where(AuditEvent.action == action)
    return db.session.scalars(statement).all()


WEEKDAYS_9_TO_5 = [(weekday, time(9), time(17)) for weekday in range(5)]


@pytest.fixture
def signed_in(auth, doctor):
    assert auth.login(doctor.user).status_code == 303
    return doctor


# The page -----------------------------------------------------------------------------------


def test_the_page_shows_every_weekday_with_its_intervals_and_the_slot_settings(client, signed_in):
    page = client.get(HOURS)
    assert page.status_code == 200
    for weekday, name in enumerate(
        ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    ):
        assert f'id="day-{weekday}"' in shown(page)
        assert f'<h3 id="day-{weekday}-heading">{name}</h3>' in shown(page)
        assert f'id="add-interval-{weekday}"' in shown(page)
    assert shown(page).count('<span class="interval-time">9:00 AM to 5:00 PM</span>') == 5
    assert 'aria-label="Edit Monday, 9:00 AM to 5:00 PM"' in shown(page)
    assert shown(page).count("No hours on this day.") == 2
    assert 'value="30"' in shown(page)  # slot length
    assert '<label for="slot_minutes">Slot length (minutes)</label>' in shown(page)
    assert '<label for="day6-start">Start</label>' in shown(page)
    assert "Times are in the clinic's time zone, Paris time." in shown(page)


def test_doctors_find_the_page_in_the_navigation(client, signed_in):
    page = client.get("/account/password").text
    nav = page[page.index("<nav") : page.index("</nav>")]
    assert 'href="/doctor/hours"' in nav
    assert "Weekly hours" in nav


def test_weekday_names_follow_the_doctors_language(client, db, signed_in):
    signed_in.user.locale = "fr"
    db.session.commit()
    page = shown(client.get(HOURS))
    assert '<h3 id="day-0-heading">Lundi</h3>' in page
    assert '<h3 id="day-6-heading">Dimanche</h3>' in page


# Adding -------------------------------------------------------------------------------------


def test_a_doctor_adds_saturday_morning_without_javascript(client, db, signed_in):
    response = client.post(add_url(5), data={"day5-start": "09:00", "day5-end": "12:30"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/doctor/hours#day-5"
    assert (5, time(9), time(12, 30)) in schedule(db, signed_in)
    page = shown(client.get(HOURS))
    assert "Interval added." in page
    assert "9:00 AM to 12:30 PM" in page


def test_adding_with_htmx_answers_the_days_block_with_the_new_interval(htmx, db, signed_in):
    response = htmx.post(add_url(5), data={"day5-start": "14:00", "day5-end": "18:00"})
    assert response.status_code == 200
    assert "<html" not in shown(response)
    assert response.text.lstrip().startswith('<section id="day-5"')
    assert "2:00 PM to 6:00 PM" in shown(response)
    assert 'id="add-interval-5"' in shown(response)
    assert "HX-Request" in response.headers["Vary"]
    # The confirmation reaches the page's live region out of band.
    assert 'id="flashes" hx-swap-oob="innerHTML"' in shown(response)
    assert "Interval added." in shown(response)
    assert (5, time(14), time(18)) in schedule(db, signed_in)


def test_intervals_may_touch_so_a_lunch_break_is_just_a_gap(client, db, make_doctor, auth):
    doctor = make_doctor(hours=False)
    auth.login(doctor.user)
    for start, end in [("09:00", "12:00"), ("13:00", "17:00"), ("12:00", "12:30")]:
        response = client.post(add_url(0), data={"day0-start": start, "day0-end": end})
        assert response.status_code == 303
    assert schedule(db, doctor) == [
        (0, time(9), time(12)),
        (0, time(12), time(12, 30)),
        (0, time(13), time(17)),
    ]


BAD_INTERVALS = [
    ("10:00", "11:00", "This overlaps the interval from 9:00 AM to 5:00 PM on the same day."),
    ("08:00", "09:30", "This overlaps the interval from 9:00 AM to 5:00 PM on the same day."),
    ("16:00", "12:00", "The end must be after the start."),
    ("18:00", "18:00", "The end must be after the start."),
    ("18:00", "", "This field is required."),
    ("half past", "19:00", "Not a valid time value."),
]


@pytest.mark.parametrize(("start", "end", "message"), BAD_INTERVALS)
def test_a_bad_interval_is_refused_with_a_message_and_changes_nothing(
    client, db, signed_in, start, end, message
):
    before = schedule(db, signed_in)
    response = client.post(add_url(0), data={"day0-start": start, "day0-end": end})
    assert response.status_code == 422
    assert "<html" in shown(response)  # without JavaScript: the whole page again
    assert message in shown(response)
    assert 'aria-invalid="true"' in shown(response)
    assert schedule(db, signed_in) == before
    assert events(db) == []


@pytest.mark.parametrize(("start", "end", "message"), BAD_INTERVALS)
def test_a_bad_interval_with_htmx_answers_the_days_block_with_the_message(
    htmx, db, signed_in, start, end, message
):
    before = schedule(db, signed_in)
    response = htmx.post(add_url(0), data={"day0-start": start, "day0-end": end})
    assert response.status_code == 422
    assert "<html" not in shown(response)
    assert response.text.lstrip().startswith('<section id="day-0"')
    assert message in shown(response)
    # The first field in error takes the focus, so its message is read out.
    assert re.search(r"<input [^>]*aria-invalid=\"true\" autofocus", response.text)
    assert schedule(db, signed_in) == before


def test_an_unknown_weekday_is_not_found(client, db, signed_in):
    response = client.post(add_url(7), data={"day7-start": "09:00", "day7-end": "10:00"})
    assert response.status_code == 404
    assert schedule(db, signed_in) == WEEKDAYS_9_TO_5


# Editing ------------------------------------------------------------------------------------


def test_editing_with_htmx_swaps_the_row_for_a_form_and_back(htmx, db, signed_in):
    interval = interval_on(db, signed_in, 0)
    row = f'id="interval-{interval.id}"'

    form = htmx.get(f"{HOURS}/intervals/{interval.id}/edit")
    assert form.status_code == 200
    assert "<html" not in shown(form)
    assert form.text.lstrip().startswith(f"<li {row}")
    assert 'value="09:00"' in shown(form)
    assert 'value="17:00"' in shown(form)

    saved = htmx.post(
        f"{HOURS}/intervals/{interval.id}",
        data={f"interval{interval.id}-start": "08:30", f"interval{interval.id}-end": "16:00"},
    )
    assert saved.status_code == 200
    assert "<html" not in shown(saved)
    assert saved.text.lstrip().startswith(f"<li {row}")
    assert "8:30 AM to 4:00 PM" in shown(saved)
    assert "Interval saved." in shown(saved)
    assert schedule(db, signed_in)[0] == (0, time(8, 30), time(16))

    cancelled = htmx.get(f"{HOURS}/intervals/{interval.id}")
    assert cancelled.status_code == 200
    assert "<html" not in shown(cancelled)
    assert "8:30 AM to 4:00 PM" in shown(cancelled)


def test_editing_without_javascript(client, db, signed_in):
    interval = interval_on(db, signed_in, 2)
    page = client.get(f"{HOURS}/intervals/{interval.id}/edit")
    assert page.status_code == 200
    assert "<html" in shown(page)
    assert f'name="interval{interval.id}-start"' in shown(page)

    response = client.post(
        f"{HOURS}/intervals/{interval.id}",
        data={f"interval{interval.id}-start": "10:00", f"interval{interval.id}-end": "18:00"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/doctor/hours#day-2"
    assert (2, time(10), time(18)) in schedule(db, signed_in)


def test_an_edit_into_an_overlap_is_refused_inline(htmx, client, db, make_doctor, auth):
    doctor = make_doctor(hours=False)
    auth.login(doctor.user)
    client.post(add_url(0), data={"day0-start": "09:00", "day0-end": "12:00"})
    client.post(add_url(0), data={"day0-start": "13:00", "day0-end": "17:00"})
    afternoon = db.session.scalars(
        select(WeeklyHours).where(WeeklyHours.start_time == time(13))
    ).one()
    before = schedule(db, doctor)

    response = htmx.post(
        f"{HOURS}/intervals/{afternoon.id}",
        data={f"interval{afternoon.id}-start": "11:00", f"interval{afternoon.id}-end": "17:00"},
    )
    assert response.status_code == 422
    assert "<html" not in shown(response)
    assert response.text.lstrip().startswith(f'<li id="interval-{afternoon.id}"')
    assert "This overlaps the interval from 9:00 AM to 12:00 PM on the same day." in shown(response)
    assert schedule(db, doctor) == before

    page = client.post(
        f"{HOURS}/intervals/{afternoon.id}",
        data={f"interval{afternoon.id}-start": "17:00", f"interval{afternoon.id}-end": "13:00"},
    )
    assert page.status_code == 422
    assert "<html" in shown(page)
    assert "The end must be after the start." in shown(page)
    assert schedule(db, doctor) == before


# Removing -----------------------------------------------------------------------------------


def test_removing_with_htmx_answers_an_empty_row(htmx, db, signed_in):
    interval = interval_on(db, signed_in, 4)
    response = htmx.post(f"{HOURS}/intervals/{interval.id}/delete")
    assert response.status_code == 200
    assert "<html" not in shown(response)
    # Nothing replaces the row; only the message rides along, out of band.
    assert "<li" not in shown(response)
    assert "Interval removed." in shown(response)
    assert [row for row in schedule(db, signed_in) if row[0] == 4] == []


def test_removing_without_javascript(client, db, signed_in):
    interval = interval_on(db, signed_in, 1)
    response = client.post(f"{HOURS}/intervals/{interval.id}/delete")
    assert response.status_code == 303
    assert response.headers["Location"] == "/doctor/hours#day-1"
    assert [row for row in schedule(db, signed_in) if row[0] == 1] == []
    assert "Interval removed." in client.get(HOURS).text


# Slot length and seats ----------------------------------------------------------------------


def slot_settings(db, doctor):
    db.session.expire_all()
    return db.session.execute(
        select(Doctor.slot_minutes, Doctor.seats_per_slot).where(Doctor.id == doctor.id)
    ).one()


def test_a_doctor_changes_the_slot_length_and_seats(client, htmx, db, signed_in):
    response = client.post(f"{HOURS}/settings", data={"slot_minutes": "20", "seats": "2"})
    assert response.status_code == 303
    assert tuple(slot_settings(db, signed_in)) == (20, 2)

    partial = htmx.post(f"{HOURS}/settings", data={"slot_minutes": "45", "seats": "3"})
    assert partial.status_code == 200
    assert "<html" not in shown(partial)
    assert partial.text.lstrip().startswith('<section id="slot-settings"')
    assert "Slot settings saved." in shown(partial)
    assert tuple(slot_settings(db, signed_in)) == (45, 3)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"slot_minutes": "4", "seats": "1"}, "Use a slot length from 5 to 480 minutes."),
        ({"slot_minutes": "481", "seats": "1"}, "Use a slot length from 5 to 480 minutes."),
        ({"slot_minutes": "30", "seats": "0"}, "Use from 1 to 50 seats per slot."),
        ({"slot_minutes": "30", "seats": "51"}, "Use from 1 to 50 seats per slot."),
        ({"slot_minutes": "", "seats": "1"}, "This field is required."),
        ({"slot_minutes": "half an hour", "seats": "1"}, "Not a valid integer value."),
    ],
)
@pytest.mark.parametrize("with_htmx", [False, True])
def test_bad_slot_settings_are_refused_and_change_nothing(
    client, htmx, db, signed_in, data, message, with_htmx
):
    response = (htmx if with_htmx else client).post(f"{HOURS}/settings", data=data)
    assert response.status_code == 422
    assert message in shown(response)
    assert ("<html" in shown(response)) is not with_htmx
    assert tuple(slot_settings(db, signed_in)) == (30, 1)
    assert events(db) == []


# Appointments are never touched -------------------------------------------------------------


def test_existing_appointments_survive_any_schedule_change(
    client, db, signed_in, make_patient, make_user
):
    patient = make_patient()
    # Monday 2030-06-03, 10:00 in Paris (CEST).
    appointment = Appointment(
        patient=patient,
        doctor=signed_in,
        clinic=signed_in.clinic,
        starts_at=datetime(2030, 6, 3, 8, 0, tzinfo=UTC),
        ends_at=datetime(2030, 6, 3, 8, 30, tzinfo=UTC),
        seat=1,
        status=Status.CONFIRMED,
        reason="Check-up",
    )
    db.session.add(appointment)
    db.session.commit()
    snapshot = (
        appointment.id,
        appointment.starts_at,
        appointment.ends_at,
        appointment.seat,
        appointment.status,
        appointment.reason,
    )

    monday = interval_on(db, signed_in, 0)
    client.post(
        f"{HOURS}/intervals/{monday.id}",
        data={f"interval{monday.id}-start": "13:00", f"interval{monday.id}-end": "17:00"},
    )
    client.post(f"{HOURS}/settings", data={"slot_minutes": "45", "seats": "2"})
    client.post(f"{HOURS}/intervals/{monday.id}/delete")
    assert [row for row in schedule(db, signed_in) if row[0] == 0] == []

    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 1
    kept = db.session.get(Appointment, snapshot[0])
    assert (
        kept.id,
        kept.starts_at,
        kept.ends_at,
        kept.seat,
        kept.status,
        kept.reason,
    ) == snapshot


# Audit --------------------------------------------------------------------------------------


def test_every_change_is_recorded_in_the_audit_trail(client, db, signed_in):
    client.post(add_url(6), data={"day6-start": "10:00", "day6-end": "12:00"})
    sunday = interval_on(db, signed_in, 6)
    client.post(
        f"{HOURS}/intervals/{sunday.id}",
        data={f"interval{sunday.id}-start": "10:00", f"interval{sunday.id}-end": "13:00"},
    )
    client.post(f"{HOURS}/intervals/{sunday.id}/delete")
    client.post(f"{HOURS}/settings", data={"slot_minutes": "15", "seats": "1"})

    recorded = events(db)
    assert [event.action for event in recorded] == [
        "weekly_hours.changed",
        "weekly_hours.changed",
        "weekly_hours.changed",
        "slot_settings.changed",
    ]
    assert {(event.actor_id, event.entity_type, event.entity_id) for event in recorded} == {
        (signed_in.user.id, "doctor", signed_in.id)
    }
    added, edited, removed, settings = (event.changes for event in recorded)
    assert added["added"] == {"weekday": 6, "start": "10:00", "end": "12:00"}
    assert edited["before"]["end"] == "12:00"
    assert edited["after"]["end"] == "13:00"
    assert removed["removed"] == {"weekday": 6, "start": "10:00", "end": "13:00"}
    assert settings == {
        "before": {"slot_minutes": 30, "seats": 1},
        "after": {"slot_minutes": 15, "seats": 1},
    }


# Who may do what ----------------------------------------------------------------------------

DOCTOR_PAGES = [
    ("get", HOURS),
    ("get", "/doctor/time-off"),
    ("post", add_url(0)),
    ("post", f"{HOURS}/settings"),
    ("post", "/doctor/time-off"),
]


@pytest.mark.parametrize("role", [Role.PATIENT, Role.ADMIN])
@pytest.mark.parametrize(("verb", "path"), DOCTOR_PAGES)
def test_the_pages_are_for_doctors_only(
    auth, client, db, make_user, make_patient, doctor, role, verb, path
):
    user = make_user(role)
    if role == Role.PATIENT:
        make_patient(user=user)
    auth.login(user)
    before = schedule(db, doctor)
    response = getattr(client, verb)(
        path, data={"day0-start": "06:00", "day0-end": "07:00"} if verb == "post" else None
    )
    assert response.status_code == 403
    assert "Not allowed" in shown(response)
    assert schedule(db, doctor) == before


@pytest.mark.parametrize(("verb", "path"), DOCTOR_PAGES)
def test_visitors_are_sent_to_sign_in(client, verb, path):
    response = getattr(client, verb)(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/doctor/")


def test_an_expired_session_on_an_htmx_request_navigates_to_sign_in(htmx):
    response = htmx.post(add_url(0), data={"day0-start": "06:00", "day0-end": "07:00"})
    assert response.headers["HX-Redirect"].startswith("/login?next=/doctor/hours")
    assert "<html" not in shown(response)


@pytest.mark.parametrize(
    ("verb", "suffix", "data"),
    [
        ("get", "", None),
        ("get", "/edit", None),
        ("post", "", {"start": "06:00", "end": "07:00"}),
        ("post", "/delete", None),
    ],
)
def test_a_doctor_cannot_reach_another_doctors_interval(
    client, db, auth, make_doctor, signed_in, verb, suffix, data
):
    other = make_doctor()
    theirs = interval_on(db, other, 0)
    before = schedule(db, other)
    if data:
        data = {f"interval{theirs.id}-{name}": value for name, value in data.items()}
    response = getattr(client, verb)(f"{HOURS}/intervals/{theirs.id}{suffix}", data=data)
    assert response.status_code == 404
    assert schedule(db, other) == before
    assert events(db) == []


def test_an_unknown_interval_is_not_found(client, signed_in):
    assert client.get(f"{HOURS}/intervals/999999/edit").status_code == 404


@pytest.fixture
def csrf_on(_session_app):
    _session_app.config["WTF_CSRF_ENABLED"] = True
    yield
    _session_app.config["WTF_CSRF_ENABLED"] = False


def test_changes_need_the_csrf_token_that_the_page_gives_htmx(htmx, client, db, signed_in, csrf_on):
    refused = htmx.post(add_url(5), data={"day5-start": "09:00", "day5-end": "12:00"})
    assert refused.status_code == 400
    assert schedule(db, signed_in) == WEEKDAYS_9_TO_5

    page = shown(client.get(HOURS))
    headers = json.loads(re.search(r"hx-headers='([^']*)'", page).group(1).replace("&#34;", '"'))
    accepted = htmx.post(
        add_url(5), data={"day5-start": "09:00", "day5-end": "12:00"}, headers=headers
    )
    assert accepted.status_code == 200
    assert (5, time(9), time(12)) in schedule(db, signed_in)


# The services, as the API will call them ----------------------------------------------------


def test_replacing_the_whole_schedule_at_once(db, doctor):
    services.replace_weekly_hours(
        actor=doctor.user,
        doctor=doctor,
        slot_minutes=20,
        seats=2,
        intervals=[(1, time(14), time(18)), (1, time(8), time(12)), (3, time(9), time(10))],
    )
    db.session.commit()
    assert schedule(db, doctor) == [
        (1, time(8), time(12)),
        (1, time(14), time(18)),
        (3, time(9), time(10)),
    ]
    assert tuple(slot_settings(db, doctor)) == (20, 2)
    [event] = events(db, "weekly_hours.changed")
    assert len(event.changes["before"]["intervals"]) == 5
    assert event.changes["after"]["slot_minutes"] == 20


@pytest.mark.parametrize(
    ("slot_minutes", "seats", "intervals", "field"),
    [
        (30, 1, [(0, time(9), time(12)), (0, time(11), time(13))], "intervals[1].start"),
        # An interval inside a long one is caught even with another in between.
        (
            30,
            1,
            [(2, time(8), time(18)), (2, time(9), time(10)), (2, time(12), time(13))],
            "intervals[2].start",
        ),
        (30, 1, [(0, time(12), time(9))], "intervals[0].end"),
        (30, 1, [(7, time(9), time(12))], "intervals[0].weekday"),
        (481, 1, [], "slot_minutes"),
        (30, 51, [], "seats"),
    ],
)
def test_replacing_refuses_a_bad_schedule_as_a_whole(
    db, doctor, slot_minutes, seats, intervals, field
):
    with pytest.raises(ValidationFailed) as raised:
        services.replace_weekly_hours(
            actor=doctor.user,
            doctor=doctor,
            slot_minutes=slot_minutes,
            seats=seats,
            intervals=intervals,
        )
    assert field in raised.value.errors
    db.session.rollback()
    assert schedule(db, doctor) == WEEKDAYS_9_TO_5


def test_an_admin_may_read_and_change_any_doctors_hours(db, admin, doctor):
    assert len(services.get_weekly_hours(actor=admin, doctor=doctor)) == 5
    services.add_interval(actor=admin, doctor=doctor, weekday=5, start=time(9), end=time(11))
    db.session.commit()
    assert (5, time(9), time(11)) in schedule(db, doctor)
    assert events(db)[0].actor_id == admin.id


def test_other_people_get_not_found_from_the_services(db, make_doctor, patient, doctor):
    other = make_doctor()
    for actor in (other.user, patient.user):
        with pytest.raises(NotFound):
            services.get_weekly_hours(actor=actor, doctor=doctor)
        with pytest.raises(NotFound):
            services.set_slot_settings(actor=actor, doctor=doctor, slot_minutes=10, seats=1)
    with pytest.raises(NotAllowed):
        services.doctor_for_user(patient.user)
    assert services.doctor_for_user(doctor.user) == doctor


def test_copying_monday_to_every_weekday_keeps_the_weekend(client, db, signed_in):
    db.session.execute(WeeklyHours.__table__.delete().where(WeeklyHours.doctor_id == signed_in.id))
    db.session.add_all(
        [
            WeeklyHours(doctor_id=signed_in.id, weekday=0, start_time=time(8), end_time=time(12)),
            WeeklyHours(doctor_id=signed_in.id, weekday=0, start_time=time(14), end_time=time(18)),
            WeeklyHours(doctor_id=signed_in.id, weekday=2, start_time=time(10), end_time=time(11)),
            WeeklyHours(doctor_id=signed_in.id, weekday=5, start_time=time(9), end_time=time(12)),
        ]
    )
    db.session.commit()
    page = shown(client.get(HOURS))
    assert "Copy Monday to all weekdays" in page
    response = client.post(f"{HOURS}/copy-monday", data={})
    assert response.status_code == 303
    expected = [
        (weekday, start, end)
        for weekday in range(5)
        for start, end in ((time(8), time(12)), (time(14), time(18)))
    ] + [(5, time(9), time(12))]
    assert schedule(db, signed_in) == expected
    assert "Tuesday to Friday now have Monday" in shown(client.get(HOURS))
    assert events(db, "weekly_hours.changed")


def test_the_week_fits_one_screen_with_one_line_add_forms(client, signed_in):
    page = shown(client.get(HOURS))
    assert page.count('class="add-interval compact-fields"') == 7
    assert 'class="week-editor"' in page


def test_a_doctor_without_hours_lands_on_the_start_and_sets_a_week_in_one_form(
    auth, client, db, make_doctor
):
    newcomer = make_doctor(hours=False)
    auth.login(newcomer.user)
    home = client.get("/doctor")
    assert home.status_code == 302
    assert home.headers["Location"] == "/doctor/hours/start"
    page = client.get("/doctor/hours/start").text
    assert "Set your weekly hours" in page
    assert "not listed in Find a doctor" in page
    answer = client.post("/doctor/hours/start", data={"start": "08:30", "end": "16:00"})
    assert answer.status_code == 303
    assert schedule(db, newcomer) == [(weekday, time(8, 30), time(16)) for weekday in range(5)]
    assert client.get("/doctor").status_code == 200  # the schedule, now


def test_the_start_refuses_an_end_before_the_start(auth, client, db, make_doctor):
    newcomer = make_doctor(hours=False)
    auth.login(newcomer.user)
    answer = client.post("/doctor/hours/start", data={"start": "16:00", "end": "08:00"})
    assert answer.status_code == 422
    assert "The end must be after the start." in answer.text
    assert schedule(db, newcomer) == []
