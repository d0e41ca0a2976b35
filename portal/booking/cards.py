"""A doctor's card in a list of results (Find a doctor, a department's or a clinic's
doctors): their name, departments, clinic and next free times.

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


@dataclass(frozen=True)
class DoctorCard:
    id: int
    title: str
    name: str
    accepting: bool
    departments: tuple[tuple[int, str], ...]  # active ones: (id, name in the language)
    clinic_id: int
    clinic_name: str
    city: str
    timezone: str
    today: date  # the clinic's today: times on it and the next day are named so
    starts: tuple[datetime, ...]  # the next free times offered
    first_day: date | None  # the clinic-local day of the first of them
    locale: str


def card_for(doctor, slots, *, now, locale):
    """The card of a Doctor (with its user, clinic and departments loaded) and its next
    free slots, in the visitor's language."""
    clinic = doctor.clinic
    zone = ZoneInfo(clinic.timezone)
    return DoctorCard(
        id=doctor.id,
        title=doctor.title,
        name=doctor.user.full_name,
        accepting=doctor.accepting_patients,
        departments=tuple(
            (department.id, department.translated("name", locale))
            for department in doctor.departments
            if department.is_active
        ),
        clinic_id=clinic.id,
        clinic_name=clinic.name,
        city=clinic.city,
        timezone=clinic.timezone,
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


def init_app(app):
    app.extensions[RENDERED] = WorkerCache(app.config["SLOT_CARD_CACHE_SIZE"])
