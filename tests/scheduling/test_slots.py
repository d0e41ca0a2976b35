"""Slot arithmetic: weekly hours, daylight-saving days, time off, bookings and limits."""

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from operator import add
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.scheduling.slots import (
    Busy,
    Slot,
    WeeklyInterval,
    compute_slots,
    day_bounds,
    day_of,
    resolve_wall_time,
    slot_at,
)

NEW_YORK = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
MON, SUN = 0, 6
MONDAY = date(2026, 1, 5)  # an ordinary winter Monday: Paris is UTC+1
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def at(day: date, hour: int, minute: int = 0, tz: ZoneInfo = PARIS) -> datetime:
    """An aware instant for an unambiguous wall-clock reading."""
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def hours_on(weekday: int, *spans: tuple[str, str]) -> list[WeeklyInterval]:
    return [
        WeeklyInterval(weekday, time.fromisoformat(start), time.fromisoformat(end))
        for start, end in spans
    ]


def slots(hours, day, tz=PARIS, *, last_day=None, **options) -> list[Slot]:
    """compute_slots with permissive defaults, so each test states only what it is about."""
    arguments = {
        "time_off": (),
        "busy": (),
        "slot_minutes": 30,
        "seats": 1,
        "min_notice": timedelta(0),
        "horizon": timedelta(days=365 * 100),
        "max_per_day": None,
        "now": LONG_AGO,
    } | options
    return compute_slots(hours=hours, first_day=day, last_day=last_day or day, tz=tz, **arguments)


def walls(found: list[Slot], tz: ZoneInfo) -> list[str]:
    """Clinic wall-clock starts with their UTC offset, which tells the two 01:30s apart."""
    return [slot.start.astimezone(tz).strftime("%H:%M%z") for slot in found]


def starts(found: list[Slot]) -> list[datetime]:
    return [slot.start for slot in found]


# --- an ordinary day ---------------------------------------------------------------------------


def test_weekly_hours_become_utc_slots_with_the_lunch_break_left_out():
    hours = hours_on(MON, ("09:00", "12:00"), ("13:00", "17:00"))

    found = slots(hours, MONDAY, seats=2)

    morning = [utc(2026, 1, 5, 8, 0) + timedelta(minutes=30 * i) for i in range(6)]
    afternoon = [utc(2026, 1, 5, 12, 0) + timedelta(minutes=30 * i) for i in range(8)]
    assert starts(found) == morning + afternoon
    assert all(slot.end - slot.start == timedelta(minutes=30) for slot in found)
    assert {slot.seats_left for slot in found} == {2}
    assert {slot.local_date for slot in found} == {MONDAY}
    assert all(slot.start.tzinfo is UTC and slot.end.tzinfo is UTC for slot in found)


def test_summer_hours_follow_the_clinic_clock_not_utc():
    found = slots(hours_on(MON, ("09:00", "10:00")), date(2026, 7, 6))

    assert starts(found) == [utc(2026, 7, 6, 7, 0), utc(2026, 7, 6, 7, 30)]


def test_hours_apply_only_on_their_weekday():
    hours = hours_on(MON, ("09:00", "10:00"))

    found = slots(hours, MONDAY, last_day=MONDAY + timedelta(days=13))

    assert sorted({slot.local_date for slot in found}) == [MONDAY, MONDAY + timedelta(days=7)]
    assert len(found) == 4


def test_a_remainder_shorter_than_a_slot_is_not_offered():
    found = slots(hours_on(MON, ("09:00", "10:45")), MONDAY)

    assert walls(found, PARIS) == ["09:00+0100", "09:30+0100", "10:00+0100"]


def test_overlapping_hours_never_give_duplicate_or_overlapping_slots():
    overlapping = hours_on(MON, ("09:00", "11:00"), ("10:15", "12:00"), ("09:00", "11:00"))

    found = slots(overlapping, MONDAY)

    assert walls(found, PARIS) == [
        "09:00+0100",
        "09:30+0100",
        "10:00+0100",
        "10:30+0100",
        "11:15+0100",
    ]


def test_a_reversed_date_range_is_rejected():
    with pytest.raises(ValueError, match="after"):
        slots([], MONDAY, last_day=MONDAY - timedelta(days=1))


# --- daylight saving ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day", "expected"),
    [
        pytest.param(
            NEW_YORK,
            date(2026, 3, 8),
            ["00:00-0500", "01:00-0500", "03:00-0400", "04:00-0400", "05:00-0400"],
            id="new-york",
        ),
        pytest.param(
            PARIS,
            date(2026, 3, 29),
            ["00:00+0100", "01:00+0100", "03:00+0200", "04:00+0200", "05:00+0200"],
            id="paris",
        ),
    ],
)
def test_spring_forward_offers_no_slot_in_the_skipped_hour(tz, day, expected):
    found = slots(hours_on(SUN, ("00:00", "06:00")), day, tz, slot_minutes=60)

    assert walls(found, tz) == expected
    assert all(slot.end - slot.start == timedelta(hours=1) for slot in found)


def test_spring_forward_by_half_an_hour_on_lord_howe():
    found = slots(hours_on(SUN, ("00:00", "04:00")), date(2026, 10, 4), LORD_HOWE)

    assert [wall[:5] for wall in walls(found, LORD_HOWE)] == [
        "00:00",
        "00:30",
        "01:00",
        "01:30",
        "02:30",
        "03:00",
        "03:30",
    ]
    assert all(slot.end - slot.start == timedelta(minutes=30) for slot in found)


def test_fall_back_offers_the_repeated_hour_once_per_real_hour():
    found = slots(hours_on(SUN, ("00:00", "04:00")), date(2026, 11, 1), NEW_YORK, slot_minutes=60)

    assert starts(found) == [utc(2026, 11, 1, hour) for hour in range(4, 9)]
    assert walls(found, NEW_YORK) == [
        "00:00-0400",
        "01:00-0400",
        "01:00-0500",
        "02:00-0500",
        "03:00-0500",
    ]
    assert all(a.end <= b.start for a, b in pairwise(found))


def test_fall_back_by_half_an_hour_on_lord_howe():
    found = slots(hours_on(SUN, ("00:00", "03:00")), date(2026, 4, 5), LORD_HOWE)

    first = utc(2026, 4, 4, 13, 0)
    assert starts(found) == [first + timedelta(minutes=30 * i) for i in range(7)]
    assert walls(found, LORD_HOWE) == [
        "00:00+1100",
        "00:30+1100",
        "01:00+1100",
        "01:30+1100",
        "01:30+1030",
        "02:00+1030",
        "02:30+1030",
    ]


@pytest.mark.parametrize(
    ("tz", "day", "wall", "expected"),
    [
        pytest.param(NEW_YORK, date(2026, 3, 8), "02:30", utc(2026, 3, 8, 7), id="ny-gap"),
        pytest.param(NEW_YORK, date(2026, 3, 8), "02:00", utc(2026, 3, 8, 7), id="ny-gap-start"),
        pytest.param(NEW_YORK, date(2026, 3, 8), "03:00", utc(2026, 3, 8, 7), id="ny-gap-end"),
        pytest.param(NEW_YORK, date(2026, 3, 8), "01:59", utc(2026, 3, 8, 6, 59), id="ny-pre-gap"),
        pytest.param(NEW_YORK, date(2026, 11, 1), "01:30", utc(2026, 11, 1, 5, 30), id="ny-fold"),
        pytest.param(NEW_YORK, date(2026, 11, 1), "02:00", utc(2026, 11, 1, 7), id="ny-post-fold"),
        pytest.param(PARIS, date(2026, 3, 29), "02:15", utc(2026, 3, 29, 1), id="paris-gap"),
        pytest.param(PARIS, date(2026, 10, 25), "02:30", utc(2026, 10, 25, 0, 30), id="paris-fold"),
        pytest.param(
            LORD_HOWE, date(2026, 10, 4), "02:15", utc(2026, 10, 3, 15, 30), id="lord-howe-gap"
        ),
        pytest.param(
            LORD_HOWE, date(2026, 4, 5), "01:45", utc(2026, 4, 4, 14, 45), id="lord-howe-fold"
        ),
        pytest.param(
            LORD_HOWE, date(2026, 4, 5), "01:29", utc(2026, 4, 4, 14, 29), id="lord-howe-pre-fold"
        ),
        pytest.param(
            ZoneInfo("America/St_Johns"),
            date(2026, 3, 8),
            "02:30",
            utc(2026, 3, 8, 5, 30),
            id="st-johns-gap",
        ),
        pytest.param(
            ZoneInfo("Asia/Kolkata"), date(2026, 3, 8), "02:30", utc(2026, 3, 7, 21), id="kolkata"
        ),
    ],
)
def test_resolve_wall_time(tz, day, wall, expected):
    resolved = resolve_wall_time(day, time.fromisoformat(wall), tz)

    assert resolved == expected
    assert resolved.tzinfo is UTC


@pytest.mark.parametrize(
    ("tz", "day", "length"),
    [
        pytest.param(NEW_YORK, date(2026, 3, 8), timedelta(hours=23), id="ny-spring"),
        pytest.param(NEW_YORK, date(2026, 11, 1), timedelta(hours=25), id="ny-fall"),
        pytest.param(LORD_HOWE, date(2026, 10, 4), timedelta(hours=23.5), id="lord-howe-spring"),
        pytest.param(LORD_HOWE, date(2026, 4, 5), timedelta(hours=24.5), id="lord-howe-fall"),
        pytest.param(PARIS, MONDAY, timedelta(hours=24), id="ordinary"),
    ],
)
def test_day_bounds_follow_the_clinic_calendar(tz, day, length):
    start, end = day_bounds(day, tz)

    assert end - start == length
    assert start == datetime.combine(day, time(0), tzinfo=tz)
    assert end == day_bounds(day + timedelta(days=1), tz)[0]


# --- time off, notice and horizon --------------------------------------------------------------


def test_time_off_removes_only_the_slots_it_overlaps():
    hours = hours_on(MON, ("09:00", "12:00"))
    time_off = [
        (at(MONDAY, 10, 15), at(MONDAY, 11, 0)),
        (at(MONDAY, 8, 0), at(MONDAY, 9, 0)),  # ends as the first slot starts
        (at(MONDAY, 12, 0), at(MONDAY, 13, 0)),  # starts as the last slot ends
    ]

    found = slots(hours, MONDAY, time_off=time_off)

    assert walls(found, PARIS) == ["09:00+0100", "09:30+0100", "11:00+0100", "11:30+0100"]


def test_minimum_notice_keeps_a_slot_starting_exactly_at_the_edge():
    hours = hours_on(MON, ("09:00", "12:00"))
    now = at(MONDAY, 8, 0)

    edge = slots(hours, MONDAY, now=now, min_notice=timedelta(hours=2))
    past_edge = slots(hours, MONDAY, now=now, min_notice=timedelta(hours=2, seconds=1))

    assert walls(edge, PARIS)[0] == "10:00+0100"
    assert len(edge) == 4
    assert walls(past_edge, PARIS)[0] == "10:30+0100"


def test_horizon_keeps_a_slot_starting_exactly_at_the_edge():
    hours = hours_on(MON, ("09:00", "12:00"))
    now = at(MONDAY - timedelta(days=7), 10, 0)

    edge = slots(hours, MONDAY, now=now, horizon=timedelta(days=7))
    short_of_edge = slots(hours, MONDAY, now=now, horizon=timedelta(days=7, seconds=-1))

    assert walls(edge, PARIS) == ["09:00+0100", "09:30+0100", "10:00+0100"]
    assert walls(short_of_edge, PARIS) == ["09:00+0100", "09:30+0100"]


def test_notice_is_real_time_even_when_now_is_given_in_the_clinic_zone():
    # 24 hours after noon EST on the eve of spring-forward is 13:00 EDT, not 12:00
    hours = hours_on(SUN, ("09:00", "17:00"))
    now = datetime(2026, 3, 7, 12, 0, tzinfo=NEW_YORK)

    found = slots(
        hours,
        date(2026, 3, 8),
        NEW_YORK,
        slot_minutes=60,
        now=now,
        min_notice=timedelta(hours=24),
        horizon=timedelta(hours=27),
    )

    assert walls(found, NEW_YORK) == ["13:00-0400", "14:00-0400", "15:00-0400", "16:00-0400"]


def test_now_in_another_zone_is_compared_as_an_instant():
    hours = hours_on(MON, ("09:00", "12:00"))
    now_in_tokyo = at(MONDAY, 8, 0).astimezone(ZoneInfo("Asia/Tokyo"))

    found = slots(hours, MONDAY, now=now_in_tokyo, min_notice=timedelta(hours=2))

    assert walls(found, PARIS)[0] == "10:00+0100"


# --- bookings and limits -----------------------------------------------------------------------


def test_bookings_at_a_slot_start_use_up_its_seats():
    hours = hours_on(MON, ("09:00", "10:30"))
    nine = at(MONDAY, 9, 0)
    booking = Busy(nine, nine + timedelta(minutes=30))

    two_booked = slots(hours, MONDAY, seats=3, busy=[booking] * 2)
    three_booked = slots(hours, MONDAY, seats=3, busy=[booking] * 3)

    assert walls(two_booked, PARIS) == ["09:00+0100", "09:30+0100", "10:00+0100"]
    assert [slot.seats_left for slot in two_booked] == [1, 3, 3]
    assert walls(three_booked, PARIS) == ["09:30+0100", "10:00+0100"]


def test_a_booking_in_any_zone_counts_as_the_same_instant():
    hours = hours_on(MON, ("09:00", "10:00"))
    nine_in_new_york = at(MONDAY, 9, 0).astimezone(NEW_YORK)
    booking = Busy(nine_in_new_york, nine_in_new_york + timedelta(minutes=30))

    found = slots(hours, MONDAY, seats=2, busy=[booking])

    assert [slot.seats_left for slot in found] == [1, 2]


@pytest.mark.parametrize("seats", [1, 3])
def test_a_booking_off_the_slot_grid_blocks_both_slots_it_touches(seats):
    hours = hours_on(MON, ("09:00", "11:00"))
    shifted = Busy(at(MONDAY, 9, 15), at(MONDAY, 9, 45))

    found = slots(hours, MONDAY, seats=seats, busy=[shifted])

    assert walls(found, PARIS) == ["10:00+0100", "10:30+0100"]


def test_a_longer_booking_blocks_both_slots_it_covers():
    hours = hours_on(MON, ("09:00", "11:00"))
    longer = Busy(at(MONDAY, 9, 0), at(MONDAY, 10, 0))

    found = slots(hours, MONDAY, busy=[longer])

    assert walls(found, PARIS) == ["10:00+0100", "10:30+0100"]


def test_a_booking_that_started_earlier_blocks_a_slot_even_with_seats_to_spare():
    hours = hours_on(MON, ("09:00", "11:00"))
    long_booking = Busy(at(MONDAY, 9, 0), at(MONDAY, 10, 0))

    found = slots(hours, MONDAY, seats=4, busy=[long_booking])

    assert [(slot.start, slot.seats_left) for slot in found] == [
        (at(MONDAY, 9, 0), 3),
        (at(MONDAY, 10, 0), 4),
        (at(MONDAY, 10, 30), 4),
    ]


def test_a_full_day_has_no_slots_but_the_next_day_does():
    tuesday = MONDAY + timedelta(days=1)
    hours = hours_on(MON, ("09:00", "12:00")) + hours_on(MON + 1, ("09:00", "12:00"))
    monday_bookings = [Busy(at(MONDAY, h), at(MONDAY, h, 30)) for h in (9, 10)]
    # 00:30 Tuesday in Paris is still Monday in UTC: it counts for Tuesday
    early_tuesday = [Busy(at(tuesday, 0, 30), at(tuesday, 1, 0))]

    full = slots(
        hours, MONDAY, last_day=tuesday, busy=monday_bookings + early_tuesday, max_per_day=2
    )
    one_short = slots(
        hours, MONDAY, last_day=tuesday, busy=monday_bookings[:1] + early_tuesday, max_per_day=2
    )

    assert {slot.local_date for slot in full} == {tuesday}
    assert len(full) == 6
    assert {slot.local_date for slot in one_short} == {MONDAY, tuesday}
    assert len(one_short) == 11


# --- properties --------------------------------------------------------------------------------

ZONES = [
    "America/New_York",
    "Europe/Paris",
    "Australia/Lord_Howe",
    "UTC",
    "Asia/Kolkata",
    "America/St_Johns",
]
DST_DAYS = [
    date(2026, 3, 8),
    date(2026, 11, 1),
    date(2026, 3, 29),
    date(2026, 10, 25),
    date(2026, 4, 5),
    date(2026, 10, 4),
]
zones = st.sampled_from(ZONES).map(ZoneInfo)
days = st.one_of(st.sampled_from(DST_DAYS), st.dates(date(2025, 1, 1), date(2027, 12, 31)))


@st.composite
def weekly_hours(draw) -> list[WeeklyInterval]:
    """Non-overlapping intervals per weekday, on a five-minute grid; some days closed."""
    hours = []
    for weekday in range(7):
        if draw(st.booleans()):
            continue
        marks = draw(st.lists(st.integers(0, 24 * 12 - 1), min_size=2, max_size=6, unique=True))
        marks = [time(mark // 12, mark % 12 * 5) for mark in sorted(marks)[: len(marks) // 2 * 2]]
        hours += [
            WeeklyInterval(weekday, start, end)
            for start, end in zip(marks[::2], marks[1::2], strict=True)
        ]
    return hours


def ranges_for(hours, day, tz) -> list[tuple[datetime, datetime]]:
    return [
        (resolve_wall_time(day, interval.start, tz), resolve_wall_time(day, interval.end, tz))
        for interval in hours
        if interval.weekday == day.weekday()
    ]


def overlaps(a_start, a_end, b_start, b_end) -> bool:
    return a_start < b_end and b_start < a_end


def reference_slots(hours, time_off, busy, first_day, last_day, tz, length, seats, limits):
    """The rules read literally, slot by slot and booking by booking (all instants in UTC)."""
    earliest = limits["now"] + limits["min_notice"]
    latest = limits["now"] + limits["horizon"]
    expected = []
    for offset in range((last_day - first_day).days + 1):
        day = first_day + timedelta(days=offset)
        day_start, day_end = day_bounds(day, tz)
        booked = sum(day_start <= start < day_end for start, _ in busy)
        if limits["max_per_day"] is not None and booked >= limits["max_per_day"]:
            continue
        for range_start, range_end in ranges_for(hours, day, tz):
            for i in range((range_end - range_start) // length):
                start = range_start + i * length
                end = start + length
                hits = [b_start for b_start, b_end in busy if overlaps(start, end, b_start, b_end)]
                if (
                    earliest <= start <= latest
                    and not any(overlaps(start, end, *off) for off in time_off)
                    and all(b_start == start for b_start in hits)
                    and len(hits) < seats
                ):
                    expected.append(Slot(start, end, seats - len(hits), day))
    return sorted(expected, key=lambda slot: slot.start)


def in_utc(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    # Aware datetimes in a fold never compare equal to another zone's, so compare in UTC.
    return start.astimezone(UTC), end.astimezone(UTC)


@settings(max_examples=150, deadline=None)
@given(tz=zones, day=days, wall=st.times())
def test_resolve_wall_time_is_the_first_instant_the_clock_shows_that_reading(tz, day, wall):
    resolved = resolve_wall_time(day, wall, tz)
    reading = datetime.combine(day, wall)

    def clock(instant: datetime) -> datetime:
        return instant.astimezone(tz).replace(tzinfo=None)

    assert resolved.tzinfo is UTC
    assert reading <= clock(resolved) < reading + timedelta(hours=3)
    assert clock(resolved - timedelta(microseconds=1)) < reading
    once_or_twice = [
        instant
        for instant in (reading.replace(tzinfo=tz, fold=f).astimezone(UTC) for f in (0, 1))
        if clock(instant) == reading
    ]
    if once_or_twice:
        assert resolved == min(once_or_twice)
    start, end = day_bounds(day, tz)
    assert timedelta(hours=22) <= end - start <= timedelta(hours=26)
    assert start <= resolved <= end


@settings(max_examples=150, deadline=None)
@given(
    tz=zones,
    anchor=days,
    hours=weekly_hours(),
    slot_minutes=st.one_of(st.sampled_from([15, 30, 45, 60]), st.integers(5, 480)),
    seats=st.integers(1, 4),
    data=st.data(),
)
def test_offered_slots_obey_every_scheduling_rule(tz, anchor, hours, slot_minutes, seats, data):
    first_day = anchor - timedelta(days=data.draw(st.integers(0, 6), label="lead"))
    last_day = first_day + timedelta(days=data.draw(st.integers(0, 13), label="span"))
    length = timedelta(minutes=slot_minutes)
    window_start, window_end = day_bounds(first_day, tz)[0], day_bounds(last_day, tz)[1]
    window_minutes = (window_end - window_start) // timedelta(minutes=1)
    # UTC instants on a five-minute grid from a day before the window to a day after it
    instants = st.integers(-24 * 12, window_minutes // 5 + 24 * 12).map(
        lambda n: window_start + timedelta(minutes=5 * n)
    )
    shown_in = st.sampled_from([UTC, tz, ZoneInfo("Asia/Tokyo")])
    durations = st.integers(1, 4 * 24 * 12).map(lambda n: timedelta(minutes=5 * n))
    grid = [
        start
        for offset in range((last_day - first_day).days + 1)
        for range_start, range_end in ranges_for(hours, first_day + timedelta(days=offset), tz)
        for start in (range_start + length * i for i in range((range_end - range_start) // length))
    ]
    near_grid = st.sampled_from(grid) if grid else instants
    minutes = st.integers(-24, 24).map(lambda n: timedelta(minutes=5 * n))
    in_slot = st.tuples(near_grid, st.integers(1, 4))  # bookings made on the current grid
    off_grid = st.tuples(st.one_of(instants, st.builds(add, near_grid, minutes)), durations)
    busy_utc = [
        (start, start + length)
        for start, count in data.draw(st.lists(in_slot, max_size=6), label="in slot")
        for _ in range(count)
    ]
    busy_utc += [(start, start + d) for start, d in data.draw(st.lists(off_grid, max_size=3))]
    busy = []
    for start, end in busy_utc:
        zone = data.draw(shown_in)
        busy.append(Busy(start.astimezone(zone), end.astimezone(zone)))
    off_spans = data.draw(st.lists(st.tuples(instants, durations), max_size=3), label="time off")
    time_off = [(start.astimezone(tz), start + d) for start, d in off_spans]
    now = data.draw(st.one_of(instants, st.just(window_start - timedelta(days=1))), label="now")
    limits = {
        "now": now,
        "min_notice": data.draw(st.one_of(st.just(timedelta(0)), durations), label="notice"),
        "horizon": data.draw(st.one_of(st.just(timedelta(days=20)), durations), label="horizon"),
        "max_per_day": data.draw(st.none() | st.integers(1, 6), label="max per day"),
    }

    found = compute_slots(
        hours=hours,
        time_off=time_off,
        busy=busy,
        first_day=first_day,
        last_day=last_day,
        tz=tz,
        slot_minutes=slot_minutes,
        seats=seats,
        **limits | {"now": limits["now"].astimezone(data.draw(shown_in, label="now zone"))},
    )

    time_off = [in_utc(*off) for off in time_off]
    assert [slot.start for slot in found] == sorted({slot.start for slot in found})
    for before, after in pairwise(found):
        assert before.end <= after.start
    earliest = limits["now"] + limits["min_notice"]
    latest = limits["now"] + limits["horizon"]
    for slot in found:
        assert slot.start.tzinfo is UTC
        assert slot.end.tzinfo is UTC
        assert slot.end - slot.start == length
        assert first_day <= slot.local_date <= last_day
        assert any(
            start <= slot.start and slot.end <= end
            for start, end in ranges_for(hours, slot.local_date, tz)
        )
        assert not any(overlaps(slot.start, slot.end, *off) for off in time_off)
        hits = [start for start, end in busy_utc if overlaps(slot.start, slot.end, start, end)]
        assert all(start == slot.start for start in hits)
        assert 1 <= slot.seats_left <= seats
        assert slot.seats_left == seats - sum(start == slot.start for start, _ in busy_utc)
        assert earliest <= slot.start <= latest
        if limits["max_per_day"] is not None:
            day_start, day_end = day_bounds(slot.local_date, tz)
            booked = sum(day_start <= start < day_end for start, _ in busy_utc)
            assert booked < limits["max_per_day"]
        local = slot.start.astimezone(tz)
        assert local.date() == slot.local_date
        round_trip = local.replace(tzinfo=None).replace(tzinfo=tz, fold=local.fold)
        assert round_trip.astimezone(UTC) == slot.start
    # and nothing the rules allow is missing
    assert found == reference_slots(
        hours, time_off, busy_utc, first_day, last_day, tz, length, seats, limits
    )


@st.composite
def overlapping_hours(draw) -> list[WeeklyInterval]:
    """Intervals that may overlap one another, as a doctor's hours may."""
    hours = []
    for weekday in draw(st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True)):
        for _ in range(draw(st.integers(1, 3))):
            first, second = sorted(
                draw(st.lists(st.integers(0, 24 * 12 - 1), min_size=2, max_size=2, unique=True))
            )
            hours.append(
                WeeklyInterval(
                    weekday, time(first // 12, first % 12 * 5), time(second // 12, second % 12 * 5)
                )
            )
    return hours


# A zone whose clocks change at midnight, so a day may begin at 01:00 or last 25 hours.
SANTIAGO_DAYS = [date(2026, 4, 4), date(2026, 9, 5)]


@settings(max_examples=150, deadline=None)
@given(
    tz=st.sampled_from([*ZONES, "America/Santiago"]).map(ZoneInfo),
    anchor=st.one_of(days, st.sampled_from(SANTIAGO_DAYS)),
    hours=weekly_hours() | overlapping_hours(),
    slot_minutes=st.one_of(st.sampled_from([15, 30, 45, 60]), st.integers(5, 480)),
    seats=st.integers(1, 3),
    data=st.data(),
)
def test_one_start_is_bookable_exactly_when_the_listing_offers_it(
    tz, anchor, hours, slot_minutes, seats, data
):
    """Booking checks the one start asked for; the picker lists days of slots. Both must
    give the same answer for every start, on any schedule."""
    first_day = anchor - timedelta(days=data.draw(st.integers(0, 2), label="lead"))
    last_day = first_day + timedelta(days=data.draw(st.integers(0, 3), label="span"))
    length = timedelta(minutes=slot_minutes)
    window_start, window_end = day_bounds(first_day, tz)[0], day_bounds(last_day, tz)[1]
    five_minutes = st.integers(-12, (window_end - window_start) // timedelta(minutes=5) + 12)
    instants = five_minutes.map(lambda n: window_start + timedelta(minutes=5 * n))
    grid = [
        start
        for offset in range((last_day - first_day).days + 1)
        for range_start, range_end in ranges_for(hours, first_day + timedelta(days=offset), tz)
        for start in (range_start + length * i for i in range((range_end - range_start) // length))
    ]
    near_grid = st.sampled_from(grid) if grid else instants
    durations = st.integers(1, 2 * 24 * 12).map(lambda n: timedelta(minutes=5 * n))
    busy = [
        Busy(start, start + length)
        for start in data.draw(st.lists(near_grid, max_size=8), label="in slot")
    ]
    busy += [
        Busy(start, start + d)
        for start, d in data.draw(st.lists(st.tuples(instants, durations), max_size=2))
    ]
    time_off = data.draw(st.lists(st.tuples(instants, durations), max_size=2), label="off")
    time_off = [(start, start + d) for start, d in time_off]
    rules = {
        "tz": tz,
        "slot_minutes": slot_minutes,
        "seats": seats,
        "min_notice": data.draw(st.just(timedelta(0)) | durations, label="notice"),
        "horizon": data.draw(st.just(timedelta(days=20)) | durations, label="horizon"),
        "max_per_day": data.draw(st.none() | st.integers(1, 4), label="max per day"),
        "now": data.draw(instants | st.just(window_start - timedelta(days=1)), label="now"),
    }
    listed = compute_slots(
        hours=hours,
        time_off=time_off,
        busy=busy,
        first_day=first_day,
        last_day=last_day,
        **rules,
    )
    offered = {slot.start: slot for slot in listed}
    asked = [*grid, *offered, *data.draw(st.lists(instants, max_size=10), label="others")]
    for start in asked:
        if not first_day <= day_of(start, tz) <= last_day:
            continue
        shown = start.astimezone(data.draw(st.sampled_from([UTC, tz]), label="asked in"))
        found = slot_at(shown, hours=hours, time_off=time_off, busy=busy, **rules)
        assert found == offered.get(start), (start, found)


@pytest.mark.parametrize(
    ("tz", "instant", "day"),
    [
        (PARIS, utc(2026, 1, 5, 23, 30), date(2026, 1, 6)),
        # Santiago skips its midnight: 2026-09-06 begins at 01:00, 04:00 UTC.
        (ZoneInfo("America/Santiago"), utc(2026, 9, 6, 4, 0), date(2026, 9, 6)),
        (ZoneInfo("America/Santiago"), utc(2026, 9, 6, 3, 59), date(2026, 9, 5)),
    ],
)
def test_day_of_is_the_clinic_day_that_holds_the_instant(tz, instant, day):
    assert day_of(instant, tz) == day
