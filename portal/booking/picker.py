"""The slot picker's view: a strip of days and one day's free times, with every link and
label prepared here, so the template only loops (the day-slots partial is the portal's
busiest page)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask import url_for
from flask_babel import get_locale, gettext, ngettext

from portal.booking import services
from portal.db import utcnow

STRIP_DAYS = 14


@dataclass(frozen=True)
class DayLink:
    day: date
    label: str
    href: str
    free: bool
    current: bool


@dataclass(frozen=True)
class SlotChoice:
    start: str  # ISO 8601 with offset, as the booking form and the API take it
    label: str
    href: str
    seats_left: int
    description: str  # what a screen reader says of the button


@dataclass
class Picker:
    doctor_id: int
    zone: str
    selected: date
    heading: str
    days: list = field(default_factory=list)
    slots: list = field(default_factory=list)
    earlier_href: str | None = None
    later_href: str = ""
    reschedule_id: int | None = None


@lru_cache(maxsize=8192)
def _day_label(day, locale, pattern):
    return format_date(day, pattern, locale=locale)


@lru_cache(maxsize=4096)
def _time_label(wall, locale):
    return format_time(wall, "short", locale=locale)


def _describe(slot, label, book, move, places):
    if move is not None:
        return move % {"time": label}
    text = book % {"time": label}
    if slot.seats_left > 1:
        text += ", " + places(slot.seats_left)
    return text


def build_picker(doctor, *, day=None, strip_start=None, reschedule=None, settings=None):
    """The picker for a doctor (a Doctor or a SlotSource): one slot computation for the
    whole strip."""
    now = utcnow()
    today = now.astimezone(ZoneInfo(doctor.timezone)).date()
    if day is not None and strip_start is None and day >= today:
        strip_start = today + timedelta(days=((day - today).days // STRIP_DAYS) * STRIP_DAYS)
    strip_start = max(strip_start or today, today)
    last = strip_start + timedelta(days=STRIP_DAYS - 1)
    slots = services.slots_for(
        doctor=doctor,
        first_day=strip_start,
        last_day=last,
        now=now,
        settings=settings,
        ignore_appointment_id=reschedule.id if reschedule else None,
    )
    by_day = defaultdict(list)
    for slot in slots:
        by_day[slot.local_date].append(slot)
    days = [strip_start + timedelta(days=offset) for offset in range(STRIP_DAYS)]
    if day is None or not strip_start <= day <= last:
        day = next((candidate for candidate in days if by_day.get(candidate)), strip_start)

    if reschedule is not None:
        base = url_for("booking.reschedule_page", appointment_id=reschedule.id)
        confirm = ""
    else:
        base = url_for("booking.slots", doctor_id=doctor.id)
        confirm = url_for("booking.confirm", doctor_id=doctor.id)
    locale = str(get_locale())
    zone = ZoneInfo(doctor.timezone)
    # Translated once per request, filled in per slot.
    book, move = gettext("Book %(time)s"), None
    if reschedule is not None:
        move = gettext("Move to %(time)s")

    def places(count):
        return ngettext("%(num)d place left", "%(num)d places left", count)

    earlier = None
    if strip_start > today:
        earlier = max(today, strip_start - timedelta(days=STRIP_DAYS))
    return Picker(
        doctor_id=doctor.id,
        zone=doctor.timezone,
        selected=day,
        heading=_day_label(day, locale, "full"),
        days=[
            DayLink(
                day=candidate,
                label=format_date(candidate, "EEE d MMM"),
                href=f"{base}?day={candidate.isoformat()}",
                free=bool(by_day.get(candidate)),
                current=candidate == day,
            )
            for candidate in days
        ],
        slots=[
            SlotChoice(
                start=slot.start.isoformat(),
                label=(label := _time_label(slot.start.astimezone(zone).time(), locale)),
                href=confirm and f"{confirm}?{urlencode({'start': slot.start.isoformat()})}",
                seats_left=slot.seats_left,
                description=_describe(slot, label, book, move, places),
            )
            for slot in by_day.get(day, [])
        ],
        earlier_href=earlier and f"{base}?from={earlier.isoformat()}",
        later_href=f"{base}?from={(strip_start + timedelta(days=STRIP_DAYS)).isoformat()}",
        reschedule_id=reschedule.id if reschedule else None,
    )
