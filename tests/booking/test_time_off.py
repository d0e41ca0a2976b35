"""A doctor blocks time off in the clinic's wall clock, across daylight-saving changes too."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.db import utcnow
from portal.errors import NotFound, ValidationFailed
from portal.scheduling import services
from portal.scheduling.models import TimeOff

TIME_OFF = "/doctor/time-off"
PARIS = ZoneInfo("Europe/Paris")
# In 2030 Paris springs forward on 31 March (02:00 -> 03:00) and falls back on 27 October
# (03:00 -> 02:00), so 02:30 does not exist on the first date and happens twice on the second.
SPRING_FORWARD = "2030-03-31"
FALL_BACK = "2030-10-27"


def schedule_events(db):
    """The trail's events but the doctor's own sign-in."""
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action != "user.signed_in").order_by(AuditEvent.id)
    ).all()


def shown(response):
    """The response text with Babel's narrow no-break spaces made plain."""
    return response.text.replace("\u202f", " ").replace("\xa0", " ")


def periods(db, doctor):
    db.session.expire_all()
    rows = db.session.execute(
        select(TimeOff.starts_at, TimeOff.ends_at, TimeOff.reason)
        .where(TimeOff.doctor_id == doctor.id)
        .order_by(TimeOff.starts_at)
    ).all()
    return [tuple(row) for row in rows]


def add(db, doctor, starts_at, ends_at, reason=""):
    period = TimeOff(doctor=doctor, starts_at=starts_at, ends_at=ends_at, reason=reason)
    db.session.add(period)
    db.session.commit()
    return period


@pytest.fixture
def signed_in(auth, doctor):
    assert auth.login(doctor.user).status_code == 303
    return doctor


def test_the_dates_used_here_really_are_daylight_saving_changes():
    gap = datetime.fromisoformat(f"{SPRING_FORWARD}T02:30").replace(tzinfo=PARIS)
    assert gap.astimezone(UTC).astimezone(PARIS).hour == 3  # 02:30 does not exist
    fold = datetime.fromisoformat(f"{FALL_BACK}T02:30")
    assert (
        fold.replace(tzinfo=PARIS, fold=0).utcoffset()
        != fold.replace(tzinfo=PARIS, fold=1).utcoffset()
    )


def test_the_page_lists_current_and_upcoming_time_off_in_the_clinics_zone(client, db, signed_in):
    now = utcnow()
    add(db, signed_in, now - timedelta(days=10), now - timedelta(days=9), "Long gone")
    add(db, signed_in, now - timedelta(hours=1), now + timedelta(hours=5), "Right now")
    add(
        db,
        signed_in,
        datetime(2031, 7, 1, 7, 0, tzinfo=UTC),
        datetime(2031, 7, 15, 16, 0, tzinfo=UTC),
        "Summer",
    )
    page = client.get(TIME_OFF)
    assert page.status_code == 200
    text = shown(page)
    assert "Long gone" not in text
    assert text.index("Right now") < text.index("Summer")
    # 07:00 UTC is 9:00 in Paris in July.
    assert "Jul 1, 2031, 9:00 AM (Paris time) to Jul 15, 2031, 6:00 PM (Paris time)" in text
    assert 'type="datetime-local"' in text
    assert '<label for="starts_at">From</label>' in text


def test_the_page_says_when_there_is_no_time_off(client, signed_in):
    assert "No time off planned." in client.get(TIME_OFF).text


def test_a_doctor_adds_time_off_in_local_time(client, db, signed_in):
    response = client.post(
        TIME_OFF,
        data={"starts_at": "2030-07-01T09:00", "ends_at": "2030-07-03T18:00", "reason": "Congress"},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/doctor/time-off"
    assert periods(db, signed_in) == [
        (
            datetime(2030, 7, 1, 7, 0, tzinfo=UTC),
            datetime(2030, 7, 3, 16, 0, tzinfo=UTC),
            "Congress",
        )
    ]
    page = shown(client.get(TIME_OFF))
    assert "Time off added." in page
    assert "Congress" in page
    [event] = schedule_events(db)
    assert (event.action, event.entity_type, event.entity_id, event.actor_id) == (
        "time_off.added",
        "doctor",
        signed_in.id,
        signed_in.user.id,
    )
    assert event.changes["starts_at"] == "2030-07-01T07:00:00+00:00"
    assert event.changes["reason"] == "Congress"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"starts_at": "2030-07-03T09:00", "ends_at": "2030-07-01T18:00"},
            "ends_at",
            "The end must be after the start.",
        ),
        (
            {"starts_at": "2030-07-01T09:00", "ends_at": "2030-07-01T09:00"},
            "ends_at",
            "The end must be after the start.",
        ),
        (
            {"starts_at": "2001-07-01T09:00", "ends_at": "2001-07-03T18:00"},
            "ends_at",
            "The time off must end in the future.",
        ),
        (
            {"starts_at": "2030-07-01T09:00", "ends_at": "2030-07-03T18:00", "reason": "x" * 256},
            "reason",
            "Use at most 255 characters.",
        ),
        ({"starts_at": "", "ends_at": "2030-07-03T18:00"}, "starts_at", "This field is required."),
        (
            {"starts_at": "next monday", "ends_at": "2030-07-03T18:00"},
            "starts_at",
            "Not a valid datetime value.",
        ),
    ],
)
def test_bad_time_off_is_refused_with_a_message_and_adds_nothing(
    client, db, signed_in, data, field, message
):
    response = client.post(TIME_OFF, data=data)
    assert response.status_code == 422
    assert message in response.text
    assert f'id="{field}-error"' in response.text
    assert periods(db, signed_in) == []
    assert schedule_events(db) == []


def test_a_time_skipped_by_the_clocks_going_forward_is_refused(client, db, signed_in):
    response = client.post(
        TIME_OFF,
        data={"starts_at": f"{SPRING_FORWARD}T02:30", "ends_at": f"{SPRING_FORWARD}T10:00"},
    )
    assert response.status_code == 422
    assert (
        "2:30 AM does not exist on that day in Paris time: the clocks go forward. "
        "Choose another time."
    ) in shown(response)
    assert 'id="starts_at-error"' in response.text
    assert periods(db, signed_in) == []


def test_a_start_that_happens_twice_takes_the_earlier_one(client, db, signed_in):
    response = client.post(
        TIME_OFF, data={"starts_at": f"{FALL_BACK}T02:30", "ends_at": f"{FALL_BACK}T12:00"}
    )
    assert response.status_code == 303
    # 02:30 CEST (+02:00), the first of the two.
    assert periods(db, signed_in)[0][0] == datetime(2030, 10, 27, 0, 30, tzinfo=UTC)
    page = shown(client.get(TIME_OFF))
    assert (
        "The clocks go back that night in Paris time, so 2:30 AM happens twice; "
        "your time off includes both."
    ) in page


def test_an_end_that_happens_twice_takes_the_later_one(client, db, signed_in):
    response = client.post(
        TIME_OFF, data={"starts_at": f"{FALL_BACK}T00:00", "ends_at": f"{FALL_BACK}T02:30"}
    )
    assert response.status_code == 303
    # 02:30 CET (+01:00), the second of the two.
    assert periods(db, signed_in)[0][1] == datetime(2030, 10, 27, 1, 30, tzinfo=UTC)


def test_a_doctor_removes_time_off(client, db, signed_in):
    period = add(
        db,
        signed_in,
        datetime(2030, 7, 1, 7, 0, tzinfo=UTC),
        datetime(2030, 7, 2, 7, 0, tzinfo=UTC),
        "Course",
    )
    response = client.post(f"{TIME_OFF}/{period.id}/delete")
    assert response.status_code == 303
    assert response.headers["Location"] == "/doctor/time-off"
    assert periods(db, signed_in) == []
    assert "Time off removed." in client.get(TIME_OFF).text
    [event] = schedule_events(db)
    assert event.action == "time_off.removed"
    assert event.changes["reason"] == "Course"


def test_a_doctor_cannot_remove_another_doctors_time_off(client, db, make_doctor, signed_in):
    other = make_doctor()
    theirs = add(
        db, other, datetime(2030, 7, 1, 7, tzinfo=UTC), datetime(2030, 7, 2, 7, tzinfo=UTC)
    )
    before = periods(db, other)
    response = client.post(f"{TIME_OFF}/{theirs.id}/delete")
    assert response.status_code == 404
    assert periods(db, other) == before
    assert schedule_events(db) == []


def test_another_doctors_time_off_is_not_listed(client, db, make_doctor, signed_in):
    other = make_doctor()
    add(
        db,
        other,
        datetime(2030, 7, 1, 7, tzinfo=UTC),
        datetime(2030, 7, 2, 7, tzinfo=UTC),
        "Not yours",
    )
    assert "Not yours" not in client.get(TIME_OFF).text


def test_the_services_want_aware_times_and_keep_records_private(db, make_doctor, admin, doctor):
    with pytest.raises(ValidationFailed) as raised:
        services.add_time_off(
            actor=doctor.user,
            doctor=doctor,
            starts_at=datetime(2030, 7, 1, 9),
            ends_at=datetime(2030, 7, 1, 18, tzinfo=UTC),
            reason="",
        )
    assert "starts_at" in raised.value.errors
    other = make_doctor()
    with pytest.raises(NotFound):
        services.list_time_off(actor=other.user, doctor=doctor, now=utcnow())
    period = services.add_time_off(
        actor=admin,
        doctor=doctor,
        starts_at=datetime(2030, 7, 1, 9, tzinfo=PARIS),
        ends_at=datetime(2030, 7, 1, 18, tzinfo=PARIS),
        reason="  Training  ",
    )
    db.session.commit()
    assert period.reason == "Training"
    with pytest.raises(NotFound):
        services.get_time_off(actor=other.user, time_off_id=period.id)
    assert services.list_time_off(actor=doctor.user, doctor=doctor, now=utcnow()) == [period]
