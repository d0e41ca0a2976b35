"""Figures for the admin dashboard."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select

from portal.auth.models import Role, User
from portal.auth.services import require_role
from portal.booking.models import Appointment, Status
from portal.directory.models import Clinic, Doctor, Patient
from portal.extensions import db


def dashboard_counts(*, actor, now):
    """Active doctors, patients, today's visits (each clinic's own day), week's cancellations."""
    require_role(actor, Role.ADMIN)
    doctors = db.session.scalar(
        select(func.count()).select_from(Doctor).where(Doctor.is_active.is_(True))
    )
    patients = db.session.scalar(
        select(func.count())
        .select_from(Patient)
        .join(User, Patient.user_id == User.id)
        .where(User.is_active.is_(True))
    )
    clinics = db.session.execute(select(Clinic.id, Clinic.timezone)).all()
    today_conditions = []
    for clinic_id, timezone in clinics:
        zone = ZoneInfo(timezone)
        day = now.astimezone(zone).date()
        start = datetime.combine(day, time(0), tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        today_conditions.append(
            and_(
                Appointment.clinic_id == clinic_id,
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
            )
        )
    visits_today = 0
    if today_conditions:
        visits_today = db.session.scalar(
            select(func.count())
            .select_from(Appointment)
            .where(Appointment.status != Status.CANCELLED, or_(*today_conditions))
        )
    cancellations = db.session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.status == Status.CANCELLED,
            Appointment.cancelled_at >= now - timedelta(days=7),
        )
    )
    return {
        "doctors": doctors,
        "patients": patients,
        "visits_today": visits_today,
        "cancellations_week": cancellations,
    }
