"""Bookable appointment slots from weekly hours, time off and existing appointments.

Pure arithmetic: no database, no Flask and no clock reads (``now`` is a parameter). Weekly
hours are wall-clock times in the clinic's zone; every datetime returned is aware UTC.

Wall-clock rule (daylight-saving changes): a reading is resolved to the first instant at
which the clinic's clock shows it. A reading that occurs twice (fall-back fold) therefore
means the earlier instant, and one skipped by a spring-forward gap means the transition
itself (New York 2026-03-08 02:30 -> 07:00Z, i.e. 03:00 EDT).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import accumulate
from zoneinfo import ZoneInfo

__all__ = [
    "Busy",
    "Slot",
    "WeeklyInterval",
    "bookable",
    "compute_slots",
    "day_bounds",
    "day_grid",
    "day_of",
    "open_slots",
    "resolve_wall_time",
    "slot_at",
]

_DAWN = datetime.min.replace(tzinfo=UTC)
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class WeeklyInterval:
    """One interval of a doctor's weekly hours, in clinic wall-clock time."""

    weekday: int  # 0 = Monday .. 6 = Sunday
    start: time
    end: time  # later than start on the same day; no overnight intervals


@dataclass(frozen=True)
class Busy:
    """An active (not cancelled) appointment; aware datetimes in any zone."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable slot between two aware UTC instants."""

    start: datetime
    end: datetime
    seats_left: int
    local_date: date  # the clinic-local date the slot was generated for


def _wall(moment: datetime, tz: ZoneInfo) -> datetime:
    """Naive reading of the clinic's clock at an instant."""
    return moment.astimezone(tz).replace(tzinfo=None, fold=0)


# Pure and asked the same few questions over and over (every interval of every day of a
# two-week strip, on every request), so the answers are kept.
@lru_cache(maxsize=65536)
def resolve_wall_time(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """UTC instant at which the clinic's clock first shows `wall` on `day`."""
    naive = datetime.combine(day, wall.replace(tzinfo=None, fold=0))
    # zoneinfo applies the pre-transition offset for fold=0 and the post-transition one for
    # fold=1; a candidate is real only if the clock reads `naive` at that instant.
    candidates = sorted(naive.replace(tzinfo=tz, fold=f).astimezone(UTC) for f in (0, 1))
    real = [moment for moment in candidates if _wall(moment, tz) == naive]
    if real:
        return real[0]
    # Skipped reading: the two candidates straddle the jump, so bisect for the first instant
    # at which the clock is at or past `naive`. zoneinfo exposes no transition table.
    before, after = candidates
    while after - before > _TICK:
        middle = before + (after - before) / 2
        if _wall(middle, tz) >= naive:
            after = middle
        else:
            before = middle
    return after


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants [start, end) of a clinic-local calendar day (23h, 24h, 24.5h, 25h, ...)."""
    next_day = day + timedelta(days=1)
    return resolve_wall_time(day, time(0), tz), resolve_wall_time(next_day, time(0), tz)


def _index(ranges: Iterable[tuple[datetime, datetime]]) -> tuple[list[datetime], list[datetime]]:
    """Sorted starts of the non-empty ranges, plus reach[i] = latest end among the first i."""
    ordered = sorted((start.astimezone(UTC), end.astimezone(UTC)) for start, end in ranges)
    ordered = [(start, end) for start, end in ordered if end > start]  # empty ranges block nothing
    starts = [start for start, _ in ordered]
    reach = list(accumulate((end for _, end in ordered), max, initial=_DAWN))
    return starts, reach


def compute_slots(
    *,
    hours: Iterable[WeeklyInterval],
    time_off: Iterable[tuple[datetime, datetime]],
    busy: Iterable[Busy],
    first_day: date,
    last_day: date,
    tz: ZoneInfo,
    slot_minutes: int,
    seats: int,
    min_notice: timedelta,
    horizon: timedelta,
    max_per_day: int | None,
    now: datetime,
) -> list[Slot]:
    """Bookable slots for clinic-local dates first_day..last_day (inclusive), ordered by start."""
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    slots = open_slots(
        hours=hours,
        time_off=time_off,
        busy=busy,
        first_day=first_day,
        last_day=last_day,
        tz=tz,
        slot_minutes=slot_minutes,
        seats=seats,
        max_per_day=max_per_day,
    )
    return bookable(slots, now=now, min_notice=min_notice, horizon=horizon)


def bookable(
    slots: list[Slot],
    *,
    now: datetime,
    min_notice: timedelta,
    horizon: timedelta,
    starts: list[datetime] | None = None,
) -> list[Slot]:
    """The slots (ordered by start, as open_slots gives them) that start between
    now + min_notice and now + horizon, both included. `starts`, the slots' starts, saves
    listing them again when the same slots are asked about often."""
    # In UTC, because adding to a zoned datetime moves its wall clock, not real time.
    now = now.astimezone(UTC)
    if starts is None:
        starts = [slot.start for slot in slots]
    first = bisect_left(starts, now + min_notice)
    last = bisect_right(starts, now + horizon)
    return slots[first:last]


def open_slots(
    *,
    hours: Iterable[WeeklyInterval],
    time_off: Iterable[tuple[datetime, datetime]],
    busy: Iterable[Busy],
    first_day: date,
    last_day: date,
    tz: ZoneInfo,
    slot_minutes: int,
    seats: int,
    max_per_day: int | None,
) -> list[Slot]:
    """Free slots for clinic-local dates first_day..last_day (inclusive), ordered by start,
    whatever the time now: compute_slots is these, less the ones too soon or too far off.
    They depend only on the schedule, so they can be kept until the schedule changes."""
    if first_day > last_day:
        raise ValueError(f"first_day {first_day} is after last_day {last_day}")
    length = timedelta(minutes=slot_minutes)

    by_weekday: defaultdict[int, list[WeeklyInterval]] = defaultdict(list)
    for interval in hours:
        by_weekday[interval.weekday].append(interval)
    busy = list(busy)
    booked_starts = sorted(appointment.start.astimezone(UTC) for appointment in busy)
    taken = _index((appointment.start, appointment.end) for appointment in busy)
    off = _index(time_off)

    slots: list[Slot] = []
    for offset in range((last_day - first_day).days + 1):
        day = first_day + timedelta(days=offset)
        intervals = by_weekday[day.weekday()]
        if not intervals or _day_is_full(day, tz, booked_starts, max_per_day):
            continue
        for start in day_grid(day, intervals, tz, length):
            seats_left = _seats_left(start, start + length, seats, off, taken)
            if seats_left > 0:
                slots.append(Slot(start, start + length, seats_left, day))
    return slots


def day_grid(
    day: date, intervals: Iterable[WeeklyInterval], tz: ZoneInfo, length: timedelta
) -> list[datetime]:
    """The starts of the slots the hours of `day` (its weekday's intervals) offer before
    anything is booked or taken off, ordered. Every one lies within the day's bounds."""
    grid: list[datetime] = []
    for interval in intervals:
        start = resolve_wall_time(day, interval.start, tz)
        end = resolve_wall_time(day, interval.end, tz)
        # Absolute steps, so DST days get no phantom or duplicated hour.
        while start + length <= end:
            grid.append(start)
            start += length
    grid.sort()
    kept: list[datetime] = []
    kept_until = _DAWN
    for start in grid:
        # Overlapping hours must not yield overlapping slots. Decided before any other
        # rule, so the offered grid does not shift as `now` or bookings change.
        if start >= kept_until:
            kept.append(start)
            kept_until = start + length
    return kept


def _day_is_full(day, tz, booked_starts, max_per_day):
    if max_per_day is None:
        return False
    day_start, day_end = day_bounds(day, tz)
    booked = bisect_left(booked_starts, day_end) - bisect_left(booked_starts, day_start)
    return booked >= max_per_day


def _seats_left(start, end, seats, off, taken):
    """Seats still free in the slot [start, end): 0 when time off or an appointment that
    is not in this very slot overlaps it."""
    off_starts, off_reach = off
    if off_reach[bisect_left(off_starts, end)] > start:
        return 0
    busy_starts, busy_reach = taken
    first = bisect_left(busy_starts, start)
    after = bisect_left(busy_starts, end)
    # An appointment that is not in this very slot (it began earlier, or later inside it,
    # e.g. booked under another slot length) makes the whole slot unavailable.
    if busy_reach[first] > start or (after > first and busy_starts[after - 1] != start):
        return 0
    return seats - (after - first)


def day_of(instant: datetime, tz: ZoneInfo) -> date:
    """The clinic-local day whose bounds hold the instant: the day whose hours may offer
    a slot starting then (usually, but not on every DST day, its local date)."""
    local = instant.astimezone(tz).date()
    for day in (local, local - timedelta(days=1), local + timedelta(days=1)):
        day_start, day_end = day_bounds(day, tz)
        if day_start <= instant < day_end:
            return day
    return local


def slot_at(
    start: datetime,
    *,
    hours: Iterable[WeeklyInterval],
    time_off: Iterable[tuple[datetime, datetime]],
    busy: Iterable[Busy],
    tz: ZoneInfo,
    slot_minutes: int,
    seats: int,
    min_notice: timedelta,
    horizon: timedelta,
    max_per_day: int | None,
    now: datetime,
) -> Slot | None:
    """The bookable slot starting at `start`, or None: the answer compute_slots gives for
    that one start (the same rules, in the same functions), without listing the day.

    `hours` need only be those of the start's weekday, `time_off` and `busy` only those
    touching the clinic-local day that holds it (day_of, day_bounds)."""
    if now.utcoffset() is None or start.utcoffset() is None:
        raise ValueError("now and start must be timezone-aware")
    start = start.astimezone(UTC)
    now = now.astimezone(UTC)
    if not now + min_notice <= start <= now + horizon:
        return None
    day = day_of(start, tz)
    intervals = [interval for interval in hours if interval.weekday == day.weekday()]
    length = timedelta(minutes=slot_minutes)
    grid = day_grid(day, intervals, tz, length)
    index = bisect_left(grid, start)
    if index == len(grid) or grid[index] != start:
        return None
    busy = list(busy)
    booked_starts = sorted(appointment.start.astimezone(UTC) for appointment in busy)
    if _day_is_full(day, tz, booked_starts, max_per_day):
        return None
    taken = _index((appointment.start, appointment.end) for appointment in busy)
    seats_left = _seats_left(start, start + length, seats, _index(time_off), taken)
    return Slot(start, start + length, seats_left, day) if seats_left > 0 else None
