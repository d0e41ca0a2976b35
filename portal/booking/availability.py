"""Bookable slots of a doctor, read from the database and computed by slots.py.

Free slots depend only on the schedule (weekly hours, time off, active appointments), not
on the clock, so a page that only shows them may reuse them: each worker keeps the ones it
computed, keyed by the doctor's schedule version. Database triggers give that version a
new random value in the same transaction as any write to those rows, whoever writes
(directory/schedule_version.py), and the version is read before the rows, so a worker
whose key matches the version it just read holds slots at least as fresh as that version.
Bookings never use kept slots: they lock the doctor and read the database.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from portal.booking.schedule_rows import read_schedule, read_schedules
from portal.scheduling.slots import (
    bookable,
    day_bounds,
    open_slots,
)
from portal.worker_cache import WorkerCache

CACHE = "portal.open_slots"


def init_app(app):
    app.extensions[CACHE] = WorkerCache(app.config["SLOT_CACHE_SIZE"])


def available_slots(
    *, doctor, first_day, last_day, now, settings, ignore_appointment_id=None, version=None
):
    """Bookable slots of the doctor for clinic-local dates first_day..last_day: 1 query.

    `doctor` is a Doctor or any object with its scheduling fields and `timezone`. With
    `version`, the doctor's schedule version read in this request, slots this worker
    computed for the same version are reused (no query); only pages that show slots pass
    it, never a booking."""
    if not doctor.is_active or not doctor.accepting_patients:
        return []
    if version is None or ignore_appointment_id is not None:
        slots = _open_slots(doctor, first_day, last_day, ignore_appointment_id)
        starts = None
    else:
        key = _key(doctor, version, doctor.timezone, first_day, last_day)
        cache = current_app.extensions[CACHE]
        kept = cache.get(key)
        if kept is None:
            kept = _keep(cache, key, _open_slots(doctor, first_day, last_day))
        slots, starts = kept
    return bookable(slots, starts=starts, **_rules(settings, now))


def _key(doctor, version, timezone, first_day, last_day):
    """What a doctor's open slots of first_day..last_day are fixed by."""
    return (
        doctor.id,
        version,
        timezone,
        doctor.slot_minutes,
        doctor.seats_per_slot,
        doctor.max_appointments_per_day,
        first_day,
        last_day,
    )


def _keep(cache, key, slots):
    """The slots with their starts, kept under `key` unless its version is unknown."""
    kept = (slots, [slot.start for slot in slots])
    if key[1] is not None:
        cache.put(key, kept)
    return kept


def _rules(settings, now):
    return {
        "now": now,
        "min_notice": timedelta(minutes=settings.min_notice_minutes),
        "horizon": timedelta(days=settings.horizon_days),
    }


# Most doctors have a free time within a few days; looking at a whole fortnight for
# every doctor of a page would read and compute ten days that nobody shows.
NEAR_DAYS = 4


def next_free_slots(doctors, *, now, settings, days=14, count=None, versions=None):
    """Each doctor's first bookable slot within `days` clinic-local days from today, or
    None, as {doctor id: Slot | None}; with `count`, the first `count` of them on that
    first free day, as {doctor id: tuple of Slots} (empty when none).

    `doctors` are Doctors (with their clinic) or anything with their scheduling fields
    and `timezone`; their schedule versions, read in this request (`versions`, by id, or
    each Doctor's own), key the open slots this worker keeps, as the slot pages' are;
    a doctor without one is read afresh. The others
    are read in one query for the first NEAR_DAYS days of every doctor of the page, and
    one more for the later days of those with none free then: at most two, whatever the
    page's size."""
    result = {doctor.id: None if count is None else () for doctor in doctors}
    pending = {}
    for doctor in doctors:
        if doctor.is_active and doctor.accepting_patients:
            zone = ZoneInfo(doctor.timezone)
            pending[doctor.id] = (doctor, zone, now.astimezone(zone).date())
    if versions is None:
        versions = {doctor.id: doctor.schedule_version for doctor in doctors}
    rules = _rules(settings, now)
    cache = current_app.extensions[CACHE]

    def settle(doctor_id, kept):
        slots = bookable(kept[0], starts=kept[1], **rules)
        if slots:
            result[doctor_id] = slots[0] if count is None else tuple(slots[:count])
            del pending[doctor_id]

    for first, last in ((0, min(NEAR_DAYS, days) - 1), (NEAR_DAYS, days - 1)):
        if not pending or first > last:
            break
        missing = {}
        for doctor_id, (doctor, _zone, today) in list(pending.items()):
            span = (today + timedelta(days=first), today + timedelta(days=last))
            version = versions.get(doctor_id)
            key = _key(doctor, version, doctor.timezone, *span)
            kept = cache.get(key) if version is not None else None
            if kept is None:
                missing[doctor_id] = (key, span)
            else:
                settle(doctor_id, kept)
        if not missing:
            continue
        # One window that covers every doctor's local days, whatever their zones.
        window_start = min(
            day_bounds(span[0], pending[doctor_id][1])[0]
            for doctor_id, (_key_, span) in missing.items()
        )
        window_end = max(
            day_bounds(span[1], pending[doctor_id][1])[1]
            for doctor_id, (_key_, span) in missing.items()
        )
        schedules = read_schedules(missing, window_start, window_end)
        for doctor_id, (key, span) in missing.items():
            doctor, zone, _today = pending[doctor_id]
            schedule = schedules.get(doctor_id)
            slots = []
            if schedule is not None and schedule.hours:
                slots = open_slots(
                    hours=schedule.hours,
                    time_off=schedule.blocked(zone),
                    busy=schedule.busy,
                    first_day=span[0],
                    last_day=span[1],
                    tz=zone,
                    slot_minutes=doctor.slot_minutes,
                    seats=doctor.seats_per_slot,
                    max_per_day=doctor.max_appointments_per_day,
                )
            settle(doctor_id, _keep(cache, key, slots))
    return result


def free_slots(source, *, first_day, last_day, now):
    """The bookable slots a page shows of a slot source (booking.services.slot_source:
    the doctor's scheduling fields, schedule version and the booking rules, read in this
    request) for first_day..last_day, with the key that fixes them: the pages that show
    free times (the day-slots partial, the API's slots) keep and tag their answers by it.

    The slots kept for the version are fixed by the source and the days; the clock only
    cuts a run out of them (bookable), known by its first start and its length."""
    slots = available_slots(
        doctor=source,
        first_day=first_day,
        last_day=last_day,
        now=now,
        settings=source,
        version=source.schedule_version,
    )
    return slots, (source, first_day, last_day, slots[0].start if slots else None, len(slots))


def _open_slots(doctor, first_day, last_day, ignore_appointment_id=None):
    zone = ZoneInfo(doctor.timezone)
    schedule = read_schedule(
        doctor.id,
        day_bounds(first_day, zone)[0],
        day_bounds(last_day, zone)[1],
        ignore_appointment_id=ignore_appointment_id,
    )
    return open_slots(
        hours=schedule.hours,
        time_off=schedule.blocked(zone),
        busy=schedule.busy,
        first_day=first_day,
        last_day=last_day,
        tz=zone,
        slot_minutes=doctor.slot_minutes,
        seats=doctor.seats_per_slot,
        max_per_day=doctor.max_appointments_per_day,
    )
