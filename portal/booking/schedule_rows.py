"""A doctor's schedule as slot arithmetic takes it (scheduling.slots): weekly hours, time
off and active appointments of a window of time, read in one query for one doctor or
for a page of doctors."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Date, Integer, Time, bindparam, cast, literal, null, select, union_all

from portal.booking.models import Appointment, Status
from portal.db import UTCDateTime
from portal.directory.models import Doctor
from portal.extensions import db
from portal.scheduling.models import ClinicClosure, TimeOff, WeeklyHours
from portal.scheduling.slots import Busy, WeeklyInterval, day_bounds

# An appointment lasts one slot, and a slot at most 480 minutes (doctors' check
# constraint): one that began more than a day before a window cannot reach into it. The
# bound lets the (doctor, start) index skip a doctor's whole past.
LONGEST_APPOINTMENT = timedelta(days=1)

_HOURS, _TIME_OFF, _BUSY, _CLOSED = 0, 1, 2, 3


def _statement():
    doctors = bindparam("doctor_ids", expanding=True)
    window_start = bindparam("window_start", type_=UTCDateTime)
    window_end = bindparam("window_end", type_=UTCDateTime)
    no_time = cast(null(), UTCDateTime)
    busy = select(
        literal(_BUSY).label("kind"),
        Appointment.doctor_id,
        Appointment.starts_at,
        Appointment.ends_at,
        Appointment.seat,
        cast(null(), Time).label("start_time"),
        cast(null(), Time).label("end_time"),
        cast(null(), Date).label("day"),
    ).where(
        Appointment.doctor_id.in_(doctors),
        Appointment.status != Status.CANCELLED,
        Appointment.id != bindparam("ignore_id"),
        Appointment.starts_at < window_end,
        Appointment.starts_at > bindparam("busy_from", type_=UTCDateTime),
        Appointment.ends_at > window_start,
    )
    time_off = select(
        literal(_TIME_OFF),
        TimeOff.doctor_id,
        TimeOff.starts_at,
        TimeOff.ends_at,
        cast(null(), Integer),
        cast(null(), Time),
        cast(null(), Time),
        cast(null(), Date),
    ).where(
        TimeOff.doctor_id.in_(doctors),
        TimeOff.starts_at < window_end,
        TimeOff.ends_at > window_start,
    )
    hours = select(
        literal(_HOURS),
        WeeklyHours.doctor_id,
        no_time,
        no_time,
        WeeklyHours.weekday,
        WeeklyHours.start_time,
        WeeklyHours.end_time,
        cast(null(), Date),
    ).where(WeeklyHours.doctor_id.in_(doctors))
    # The closed days of each doctor's clinic; a clinic-local day lies within a day of
    # the UTC dates of the window, whatever the zone.
    closed = (
        select(
            literal(_CLOSED),
            Doctor.id,
            no_time,
            no_time,
            cast(null(), Integer),
            cast(null(), Time),
            cast(null(), Time),
            ClinicClosure.day,
        )
        .join(ClinicClosure, ClinicClosure.clinic_id == Doctor.clinic_id)
        .where(
            Doctor.id.in_(doctors),
            ClinicClosure.day >= bindparam("first_date", type_=Date),
            ClinicClosure.day <= bindparam("last_date", type_=Date),
        )
    )
    return union_all(busy, time_off, hours, closed)


# Built once: booking, the slot picker and the directory run it on every request.
_SCHEDULES = _statement()


@dataclass
class Schedule:
    """One doctor's schedule rows for a window: what compute_slots and slot_at take."""

    hours: list[WeeklyInterval] = field(default_factory=list)
    time_off: list[tuple[datetime, datetime]] = field(default_factory=list)
    busy: list[Busy] = field(default_factory=list)
    seats: list[tuple[datetime, int]] = field(default_factory=list)  # (start, seat) taken
    closed_days: list[date] = field(default_factory=list)  # the clinic's, local

    def blocked(self, zone):
        """The time off, and the clinic's closed days as whole local days in `zone`."""
        if not self.closed_days:
            return self.time_off
        return self.time_off + [day_bounds(day, zone) for day in self.closed_days]

    def taken_seats(self, start):
        """The seats already taken in the slot starting at `start`."""
        return {seat for taken_at, seat in self.seats if taken_at == start}


def read_schedules(doctor_ids, window_start, window_end, *, ignore_appointment_id=None):
    """{doctor id: Schedule} with every weekly interval of each doctor, and the time off
    and active appointments that touch [window_start, window_end): one query."""
    result = defaultdict(Schedule)
    rows = db.session.connection().execute(
        _SCHEDULES,
        {
            "doctor_ids": list(doctor_ids),
            "window_start": window_start,
            "window_end": window_end,
            "busy_from": window_start - LONGEST_APPOINTMENT,
            "ignore_id": ignore_appointment_id or 0,  # no appointment has id 0
            "first_date": window_start.date() - timedelta(days=1),
            "last_date": window_end.date() + timedelta(days=1),
        },
    )
    for kind, doctor_id, starts_at, ends_at, number, start_time, end_time, day in rows:
        schedule = result[doctor_id]
        if kind == _BUSY:
            schedule.busy.append(Busy(starts_at, ends_at))
            schedule.seats.append((starts_at, number))
        elif kind == _TIME_OFF:
            schedule.time_off.append((starts_at, ends_at))
        elif kind == _CLOSED:
            schedule.closed_days.append(day)
        else:
            schedule.hours.append(WeeklyInterval(number, start_time, end_time))
    return result


def read_schedule(doctor_id, window_start, window_end, *, ignore_appointment_id=None):
    """One doctor's Schedule for [window_start, window_end): one query."""
    return read_schedules(
        [doctor_id], window_start, window_end, ignore_appointment_id=ignore_appointment_id
    )[doctor_id]
