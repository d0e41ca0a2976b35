"""Appointments: what is booked, for whom, and when."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.auth.models import Role
from portal.auth.services import require_role
from portal.booking.models import Appointment, Status
from portal.directory.models import Doctor, Patient
from portal.extensions import db


def upcoming_for_patient(*, actor, now, limit=20):
    """The signed-in patient's next appointments that are still confirmed."""
    require_role(actor, Role.PATIENT)
    statement = (
        select(Appointment)
        .join(Patient, Appointment.patient_id == Patient.id)
        .where(
            Patient.user_id == actor.id,
            Appointment.status == Status.CONFIRMED,
            Appointment.ends_at > now,
        )
        .options(
            joinedload(Appointment.doctor).joinedload(Doctor.user),
            joinedload(Appointment.clinic),
        )
        .order_by(Appointment.starts_at)
        .limit(limit)
    )
    return db.session.scalars(statement).all()


def doctor_day(*, actor, now, day=None):
    """The signed-in doctor's appointments on one clinic-local day (today by default)."""
    require_role(actor, Role.DOCTOR)
    doctor = db.session.scalar(
        select(Doctor).where(Doctor.user_id == actor.id).options(joinedload(Doctor.clinic))
    )
    zone = ZoneInfo(doctor.clinic.timezone)
    day = day or now.astimezone(zone).date()
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    statement = (
        select(Appointment)
        .where(
            Appointment.doctor_id == doctor.id,
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
        )
        .options(joinedload(Appointment.patient).joinedload(Patient.user))
        .order_by(Appointment.starts_at, Appointment.seat)
    )
    return doctor, day, db.session.scalars(statement).all()
