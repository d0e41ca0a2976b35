"""Time off by the hour over visits already booked: the doctor sees them first, then
cancels them (their patients are told, with the reason) or keeps them."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.booking import services
from portal.booking.models import Appointment, Status
from portal.db import utcnow
from portal.errors import NotFound, ValidationFailed
from portal.messages.models import Message
from portal.scheduling.models import TimeOff

PARIS = ZoneInfo("Europe/Paris")
TIME_OFF = "/doctor/time-off"
DAY = "2030-07-01"  # a Monday, summer time in Paris (UTC+2)


def paris(reading):
    return datetime.fromisoformat(f"{DAY}T{reading}").replace(tzinfo=PARIS)


def book(db, doctor, patient, start, *, minutes=30, status=Status.CONFIRMED):
    appointment = Appointment(
        doctor=doctor,
        patient=patient,
        clinic=doctor.clinic,
        starts_at=start.astimezone(UTC),
        ends_at=(start + timedelta(minutes=minutes)).astimezone(UTC),
        status=status,
        reason="Check-up",
    )
    db.session.add(appointment)
    db.session.commit()
    return appointment


def statuses(db, *visits):
    db.session.expire_all()
    return [db.session.get(Appointment, visit.id).status for visit in visits]


def time_off(db):
    db.session.expire_all()
    return db.session.scalars(select(TimeOff)).all()


def cancellation_messages(db):
    return db.session.scalars(
        select(Message).where(Message.kind == "booking_cancelled").order_by(Message.id)
    ).all()


def shown(response):
    return response.text.replace("\u202f", " ").replace("\xa0", " ")


@pytest.fixture
def morning(db, doctor, patient, make_doctor, make_patient, make_user):
    """Around a time off from 10:00 to 12:00 in Paris: visits just before and just after
    it, two inside, one cancelled inside, and another doctor's visit inside."""
    other = make_doctor()
    bea = make_patient(user=make_user(full_name="Bea Booked"))
    return {
        "before": book(db, doctor, patient, paris("09:30")),
        "first": book(db, doctor, bea, paris("10:00")),
        "cancelled": book(db, doctor, patient, paris("11:00"), status=Status.CANCELLED),
        "last": book(db, doctor, patient, paris("11:30")),
        "after": book(db, doctor, patient, paris("12:00")),
        "other_doctor": book(db, other, patient, paris("10:30")),
    }


def listed(doctor, start, end, *, actor=None):
    visits = services.visits_in_time_off(
        actor=actor or doctor.user, doctor=doctor, starts_at=start, ends_at=end, now=utcnow()
    )
    return [visit.id for visit in visits]


# The services -----------------------------------------------------------------------------


def test_only_the_doctors_confirmed_visits_overlapping_the_time_off_are_listed(db, doctor, morning):
    inside = [morning["first"].id, morning["last"].id]
    # Touching the time off is not overlapping it.
    assert listed(doctor, paris("10:00"), paris("12:00")) == inside
    assert listed(doctor, paris("10:15"), paris("11:45")) == inside
    assert listed(doctor, paris("10:30"), paris("11:30")) == []


def test_visits_already_started_or_over_are_not_listed_nor_cancelled(db, doctor, patient):
    now = utcnow().replace(second=0, microsecond=0)
    over = book(db, doctor, patient, now - timedelta(hours=2))
    started = book(db, doctor, patient, now - timedelta(minutes=10))
    ahead = book(db, doctor, patient, now + timedelta(hours=1))
    start, end = now - timedelta(hours=3), now + timedelta(hours=3)
    assert listed(doctor, start, end) == [ahead.id]
    _period, cancelled = services.take_time_off(
        actor=doctor.user,
        doctor=doctor,
        starts_at=start,
        ends_at=end,
        reason="Sick",
        cancel_visits=True,
        now=utcnow(),
    )
    db.session.commit()
    assert [visit.id for visit in cancelled] == [ahead.id]
    assert statuses(db, over, started, ahead) == [
        Status.CONFIRMED,
        Status.CONFIRMED,
        Status.CANCELLED,
    ]


def test_cancelling_tells_each_patient_the_reason(db, doctor, morning):
    period, cancelled = services.take_time_off(
        actor=doctor.user,
        doctor=doctor,
        starts_at=paris("10:00"),
        ends_at=paris("12:00"),
        reason="  Hospital shift  ",
        cancel_visits=True,
        now=utcnow(),
    )
    db.session.commit()
    assert (period.starts_at, period.ends_at, period.reason) == (
        paris("10:00").astimezone(UTC),
        paris("12:00").astimezone(UTC),
        "Hospital shift",
    )
    assert [visit.id for visit in cancelled] == [morning["first"].id, morning["last"].id]
    assert statuses(db, *morning.values()) == [
        Status.CONFIRMED,
        Status.CANCELLED,
        Status.CANCELLED,
        Status.CANCELLED,
        Status.CONFIRMED,
        Status.CONFIRMED,
    ]
    for visit in cancelled:
        assert visit.cancel_reason == "Hospital shift"
        assert visit.cancelled_by_id == doctor.user_id
    told = cancellation_messages(db)
    assert [(message.appointment_id, message.user_id) for message in told] == [
        (morning["first"].id, morning["first"].patient.user_id),
        (morning["last"].id, morning["last"].patient.user_id),
    ]
    assert all("Hospital shift" in message.text for message in told)


def test_without_a_reason_patients_read_that_the_doctor_is_not_available(db, doctor, morning):
    _period, cancelled = services.take_time_off(
        actor=doctor.user,
        doctor=doctor,
        starts_at=paris("10:00"),
        ends_at=paris("12:00"),
        reason="",
        cancel_visits=True,
        now=utcnow(),
    )
    assert {visit.cancel_reason for visit in cancelled} == {
        "The doctor is not available at that time."
    }


def test_keeping_the_visits_leaves_them_booked_and_tells_nobody(db, doctor, morning):
    period, cancelled = services.take_time_off(
        actor=doctor.user,
        doctor=doctor,
        starts_at=paris("10:00"),
        ends_at=paris("12:00"),
        reason="Paperwork",
        cancel_visits=False,
        now=utcnow(),
    )
    db.session.commit()
    assert cancelled == []
    assert time_off(db) == [period]
    assert statuses(db, morning["first"], morning["last"]) == [Status.CONFIRMED] * 2
    assert cancellation_messages(db) == []


def test_an_admin_may_list_and_cancel_for_a_doctor(db, admin, doctor, morning):
    assert listed(doctor, paris("10:00"), paris("12:00"), actor=admin) == [
        morning["first"].id,
        morning["last"].id,
    ]
    _period, cancelled = services.take_time_off(
        actor=admin,
        doctor=doctor,
        starts_at=paris("10:00"),
        ends_at=paris("12:00"),
        reason="Clinic meeting",
        cancel_visits=True,
        now=utcnow(),
    )
    assert {visit.cancelled_by_id for visit in cancelled} == {admin.id}


def test_another_doctor_can_neither_list_nor_take_time_off_for_someone(
    db, doctor, make_doctor, morning
):
    other = make_doctor()
    with pytest.raises(NotFound):
        listed(doctor, paris("10:00"), paris("12:00"), actor=other.user)
    with pytest.raises(NotFound):
        services.take_time_off(
            actor=other.user,
            doctor=doctor,
            starts_at=paris("10:00"),
            ends_at=paris("12:00"),
            reason="",
            cancel_visits=True,
            now=utcnow(),
        )
    db.session.rollback()
    assert time_off(db) == []
    assert statuses(db, morning["first"]) == [Status.CONFIRMED]


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (paris("12:00"), paris("10:00"), "ends_at"),
        (datetime(2030, 7, 1, 10), paris("12:00"), "starts_at"),
        (datetime(2001, 7, 1, 10, tzinfo=UTC), datetime(2001, 7, 1, 12, tzinfo=UTC), "ends_at"),
    ],
)
def test_a_bad_span_is_refused_and_cancels_nothing(db, doctor, morning, start, end, field):
    with pytest.raises(ValidationFailed) as raised:
        listed(doctor, start, end)
    assert field in raised.value.errors
    with pytest.raises(ValidationFailed):
        services.take_time_off(
            actor=doctor.user,
            doctor=doctor,
            starts_at=start,
            ends_at=end,
            reason="",
            cancel_visits=True,
            now=utcnow(),
        )
    db.session.rollback()
    assert time_off(db) == []
    assert cancellation_messages(db) == []


def test_whole_days_off_list_and_cancel_the_same_way(db, doctor, morning):
    day = paris("00:00").date()
    days = {"first_day": day, "last_day": day}
    visits = services.visits_in_days_off(actor=doctor.user, doctor=doctor, now=utcnow(), **days)
    assert [visit.id for visit in visits] == [
        morning["before"].id,
        morning["first"].id,
        morning["last"].id,
        morning["after"].id,
    ]
    _period, cancelled = services.take_days_off(
        actor=doctor.user, doctor=doctor, reason="", cancel_visits=True, now=utcnow(), **days
    )
    assert len(cancelled) == 4
    assert {visit.cancel_reason for visit in cancelled} == {
        "The doctor is not available on that day."
    }
    assert len(cancellation_messages(db)) == 4


# The page -----------------------------------------------------------------------------------


@pytest.fixture
def signed_in(auth, doctor):
    assert auth.login(doctor.user).status_code == 303
    return auth.client


def schedule_events(db):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action != "user.signed_in")).all()


def ask(client, **choice):
    data = {"starts_at": f"{DAY}T10:00", "ends_at": f"{DAY}T12:00", "reason": "Congress"}
    return client.post(TIME_OFF, data={**data, **choice})


def test_time_off_over_booked_visits_lists_them_and_saves_nothing(signed_in, db, morning):
    response = ask(signed_in)
    assert response.status_code == 200
    page = shown(response)
    assert (
        '<h3 id="time-off-visits-heading" tabindex="-1" autofocus>'
        "2 visits are booked during this time off</h3>"
    ) in page
    assert "<strong>Jul 1, 2030, 10:00 AM (Paris time)</strong> · Bea Booked" in page
    assert "<strong>Jul 1, 2030, 11:30 AM (Paris time)</strong>" in page
    assert page.count("<strong>Jul 1, 2030") == 2
    assert (
        "Time off from Jul 1, 2030, 10:00 AM (Paris time) to Jul 1, 2030, 12:00 PM "
        "(Paris time) is not saved yet."
    ) in page
    assert 'name="starts_at" value="2030-07-01T10:00:00"' in page
    assert 'name="visits" value="cancel">Cancel these visits and tell the patients' in page
    assert 'name="visits" value="keep" class="secondary">Keep them booked' in page
    assert 'value="Congress"' in page
    assert time_off(db) == []
    assert statuses(db, morning["first"], morning["last"]) == [Status.CONFIRMED] * 2
    assert cancellation_messages(db) == []
    assert schedule_events(db) == []


def test_the_doctor_cancels_the_visits_with_the_reason(signed_in, db, doctor, morning):
    response = ask(signed_in, visits="cancel", reason="Medical congress")
    assert response.status_code == 303
    assert response.headers["Location"] == TIME_OFF
    [period] = time_off(db)
    assert period.reason == "Medical congress"
    assert statuses(db, morning["first"], morning["last"]) == [Status.CANCELLED] * 2
    assert statuses(db, morning["before"], morning["after"]) == [Status.CONFIRMED] * 2
    told = cancellation_messages(db)
    assert len(told) == 2
    assert all("Medical congress" in message.text for message in told)
    page = shown(signed_in.get(TIME_OFF))
    assert "Time off added." in page
    assert "2 visits are cancelled; the patients see your reason." in page


def test_or_keeps_them_booked(signed_in, db, morning):
    response = ask(signed_in, visits="keep")
    assert response.status_code == 303
    assert len(time_off(db)) == 1
    assert statuses(db, morning["first"], morning["last"]) == [Status.CONFIRMED] * 2
    assert cancellation_messages(db) == []
    page = shown(signed_in.get(TIME_OFF))
    assert "Time off added." in page
    assert "2 visits stay booked during this time off." in page


def test_an_unknown_choice_is_no_choice(signed_in, db, morning):
    response = ask(signed_in, visits="maybe")
    assert response.status_code == 200
    assert "2 visits are booked during this time off" in response.text
    assert time_off(db) == []


def test_time_off_with_no_visits_in_it_is_saved_at_once(signed_in, db, morning):
    response = signed_in.post(
        TIME_OFF, data={"starts_at": f"{DAY}T10:30", "ends_at": f"{DAY}T11:30"}
    )
    assert response.status_code == 303
    assert len(time_off(db)) == 1
    assert "stay booked" not in shown(signed_in.get(TIME_OFF))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"ends_at": f"{DAY}T09:00"}, "ends_at", "The end must be after the start."),
        ({"reason": "x" * 256}, "reason", "Use at most 255 characters."),
        ({"starts_at": "soon"}, "starts_at", "Not a valid datetime value."),
        (
            {"starts_at": "2001-07-01T10:00", "ends_at": "2001-07-01T12:00"},
            "ends_at",
            "The time off must end in the future.",
        ),
    ],
)
@pytest.mark.parametrize("choice", [{}, {"visits": "cancel"}])
def test_bad_input_over_booked_visits_changes_nothing(
    signed_in, db, morning, data, field, message, choice
):
    response = ask(signed_in, **data, **choice)
    assert response.status_code == 422
    page = shown(response)
    assert message in page
    assert f'id="{field}-error"' in page
    assert "booked during this time off" not in page
    assert time_off(db) == []
    assert statuses(db, morning["first"], morning["last"]) == [Status.CONFIRMED] * 2
    assert cancellation_messages(db) == []
    assert schedule_events(db) == []
