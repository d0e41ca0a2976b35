"""Bookable slots of a doctor, read from the database and computed by slots.py."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.booking.models import Appointment, Status
from portal.extensions import db
from portal.scheduling.models import TimeOff, WeeklyHours
from portal.scheduling.slots import Busy, WeeklyInterval, compute_slots, day_bounds


def available_slots(*, doctor, first_day, last_day, now, settings, ignore_appointment_id=None):
    """Bookable slots of the doctor for clinic-local dates first_day..last_day: 3 queries."""
    if not doctor.is_active or not doctor.accepting_patients:
        return []
    zone = ZoneInfo(doctor.clinic.timezone)
    window_start = day_bounds(first_day, zone)[0]
    window_end = day_bounds(last_day, zone)[1]
    hours = db.session.execute(
        select(WeeklyHours.weekday, WeeklyHours.start_time, WeeklyHours.end_time).where(
            WeeklyHours.doctor_id == doctor.id
        )
    ).all()
    time_off = db.session.execute(
        select(TimeOff.starts_at, TimeOff.ends_at).where(
            TimeOff.doctor_id == doctor.id,
            TimeOff.starts_at < window_end,
            TimeOff.ends_at > window_start,
        )
    ).all()
    busy_query = select(Appointment.starts_at, Appointment.ends_at).where(
        Appointment.doctor_id == doctor.id,
        Appointment.status != Status.CANCELLED,
        Appointment.starts_at < window_end,
        # A longer appointment that began before the window may still overlap it.
        Appointment.ends_at > window_start - timedelta(days=1),
    )
    if ignore_appointment_id is not None:
        busy_query = busy_query.where(Appointment.id != ignore_appointment_id)
    busy = db.session.execute(busy_query).all()
    return compute_slots(
        hours=[WeeklyInterval(weekday, start, end) for weekday, start, end in hours],
        time_off=[(start, end) for start, end in time_off],
        busy=[Busy(start, end) for start, end in busy],
        first_day=first_day,
        last_day=last_day,
        tz=zone,
        slot_minutes=doctor.slot_minutes,
        seats=doctor.seats_per_slot,
        min_notice=timedelta(minutes=settings.min_notice_minutes),
        horizon=timedelta(days=settings.horizon_days),
        max_per_day=doctor.max_appointments_per_day,
        now=now,
    )
