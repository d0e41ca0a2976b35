"""A doctor's week as a grid: days as columns, quarter hours as rows, each visit a block
as long as it lasts and time off shaded. Pure arithmetic: the page places the blocks
with classes (static/css/week-grid.css), as the security policy allows no inline style."""

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time

ROW_MINUTES = 15
ROWS_PER_DAY = 24 * 60 // ROW_MINUTES  # 96: the classes go this far
DEFAULT_HOURS = (8, 18)


@dataclass(frozen=True)
class Block:
    row: int  # the first grid row, from 1
    span: int  # rows it covers
    item: object = None  # the appointment, or None for time off
    label: str = ""


@dataclass
class GridDay:
    day: date
    visits: list[Block] = field(default_factory=list)
    off: list[Block] = field(default_factory=list)
    closed: str | None = None  # the clinic is closed: its reason ("" when none given)


@dataclass(frozen=True)
class WeekGrid:
    first_hour: int
    rows: int
    hours: tuple[tuple[int, int], ...]  # (row, hour) of each hour's label
    days: tuple[GridDay, ...]


def _minutes(instant, zone, day):
    """Minutes on the wall clock from the midnight of `day` to `instant`, in `zone` (both
    in the same zone, so the difference is the clocks', as the grid draws it)."""
    local = instant.astimezone(zone)
    return (local - datetime.combine(day, time(0), local.tzinfo)).total_seconds() / 60


def build_week(days, appointments, time_off, closed, zone, weekly_hours=()):
    """The grid of `days` (clinic-local dates): appointments (with starts_at, ends_at),
    time off as (start, end, reason), closed days as {date: reason}, and the weekly
    hours as (weekday, start time, end time) to choose which hours to show."""
    first_hour, last_hour = DEFAULT_HOURS
    for _weekday, start, end in weekly_hours:
        first_hour = min(first_hour, start.hour)
        last_hour = max(last_hour, end.hour + (1 if end.minute else 0))
    for appointment in appointments:
        start = appointment.starts_at.astimezone(zone)
        end = appointment.ends_at.astimezone(zone)
        first_hour = min(first_hour, start.hour)
        last_hour = max(last_hour, 24 if end.date() > start.date() else end.hour + bool(end.minute))
    last_hour = min(max(last_hour, first_hour + 1), 24)
    top, bottom = first_hour * 60, last_hour * 60
    rows = (bottom - top) // ROW_MINUTES

    def place(start_minutes, end_minutes):
        start_minutes, end_minutes = max(start_minutes, top), min(end_minutes, bottom)
        if end_minutes <= start_minutes:
            return None
        row = int((start_minutes - top) // ROW_MINUTES) + 1
        span = max(1, math.ceil((end_minutes - top) / ROW_MINUTES) - row + 1)
        return row, span

    grid_days = {day: GridDay(day=day) for day in days}
    for appointment in appointments:
        day = appointment.starts_at.astimezone(zone).date()
        if day not in grid_days:
            continue
        start = _minutes(appointment.starts_at, zone, day)
        end = _minutes(appointment.ends_at, zone, day)
        placed = place(start, end)
        if placed:
            grid_days[day].visits.append(Block(*placed, item=appointment))
    for start, end, reason in time_off:
        for day, grid_day in grid_days.items():
            placed = place(_minutes(start, zone, day), _minutes(end, zone, day))
            if placed:
                grid_day.off.append(Block(*placed, label=reason or ""))
    for day, reason in closed.items():
        if day in grid_days:
            grid_days[day].closed = reason or ""
            grid_days[day].off.append(Block(1, rows, label=reason or ""))
    hours = tuple(
        ((hour * 60 - top) // ROW_MINUTES + 1, hour) for hour in range(first_hour, last_hour)
    )
    return WeekGrid(
        first_hour=first_hour,
        rows=rows,
        hours=hours,
        days=tuple(grid_days[day] for day in days),
    )
