"""A doctor's weekly hours, time off and bookable slots."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import url_for
from flask_babel import lazy_gettext as _l

from portal import revalidation
from portal.api import schemas
from portal.api.outputs import availability_out, slots_out, time_off_out
from portal.api.routing import field_names, no_content, operation, reply
from portal.booking import services as booking
from portal.booking.availability import free_slots
from portal.db import read_only, utcnow
from portal.directory.models import Doctor
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.scheduling import services as scheduling

TAG = "Availability"
MAX_SLOT_DAYS = 31
DEFAULT_SLOT_DAYS = 7


def _doctor(doctor_id):
    doctor = db.session.get(Doctor, doctor_id)
    if doctor is None:
        raise NotFound()
    return doctor


@operation(
    "/doctors/<id:doctor_id>/availability",
    "GET",
    summary="A doctor's weekly hours",
    description="Intervals in the clinic's wall clock; weekday 0 is Monday. "
    "For the doctor themself or an admin.",
    tag=TAG,
    response=schemas.AvailabilityOut,
    errors=(403, 404),
)
def get_availability(caller, doctor_id):
    doctor = _doctor(doctor_id)
    rows = scheduling.get_weekly_hours(actor=caller, doctor=doctor)
    return reply(availability_out(doctor, rows))


@operation(
    "/doctors/<id:doctor_id>/availability",
    "PUT",
    summary="Replace a doctor's weekly hours",
    description=(
        "Replaces the whole weekly schedule, slot length and seats. Overlapping intervals, "
        "an end not after its start, or slot_minutes outside 5..480 are 400. Appointments "
        "already booked are never moved or lost."
    ),
    tag=TAG,
    body=schemas.AvailabilityIn,
    response=schemas.AvailabilityOut,
    errors=(403, 404),
)
def replace_availability(caller, doctor_id, body):
    doctor = _doctor(doctor_id)
    rows = scheduling.replace_weekly_hours(
        actor=caller,
        doctor=doctor,
        slot_minutes=body.slot_minutes,
        seats=body.seats,
        intervals=[(item.weekday, item.start, item.end) for item in body.intervals],
    )
    rows = sorted(rows, key=lambda row: (row.weekday, row.start_time))
    return reply(availability_out(doctor, rows))


@operation(
    "/doctors/<id:doctor_id>/time-off",
    "GET",
    summary="A doctor's current and coming time off",
    description="For the doctor themself or an admin.",
    tag=TAG,
    query=schemas.Paging,
    response=schemas.TimeOffPage,
    errors=(403, 404),
)
def list_time_off(caller, doctor_id, query):
    doctor = _doctor(doctor_id)
    periods = scheduling.list_time_off(actor=caller, doctor=doctor, now=utcnow())
    zone = ZoneInfo(doctor.clinic.timezone)
    start = (query.page - 1) * query.per_page
    return reply(
        schemas.TimeOffPage(
            items=[time_off_out(item, zone) for item in periods[start : start + query.per_page]],
            page=query.page,
            per_page=query.per_page,
            total=len(periods),
        )
    )


@operation(
    "/doctors/<id:doctor_id>/time-off",
    "POST",
    summary="Add time off",
    description="Blocks every slot that overlaps it; appointments already booked stay.",
    tag=TAG,
    body=schemas.TimeOffIn,
    response=schemas.TimeOffOut,
    status=201,
    location=True,
    errors=(403, 404),
)
def add_time_off(caller, doctor_id, body):
    doctor = _doctor(doctor_id)
    with field_names(starts_at="start", ends_at="end"):
        period = scheduling.add_time_off(
            actor=caller,
            doctor=doctor,
            starts_at=body.start,
            ends_at=body.end,
            reason=body.reason,
            now=utcnow(),
        )
    location = url_for("api.list_time_off", doctor_id=doctor.id)
    return reply(
        time_off_out(period, ZoneInfo(doctor.clinic.timezone)), status=201, location=location
    )


@operation(
    "/time-off/<id:time_off_id>",
    "DELETE",
    summary="Remove time off",
    description="For the doctor themself or an admin.",
    tag=TAG,
    status=204,
    errors=(403, 404),
)
def remove_time_off(caller, time_off_id):
    period = scheduling.get_time_off(actor=caller, time_off_id=time_off_id)
    scheduling.remove_time_off(actor=caller, time_off=period)
    return no_content()


@operation(
    "/doctors/<id:doctor_id>/slots",
    "GET",
    summary="A doctor's bookable slots",
    description=(
        "Only slots that can be booked now: inside the weekly hours, not in time off, "
        "not in the past or inside the minimum notice, not beyond the booking horizon, "
        "with a seat left, on a day the doctor's daily maximum is not reached. Dates are "
        "in the clinic's time zone; at most 31 days at once. A slot's `start` is accepted "
        "verbatim by POST /appointments. No token needed. The answer carries an `ETag`: "
        "send it back in `If-None-Match` and get 304, with no body, while the slots are the "
        "same."
    ),
    tag=TAG,
    auth="none",
    query=schemas.SlotsQuery,
    response=schemas.SlotsOut,
    errors=(404,),
    revalidated=True,
)
def list_slots(doctor_id, query):
    # The day-slots partial's way: one query for the doctor's schedule version and the
    # rules, the slots a worker computed under that version reused (free_slots), and 304
    # for a client that holds the same answer.
    read_only(db.session)
    source = booking.slot_source(doctor_id)
    now = utcnow()
    first = query.from_ or now.astimezone(ZoneInfo(source.timezone)).date()
    last = query.to or first + timedelta(days=DEFAULT_SLOT_DAYS - 1)
    if last < first:
        raise ValidationFailed.on("to", _l("The end must be after the start."))
    if (last - first).days >= MAX_SLOT_DAYS:
        raise ValidationFailed.on(
            "to", _l("Ask for at most %(count)d days at once.", count=MAX_SLOT_DAYS)
        )
    slots, key = free_slots(source, first_day=first, last_day=last, now=now)
    etag = revalidation.etag_for("slots", key)
    if revalidation.unchanged(etag):
        return revalidation.not_modified(etag)
    return revalidation.tagged(reply(slots_out(source.timezone, slots)), etag)
