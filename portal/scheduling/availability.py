"""Bookable slots of a doctor, read from the database and computed by slots.py.

Free slots depend only on the schedule (weekly hours, time off, active appointments), not
on the clock, so a page that only shows them may reuse them: each worker keeps the ones it
computed, keyed by the doctor's schedule version. That version takes a new random value in
the same transaction as any change to those rows (the flush listener below), so a worker
whose key matches the version it just read holds slots at least as fresh as that version.
Bookings never use kept slots: they lock the doctor and read the database.
"""

import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

from cachetools import LRUCache
from flask import current_app
from sqlalchemy import bindparam, event, inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from portal.booking.models import Appointment, Status
from portal.booking.schedule_rows import read_schedule
from portal.directory.models import Doctor, new_schedule_version
from portal.scheduling import notices
from portal.scheduling.models import TimeOff, WeeklyHours
from portal.scheduling.slots import (
    bookable,
    day_bounds,
    open_slots,
)

CACHE = "portal.open_slots"

_NEW_VERSION = (
    Doctor.__table__.update()
    .where(Doctor.__table__.c.id == bindparam("doctor_id"))
    .values(schedule_version=bindparam("version"))
)


class WorkerCache:
    """What one worker keeps of its own work (free slots here, rendered pickers in
    booking.picker), the least recently used dropped first; a size of 0 keeps nothing."""

    def __init__(self, size):
        self._entries = LRUCache(maxsize=size) if size > 0 else None
        self._lock = threading.Lock()

    def get(self, key):
        if self._entries is None:
            return None
        with self._lock:
            return self._entries.get(key)

    def put(self, key, value):
        if self._entries is None:
            return
        with self._lock:
            self._entries[key] = value


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
        key = (
            doctor.id,
            version,
            doctor.timezone,
            doctor.slot_minutes,
            doctor.seats_per_slot,
            doctor.max_appointments_per_day,
            first_day,
            last_day,
        )
        cache = current_app.extensions[CACHE]
        kept = cache.get(key)
        if kept is None:
            computed = _open_slots(doctor, first_day, last_day)
            kept = (computed, [slot.start for slot in computed])
            cache.put(key, kept)
        slots, starts = kept
    return bookable(
        slots,
        now=now,
        min_notice=timedelta(minutes=settings.min_notice_minutes),
        horizon=timedelta(days=settings.horizon_days),
        starts=starts,
    )


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
        time_off=schedule.time_off,
        busy=schedule.busy,
        first_day=first_day,
        last_day=last_day,
        tz=zone,
        slot_minutes=doctor.slot_minutes,
        seats=doctor.seats_per_slot,
        max_per_day=doctor.max_appointments_per_day,
    )


# Schedule versions --------------------------------------------------------------------

_SCHEDULE_ROWS = (WeeklyHours, TimeOff)
_APPOINTMENT_TIMES = ("starts_at", "ends_at", "doctor_id")


def _changes_free_times(instance, state):
    """Whether flushing this new, changed or deleted row may change its doctor's slots."""
    if isinstance(instance, _SCHEDULE_ROWS):
        return True
    if not isinstance(instance, Appointment):
        return False
    if state == "new":
        return instance.status != Status.CANCELLED
    if state == "deleted":
        return True
    attrs = inspect(instance).attrs
    if any(attrs[name].history.has_changes() for name in _APPOINTMENT_TIMES):
        return True
    # Completed and no-show visits keep their time taken; only cancelling frees it.
    status = attrs.status.history
    return Status.CANCELLED in (*status.added, *status.deleted)


@event.listens_for(Session, "after_flush")
def _new_schedule_versions(session, _context):
    """Give each doctor whose free times this flush may change a new schedule version, in
    the same transaction. Doctors go in id order, so two such flushes cannot deadlock."""
    doctors = set()
    for state, instances in (
        ("new", session.new),
        ("changed", session.dirty),
        ("deleted", session.deleted),
    ):
        for instance in instances:
            if _changes_free_times(instance, state):
                doctors.add(instance.doctor_id)
                if isinstance(instance, Appointment):
                    # A moved appointment frees time on its former doctor's schedule too.
                    doctors.update(inspect(instance).attrs.doctor_id.history.deleted)
    doctors.discard(None)
    if not doctors:
        return
    notices.note_new_versions(session, doctors)
    connection = session.connection()
    for doctor_id in sorted(doctors):
        version = new_schedule_version()
        connection.execute(_NEW_VERSION, {"doctor_id": doctor_id, "version": version})
        doctor = session.identity_map.get(session.identity_key(Doctor, doctor_id))
        if doctor is not None:
            set_committed_value(doctor, "schedule_version", version)
