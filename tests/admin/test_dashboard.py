"""The dashboard: the counts, and how full each department's schedule is over the next
7 days, drawn as an SVG chart with the same figures in a table."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from portal.admin import services
from portal.booking.models import Status
from portal.db import utcnow
from tests.admin.conftest import add_appointment


def book(db, doctor, patient, now, hours, status=Status.CONFIRMED):
    """Appointments starting the given numbers of hours after now (whole hours)."""
    base = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    for hour in hours:
        add_appointment(db, doctor, patient, base + timedelta(hours=hour), status=status)


def next_monday_morning(now):
    """The first Monday 07:00 UTC after now. The figures below are for a week seen from a
    Monday morning: from a Friday afternoon the seven days ahead hold other days' partial
    hours, and the daily maximum cuts them differently."""
    monday = (now + timedelta(days=7 - now.weekday())).replace(
        hour=7, minute=0, second=0, microsecond=0
    )
    return monday if monday - now < timedelta(days=7) else monday - timedelta(days=7)


@pytest.fixture
def schedules(db, controlled_clock, make_clinic, make_department, make_doctor, make_patient):
    """Weekly hours Monday to Friday 9:00-17:00 in 30-minute slots: 16 a day, 80 a week,
    seen on a Monday at 07:00 UTC."""
    controlled_clock.move_to(next_monday_morning(utcnow()))
    clinic = make_clinic(timezone="UTC")
    cardiology = make_department(code="cardiology", name="Cardiology")
    dermatology = make_department(code="dermatology", name="Dermatology")
    general = make_department(code="general", name="General practice")
    neurology = make_department(code="neurology", name="Neurology")
    make_department(code="old", name="Old", is_active=False)
    patient = make_patient()
    now = utcnow()
    # In two departments: counts in both.
    alice = make_doctor(clinic=clinic, departments=[cardiology, general])
    book(db, alice, patient, now, range(8))
    book(db, alice, patient, now, [9], status=Status.CANCELLED)  # frees its seat
    book(db, alice, patient, now, [7 * 24 + 2])  # after the 7 days
    book(db, alice, patient, now, [-30])  # before now
    # Two seats per slot: 160 a week.
    bruno = make_doctor(clinic=clinic, departments=[general], seats_per_slot=2)
    book(db, bruno, patient, now, range(6))
    # No weekly hours at all.
    make_doctor(clinic=clinic, departments=[dermatology], hours=False)
    # At most 10 a day: 50 a week.
    nina = make_doctor(clinic=clinic, departments=[neurology], max_appointments_per_day=10)
    book(db, nina, patient, now, range(5))
    # Deactivated doctors count neither their hours nor their bookings.
    gone = make_doctor(clinic=clinic, departments=[cardiology])
    book(db, gone, patient, now, range(3))
    gone.is_active = False
    db.session.commit()
    return now


def test_fill_per_department(db, admin, schedules):
    fill = {
        row.department.code: (row.booked, row.capacity, row.ratio)
        for row in services.schedule_fill(actor=admin, now=schedules)
    }
    assert fill == {
        "cardiology": (8, 80, 0.1),
        "dermatology": (0, 0, None),
        "general": (14, 240, 14 / 240),
        "neurology": (5, 50, 0.1),
    }


def test_the_fill_takes_a_fixed_number_of_queries(db, admin, schedules, make_doctor):
    statements = []
    assert admin.role == "admin"  # loaded now, not inside the count

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        services.schedule_fill(actor=admin, now=schedules)
        few = len(statements)
        department = services.schedule_fill(actor=admin, now=schedules)[0].department
        for _ in range(15):
            make_doctor(departments=[department])
        assert admin.role == "admin"
        statements.clear()
        services.schedule_fill(actor=admin, now=schedules)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == few == 4, statements


def test_the_dashboard_draws_the_chart_and_the_table(schedules, as_admin):
    # The admin signs in once the clock stands on Monday (a staff session left unused
    # for days has ended).
    page = as_admin.get("/admin/").text
    assert "Visits today" in page
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert 'role="img"' in svg
    assert 'aria-labelledby="fill-chart-title fill-chart-desc"' in svg
    assert '<title id="fill-chart-title">' in svg
    assert "Cardiology: 10%." in svg
    assert "General practice: 5.8%." in svg
    assert "Dermatology: no hours." in svg
    assert "style=" not in svg  # the CSP forbids inline styles
    # Bars are 420 units at 100%.
    widths = re.findall(r'class="fill-value" fill="[^"]+"', svg)
    assert len(widths) == 4
    assert 'width="42.0" height="22" class="fill-value"' in svg
    table = page[page.index('<table id="fill-table">') : page.index("</table>")]
    assert "<caption>" in table
    rows = re.findall(
        r'<tr>\s*<th scope="row">([^<]+)</th>'
        r"\s*<td>(\d+)</td>\s*<td>(\d+)</td>\s*<td>([^<]+)</td>",
        table,
    )
    assert rows == [
        ("Cardiology", "8", "80", "10%"),
        ("Dermatology", "0", "0", "no hours"),
        ("General practice", "14", "240", "5.8%"),
        ("Neurology", "5", "50", "10%"),
    ]


def test_a_weekend_morning_still_sees_a_whole_week(
    db, admin, make_clinic, make_department, make_doctor
):
    department = make_department(code="cardiology")
    make_doctor(clinic=make_clinic(timezone="UTC"), departments=[department])
    saturday = datetime(2030, 3, 9, 8, tzinfo=UTC)
    [row] = services.schedule_fill(actor=admin, now=saturday)
    assert row.capacity == 80


def test_the_fill_is_for_admins_only(db, doctor):
    from portal.errors import NotAllowed

    with pytest.raises(NotAllowed):
        services.schedule_fill(actor=doctor.user, now=utcnow())
