"""No page's query count grows with the data (DESIGN.md, Scale).

Each page is requested once with a small data set (5 appointments of one doctor and one
patient) and once more after many more rows (200 appointments of that doctor and patient
over past and future days, 20 more doctors in 3 clinics, 20 more patients, and their
appointments); the number of SQL statements sent to the database must be the same.
A page that loads something per row (a lazy relationship in a loop) fails here.
"""

import difflib
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import event, update

from portal.api.security import issue_access_token
from portal.booking import services
from portal.booking.models import Appointment, Status
from portal.db import utcnow

HTMX = {"HX-Request": "true"}
PAST_STATUSES = [Status.COMPLETED, Status.NO_SHOW, Status.CANCELLED]


def free_slots(doctor, days):
    now = utcnow()
    return services.slots_for(
        doctor=doctor, first_day=now.date(), last_day=now.date() + timedelta(days=days), now=now
    )


def appointment(doctor, patient, start, status=Status.CONFIRMED):
    return Appointment(
        doctor_id=doctor.id,
        patient_id=patient.id,
        clinic_id=doctor.clinic_id,
        starts_at=start,
        ends_at=start + timedelta(minutes=doctor.slot_minutes),
        status=status,
        reason="Check-up",
        cancelled_by_id=patient.user_id if status == Status.CANCELLED else None,
    )


def past(index, now):
    """One past start a day, on the half hour: distinct and never overlapping."""
    return now.replace(minute=0, second=0, microsecond=0) - timedelta(days=index + 1)


@dataclass
class World:
    """The doctor and patient every page is about, and the slots the bookings will take."""

    doctor: object
    patient: object
    to_book: list  # one free slot per measurement of the booking pages
    future: list  # free future slots for more appointments
    others: list = field(default_factory=list)


@pytest.fixture
def world(db, make_doctor, make_patient, make_clinic, make_department):
    """The small data set: 2 doctors, 2 patients, 5 appointments of ours (3 past, 2 to come)."""
    cardiology, general = make_department(), make_department()
    doctor = make_doctor(departments=[cardiology, general])
    patient = make_patient()
    other_doctor = make_doctor(departments=[general])
    other_patient = make_patient()
    slots = free_slots(doctor, days=60)
    # Two slots a few days ahead for the booking measurements, then the rest.
    to_book, future = slots[20:22], slots[:20] + slots[22:]
    now = utcnow()
    db.session.add_all(
        [
            *(appointment(doctor, patient, past(i, now), PAST_STATUSES[i]) for i in range(3)),
            appointment(doctor, patient, future.pop(0).start),
            appointment(doctor, patient, future.pop(0).start),
            appointment(other_doctor, other_patient, past(0, now), Status.COMPLETED),
            appointment(doctor, other_patient, future.pop(0).start),
        ]
    )
    db.session.commit()
    return World(doctor=doctor, patient=patient, to_book=to_book, future=future)


def grow(db, world, make_doctor, make_patient, make_clinic, make_department):
    """Add 195 appointments of our doctor and patient, more doctors, patients and rows."""
    now = utcnow()
    rows = [
        appointment(world.doctor, world.patient, past(3 + i, now), PAST_STATUSES[i % 3])
        for i in range(100)
    ]
    step = max(1, len(world.future) // 120)
    upcoming = world.future[::step][:95]
    assert len(upcoming) == 95, "not enough free slots to grow the data set"
    rows += [appointment(world.doctor, world.patient, slot.start) for slot in upcoming]

    clinics = [
        make_clinic(name="Hudson", city="New York", country="US", timezone="America/New_York"),
        make_clinic(name="Sakura", city="Tokyo", country="JP", timezone="Asia/Tokyo"),
        make_clinic(),
    ]
    departments = [make_department() for _ in range(3)]
    doctors = [
        make_doctor(clinic=clinics[i % 3], departments=departments[: i % 3 + 1]) for i in range(20)
    ]
    patients = [make_patient() for _ in range(20)]
    for i, (doctor, patient) in enumerate(zip(doctors, patients, strict=True)):
        rows += [appointment(doctor, patient, past(d, now), PAST_STATUSES[d % 3]) for d in range(5)]
        start = now.replace(minute=0, second=0, microsecond=0) + timedelta(days=3 + i)
        # Ours with the other doctors, to come and recent, so both lists mix doctors.
        rows.append(appointment(doctor, world.patient, start))
        rows.append(appointment(doctor, world.patient, past(i, now) - timedelta(hours=2)))
        rows.append(appointment(doctor, patient, start + timedelta(days=1)))
    for i, patient in enumerate(patients[:5]):  # others on our doctor's slots
        rows.append(appointment(world.doctor, patient, world.future[::step][95 + i].start))
    db.session.add_all(rows)
    db.session.commit()


def page_request(page, world, round_):
    """(method, path, options) of a page; booking pages take a fresh slot each round."""
    doctor_id = world.doctor.id
    slot = world.to_book[round_]
    start = slot.start.isoformat()
    return {
        "doctor page": ("GET", f"/doctors/{doctor_id}", {}),
        "slots partial": (
            "GET",
            f"/doctors/{doctor_id}/slots",
            {"query_string": {"day": slot.local_date.isoformat()}, "headers": HTMX},
        ),
        "booking confirm panel": (
            "GET",
            f"/doctors/{doctor_id}/book",
            {"query_string": {"start": start}, "headers": HTMX},
        ),
        "booking POST": (
            "POST",
            f"/doctors/{doctor_id}/book",
            {"data": {"start": start, "reason": "Headaches"}, "headers": HTMX},
        ),
        "my appointments": ("GET", "/appointments", {}),
        "my past appointments": ("GET", "/appointments", {"query_string": {"past": "1"}}),
        "patient home": ("GET", "/patient", {}),
    }[page]


def count_statements(db, client, method, path, options):
    """The response and the SQL statements sent while serving it."""
    statements = []

    def listener(_conn, _cursor, statement, _parameters, _context, _executemany):
        statements.append(" ".join(statement.split())[:160])

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        response = client.open(path, method=method, **options)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return response, statements


@pytest.mark.parametrize(
    "page",
    [
        "doctor page",
        "slots partial",
        "booking confirm panel",
        "booking POST",
        "my appointments",
        "my past appointments",
        "patient home",
    ],
)
def test_the_query_count_does_not_grow_with_the_data(
    page, db, client, auth, world, make_doctor, make_patient, make_clinic, make_department
):
    assert auth.login(world.patient.user).status_code == 303
    method, path, options = page_request(page, world, 0)
    small, small_statements = count_statements(db, client, method, path, options)
    assert small.status_code == 200, small.text

    grow(db, world, make_doctor, make_patient, make_clinic, make_department)
    if page == "booking POST":
        # A patient books at most max_upcoming_per_patient visits of their own: the grown
        # ones stay (holding their seats, counted by the check) but are not confirmed.
        db.session.execute(
            update(Appointment)
            .where(Appointment.patient_id == world.patient.id, Appointment.starts_at > utcnow())
            .values(status=Status.COMPLETED)
        )
        db.session.commit()
    method, path, options = page_request(page, world, 1)
    big, big_statements = count_statements(db, client, method, path, options)
    assert big.status_code == 200, big.text

    diff = "\n".join(difflib.unified_diff(small_statements, big_statements, lineterm=""))
    assert len(big_statements) == len(small_statements), (
        f"{page}: {len(small_statements)} statements with 5 appointments, "
        f"{len(big_statements)} with 200:\n{diff}"
    )


# Writes and the API: a bounded number of statements ------------------------------------

# Statements a request may send besides opening its transaction (SQLite's BEGIN IMMEDIATE;
# PostgreSQL's BEGIN is not a statement of its own). Two of them write the patient's
# confirmation and the doctor's notice into the outbox; one reads the patient's own
# visits (no overlap, the upcoming limit).
BOOKING_BUDGET = 10
# A move also withdraws the visit's reminders still queued.
MOVE_BUDGET = BOOKING_BUDGET + 1


def sent(statements):
    return [statement for statement in statements if not statement.startswith("BEGIN")]


@pytest.mark.parametrize(("how", "headers"), [("htmx", HTMX), ("form", {})])
def test_a_booking_post_sends_at_most_ten_statements(db, client, auth, world, how, headers):
    assert auth.login(world.patient.user).status_code == 303
    start = world.to_book[0].start.isoformat()
    response, statements = count_statements(
        db,
        client,
        "POST",
        f"/doctors/{world.doctor.id}/book",
        {"data": {"start": start, "reason": "Headaches"}, "headers": headers},
    )
    assert response.status_code == (200 if how == "htmx" else 303), response.text
    assert not any("SAVEPOINT" in statement for statement in statements)
    assert len(sent(statements)) <= BOOKING_BUDGET, "\n".join(statements)


def bearer(app, user):
    with app.app_context():
        return {"Authorization": f"Bearer {issue_access_token(user, now=utcnow())}"}


def test_an_api_booking_sends_at_most_ten_statements(app, db, client, world):
    start = world.to_book[0].start.isoformat()
    response, statements = count_statements(
        db,
        client,
        "POST",
        "/api/v1/appointments",
        {
            "json": {"doctor_id": world.doctor.id, "start": start},
            "headers": bearer(app, world.patient.user),
        },
    )
    assert response.status_code == 201, response.text
    assert response.json["doctor"]["id"] == world.doctor.id
    assert not any("SAVEPOINT" in statement for statement in statements)
    assert len(sent(statements)) <= BOOKING_BUDGET, "\n".join(statements)


def test_an_api_request_reads_its_user_and_their_record_in_one_query(app, db, client, world):
    response, statements = count_statements(
        db, client, "GET", "/api/v1/me", {"headers": bearer(app, world.patient.user)}
    )
    assert response.status_code == 200, response.text
    assert response.json["patient_id"] == world.patient.id
    assert len(statements) == 1, "\n".join(statements)


@pytest.mark.parametrize("where", ["api", "html"])
def test_moving_and_cancelling_stay_within_the_budget(app, db, client, auth, world, where):
    mine = services.book(
        actor=world.patient.user,
        patient=world.patient,
        doctor_id=world.doctor.id,
        start=world.to_book[0].start,
        reason="",
        now=utcnow(),
    )
    db.session.commit()
    target = world.to_book[1].start.isoformat()
    if where == "api":
        options = {"headers": bearer(app, world.patient.user)}
        move = ("POST", f"/api/v1/appointments/{mine.id}/reschedule", {"json": {"start": target}})
        cancel = ("POST", f"/api/v1/appointments/{mine.id}/cancel", {"json": {}})
    else:
        assert auth.login(world.patient.user).status_code == 303
        options = {"headers": HTMX}
        move = ("POST", f"/appointments/{mine.id}/reschedule", {"data": {"start": target}})
        cancel = ("POST", f"/appointments/{mine.id}/cancel", {"data": {"reason": ""}})
    for method, path, extra in (move, cancel):
        response, statements = count_statements(db, client, method, path, {**options, **extra})
        assert response.status_code in (200, 204), response.text
        assert len(sent(statements)) <= MOVE_BUDGET, f"{path}\n" + "\n".join(statements)
