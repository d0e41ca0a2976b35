"""A doctor's card in a list of results (Find a doctor, a department's or a clinic's
doctors): their name, departments, clinic and next free times.

A list of results is kept by each worker as ListedDoctor values under the directory's
version (directory/directory_version.py), read in the request: any write that may
change a list changes that version. Their next free times are not in it: they come from
the doctors' schedule versions, read in the same request (booking.availability).

A card is rendered from a DoctorCard, a frozen value holding everything the card shows
and nothing else: the template cannot read more than the value holds, so two equal
values are the same HTML. Each worker keeps the HTML it rendered under that value; a
change to any of it (a name, a department, a booked slot, a new day that turns
"Tomorrow" into "Today") is another value, so a kept card is never stale.
"""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, get_template_attribute

from portal.worker_cache import WorkerCache

RENDERED = "portal.doctor_cards"
LISTS = "portal.doctor_lists"


@dataclass(frozen=True)
class ListedDoctor:
    """A doctor as a list of results shows them, with what their free times depend on
    but their schedule version: read once per directory version and language."""

    id: int
    title: str
    name: str
    accepting_patients: bool
    is_active: bool
    departments: tuple[tuple[int, str], ...]  # active ones: (id, name in the language)
    clinic_id: int
    clinic_name: str
    city: str
    timezone: str
    slot_minutes: int
    seats_per_slot: int
    max_appointments_per_day: int | None


def listed(doctor, locale):
    """The ListedDoctor of a Doctor read with its user, clinic and departments."""
    clinic = doctor.clinic
    return ListedDoctor(
        id=doctor.id,
        title=doctor.title,
        name=doctor.user.full_name,
        accepting_patients=doctor.accepting_patients,
        is_active=doctor.is_active,
        departments=tuple(
            (department.id, department.translated("name", locale))
            for department in doctor.departments
            if department.is_active
        ),
        clinic_id=clinic.id,
        clinic_name=clinic.name,
        city=clinic.city,
        timezone=clinic.timezone,
        slot_minutes=doctor.slot_minutes,
        seats_per_slot=doctor.seats_per_slot,
        max_appointments_per_day=doctor.max_appointments_per_day,
    )


@dataclass(frozen=True)
class DoctorCard:
    doctor: ListedDoctor
    today: date  # the clinic's today: times on it and the next day are named so
    starts: tuple[datetime, ...]  # the next free times offered
    first_day: date | None  # the clinic-local day of the first of them
    locale: str


def card_for(doctor, slots, *, now, locale):
    """The card of a ListedDoctor and its next free slots, in the visitor's language."""
    zone = ZoneInfo(doctor.timezone)
    return DoctorCard(
        doctor=doctor,
        today=now.astimezone(zone).date(),
        starts=tuple(slot.start for slot in slots or ()),
        first_day=slots[0].start.astimezone(zone).date() if slots else None,
        locale=locale,
    )


def render_cards(cards):
    """The HTML of each card, in order: kept ones as kept, the others rendered once."""
    kept = current_app.extensions[RENDERED]
    macro = None
    html = []
    for card in cards:
        markup = kept.get(card)
        if markup is None:
            if macro is None:
                macro = get_template_attribute("booking/macros.html", "doctor_card")
            markup = macro(card)
            kept.put(card, markup)
        html.append(markup)
    return html


def kept_list(key, compute):
    """What compute() gives for a list fixed by `key`, whose second item is the
    directory's version read in this request: kept by this worker, or computed (and
    kept unless the version is unknown)."""
    kept = current_app.extensions[LISTS]
    value = kept.get(key) if key[1] is not None else None
    if value is None:
        value = compute()
        if key[1] is not None:
            kept.put(key, value)
    return value


def init_app(app):
    app.extensions[RENDERED] = WorkerCache(app.config["SLOT_CARD_CACHE_SIZE"])
    app.extensions[LISTS] = WorkerCache(app.config["DIRECTORY_CACHE_SIZE"])
