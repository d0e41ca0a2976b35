"""The slot picker's view: a strip of days and one day's free times, with every link and
label prepared here, so the template only loops (the day-slots partial is the portal's
busiest page)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask import current_app, render_template, url_for
from flask_babel import get_locale, gettext, ngettext

from portal.booking import services
from portal.booking.availability import free_slots
from portal.db import utcnow
from portal.i18n import zone_label
from portal.revalidation import etag_for
from portal.worker_cache import WorkerCache

STRIP_DAYS = 14
RENDERED = "portal.rendered_slot_pickers"


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
    seats_left: int
    description: str  # what a screen reader says of the button


@dataclass(frozen=True)
class PickerTexts:
    """The picker's own words in one language."""

    choose_day: str
    zone_hint: str  # with %(zone)s
    days: str
    earlier: str
    later: str
    free: str
    full: str
    none_free: str
    book: str  # a slot's button, with %(time)s
    move: str  # the same when moving an appointment
    today: str
    tomorrow: str


@lru_cache(maxsize=16)
def _texts(locale):
    """The picker's words in `locale`, the request's language, translated once: a
    rendering then looks up no translation."""
    return PickerTexts(
        choose_day=gettext("Choose a day"),
        zone_hint=gettext("Times shown: %(zone)s."),
        days=gettext("Days"),
        earlier=gettext("Earlier"),
        later=gettext("Later"),
        free=gettext("free times"),
        full=gettext("no free time"),
        none_free=gettext("No free time on this day. Choose another day."),
        book=gettext("Book %(time)s"),
        move=gettext("Move to %(time)s"),
        today=gettext("Today"),
        tomorrow=gettext("Tomorrow"),
    )


@dataclass(frozen=True)
class Picker:
    """Everything the slot picker shows; a value, so equal pickers render the same."""

    doctor_id: int
    zone: str  # as people say it: "Paris time"
    selected: date
    heading: str
    days: tuple[DayLink, ...] = ()
    slots: tuple[SlotChoice, ...] = ()
    earlier_href: str | None = None
    later_href: str = ""
    reschedule_id: int | None = None
    texts: PickerTexts | None = None
    # Where a chosen time goes (a GET with `start`): the booking or the moving panel.
    confirm_href: str = ""
    # The visitor chose a day or moved the strip: the day's heading takes the focus, and
    # `announce` is what the live region says.
    focus: bool = False
    announce: str = ""


@lru_cache(maxsize=8192)
def _day_label(day, locale, pattern):
    return format_date(day, pattern, locale=locale)


@lru_cache(maxsize=256)
def _zone_label(timezone, locale):
    return zone_label(timezone)


@lru_cache(maxsize=4096)
def _time_label(wall, locale):
    return format_time(wall, "short", locale=locale)


@lru_cache(maxsize=65536)
def _choice(slot, zone, locale, book, move):
    """How a slot is offered, in a language: the same slot is offered on many requests
    while the doctor's schedule stays the same, so the answer is kept."""
    start = slot.start.isoformat()
    label = _time_label(slot.start.astimezone(zone).time(), locale)
    if move is not None:
        description = move % {"time": label}
    else:
        description = book % {"time": label}
        if slot.seats_left > 1:
            places = ngettext("%(num)d place left", "%(num)d places left", slot.seats_left)
            description += ", " + places
    return SlotChoice(
        start=start,
        label=label,
        seats_left=slot.seats_left,
        description=description,
    )


def _strip_days(timezone, day, strip_start, now):
    """Today in the clinic, and the first day of the strip that holds `day` (or starts
    at `strip_start`)."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    if day is not None and strip_start is None and day >= today:
        strip_start = today + timedelta(days=((day - today).days // STRIP_DAYS) * STRIP_DAYS)
    return today, max(strip_start or today, today)


def _strip(doctor, day, strip_start, *, settings=None, version=None, reschedule=None):
    """Today in the clinic, the first day of the strip that holds `day` (or starts at
    `strip_start`), and the bookable slots of that strip's days."""
    now = utcnow()
    today, strip_start = _strip_days(doctor.timezone, day, strip_start, now)
    slots = services.slots_for(
        doctor=doctor,
        first_day=strip_start,
        last_day=strip_start + timedelta(days=STRIP_DAYS - 1),
        now=now,
        settings=settings,
        ignore_appointment_id=reschedule.id if reschedule else None,
        version=version,
    )
    return today, strip_start, slots


def build_picker(
    doctor,
    *,
    day=None,
    strip_start=None,
    reschedule=None,
    settings=None,
    version=None,
    focus=False,
    urls=None,
):
    """The picker for a doctor (a Doctor or a SlotSource): one slot computation for the
    whole strip. `version`, the doctor's schedule version read in this request, lets the
    worker reuse the strip's slots it computed before (pages that only show slots).
    `focus`: the visitor asked for this day or strip, so its heading takes the focus.
    `urls` (the strip's address, and where a chosen time goes) serves the same picker
    from staff pages."""
    today, strip_start, slots = _strip(
        doctor, day, strip_start, settings=settings, version=version, reschedule=reschedule
    )
    return _assemble(
        doctor, slots, today, day, strip_start, reschedule, str(get_locale()), focus, urls
    )


def _assemble(doctor, slots, today, day, strip_start, reschedule, locale, focus=False, urls=None):
    last = strip_start + timedelta(days=STRIP_DAYS - 1)
    by_day = defaultdict(list)
    for slot in slots:
        by_day[slot.local_date].append(slot)
    days = [strip_start + timedelta(days=offset) for offset in range(STRIP_DAYS)]
    if day is None or not strip_start <= day <= last:
        day = next((candidate for candidate in days if by_day.get(candidate)), strip_start)

    if urls is not None:
        base, confirm = urls
    elif reschedule is not None:
        base = url_for("booking.reschedule_page", appointment_id=reschedule.id)
        confirm = base
    else:
        base = url_for("booking.slots", doctor_id=doctor.id)
        confirm = url_for("booking.confirm", doctor_id=doctor.id)
    zone = ZoneInfo(doctor.timezone)
    texts = _texts(locale)
    book, move = texts.book, texts.move if reschedule is not None else None

    choices = tuple(_choice(slot, zone, locale, book, move) for slot in by_day.get(day, ()))
    named = {today: texts.today, today + timedelta(days=1): texts.tomorrow}
    heading = _day_label(day, locale, "full")
    if day in named:
        heading = f"{named[day]}, {heading}"
    earlier = None
    if strip_start > today:
        earlier = max(today, strip_start - timedelta(days=STRIP_DAYS))
    return Picker(
        doctor_id=doctor.id,
        zone=_zone_label(doctor.timezone, locale),
        selected=day,
        heading=heading,
        days=tuple(
            DayLink(
                day=candidate,
                label=named.get(candidate) or _day_label(candidate, locale, "EEE d MMM"),
                href=f"{base}?day={candidate.isoformat()}",
                free=bool(by_day.get(candidate)),
                current=candidate == day,
            )
            for candidate in days
        ),
        slots=choices,
        earlier_href=earlier and f"{base}?from={earlier.isoformat()}",
        later_href=f"{base}?from={(strip_start + timedelta(days=STRIP_DAYS)).isoformat()}",
        reschedule_id=reschedule.id if reschedule else None,
        texts=texts,
        confirm_href=confirm,
        focus=focus,
        announce=f"{heading}: " + ngettext("%(num)d free time", "%(num)d free times", len(choices)),
    )


def init_app(app):
    app.extensions[RENDERED] = WorkerCache(app.config["SLOT_PICKER_CACHE_SIZE"])


class DaySlots:
    """One request's day-slots partial of a doctor's slot source (services.slot_source),
    for the day asked (or the first with free times) and the strip that holds it: what
    it depends on, known before anything is rendered, and its HTML on demand.

    The strip's free slots and their key come from availability.free_slots, as the
    API's do. That key, the day asked, today and the language are all the partial
    depends on: the same key is the same HTML. Each worker keeps the HTML it rendered
    under that key, and the key's digest is the ETag."""

    def __init__(self, source, *, day=None, strip_start=None):
        focus = day is not None or strip_start is not None
        now = utcnow()
        today, strip_start = _strip_days(source.timezone, day, strip_start, now)
        slots, free = free_slots(
            source,
            first_day=strip_start,
            last_day=strip_start + timedelta(days=STRIP_DAYS - 1),
            now=now,
        )
        self._source, self._day, self._today = source, day, today
        self._strip_start, self._slots = strip_start, slots
        self._locale = str(get_locale())
        self._focus = focus
        self.key = (free, day, today, self._locale, self._focus)
        self.etag = etag_for("day-slots partial", self.key)

    def html(self):
        kept = current_app.extensions[RENDERED]
        html = kept.get(self.key)
        if html is None:
            picker = _assemble(
                self._source,
                self._slots,
                self._today,
                self._day,
                self._strip_start,
                None,
                self._locale,
                self._focus,
            )
            html = render_template("booking/_slot_picker.html", picker=picker)
            kept.put(self.key, html)
        return html
