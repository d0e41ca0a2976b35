"""Admin-only reads over the other features: dashboard figures, pages of records for the
admin lists, choices for the admin forms, and the appointments export.

Every function here checks that the actor is an admin; the changes themselves are made by
the directory, booking and audit services.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, literal, or_, select, union_all
from sqlalchemy.orm import joinedload

from portal.audit.models import AuditEvent
from portal.audit.services import record_event
from portal.auth.models import Role, User
from portal.auth.services import require_role
from portal.booking import services as booking
from portal.booking.models import Appointment, Status
from portal.care import services as care
from portal.directory import services as directory
from portal.directory.models import Clinic, Department, Doctor, Patient, doctor_departments
from portal.directory.services.common import like_pattern
from portal.extensions import db
from portal.pagination import paginate
from portal.scheduling.models import WeeklyHours
from portal.scheduling.slots import WeeklyInterval, compute_slots

ADMIN_PAGE_SIZE = 20
CHOICES_LIMIT = 100
EXPORT_LIMIT = 10_000
# The entity types the services record; the audit page filters by them.
AUDIT_ENTITY_TYPES = (
    "appointment",
    "clinic",
    "department",
    "doctor",
    "patient",
    "settings",
    "user",
)


def _admin(actor):
    require_role(actor, Role.ADMIN)


# Dashboard ----------------------------------------------------------------------------


def dashboard_counts(*, actor, now):
    """Active doctors, patients, today's visits (each clinic's own day), week's cancellations."""
    _admin(actor)
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


@dataclass(frozen=True)
class DepartmentFill:
    """How full one department's schedule is over the coming days."""

    department: Department
    booked: int
    capacity: int

    @property
    def ratio(self):
        """Booked over capacity (may pass 1 when visits were booked outside the hours);
        None when the department's doctors have no hours in the period."""
        return self.booked / self.capacity if self.capacity else None


def _bookable_doctors():
    """Conditions for a doctor whose schedule counts: active, signed-in-able, open clinic."""
    return (
        Doctor.is_active.is_(True),
        User.is_active.is_(True),
        Clinic.is_active.is_(True),
    )


def _capacity(hours, *, zone, slot_minutes, seats, max_per_day, now, end):
    """Seats a doctor's weekly hours offer between now and end (each day capped by the
    doctor's daily maximum); pure arithmetic over slots.py."""
    slots = compute_slots(
        hours=hours,
        time_off=[],
        busy=[],
        first_day=now.astimezone(zone).date(),
        last_day=end.astimezone(zone).date(),
        tz=zone,
        slot_minutes=slot_minutes,
        seats=seats,
        min_notice=timedelta(0),
        horizon=end - now,
        max_per_day=None,
        now=now,
    )
    per_day = defaultdict(int)
    for slot in slots:
        if slot.start < end:
            per_day[slot.local_date] += seats
    if max_per_day is not None:
        return sum(min(count, max_per_day) for count in per_day.values())
    return sum(per_day.values())


def schedule_fill(*, actor, now, days=7):
    """For each active department, booked active appointments over the bookable capacity
    of its active doctors' weekly hours from now for `days` days. A doctor in several
    departments counts in each. Four queries, whatever the number of doctors."""
    _admin(actor)
    end = now + timedelta(days=days)
    departments = db.session.scalars(
        select(Department).where(Department.is_active.is_(True)).order_by(Department.code)
    ).all()
    memberships = db.session.execute(
        select(
            doctor_departments.c.department_id,
            Doctor.id,
            Doctor.slot_minutes,
            Doctor.seats_per_slot,
            Doctor.max_appointments_per_day,
            Clinic.timezone,
        )
        .join(Doctor, Doctor.id == doctor_departments.c.doctor_id)
        .join(User, User.id == Doctor.user_id)
        .join(Clinic, Clinic.id == Doctor.clinic_id)
        .where(*_bookable_doctors())
    ).all()
    hours = db.session.execute(
        select(
            WeeklyHours.doctor_id, WeeklyHours.weekday, WeeklyHours.start_time, WeeklyHours.end_time
        )
        .join(Doctor, Doctor.id == WeeklyHours.doctor_id)
        .join(User, User.id == Doctor.user_id)
        .join(Clinic, Clinic.id == Doctor.clinic_id)
        .where(*_bookable_doctors())
    ).all()
    booked = dict(
        db.session.execute(
            select(doctor_departments.c.department_id, func.count(Appointment.id))
            .join(Doctor, Doctor.id == doctor_departments.c.doctor_id)
            .join(User, User.id == Doctor.user_id)
            .join(Clinic, Clinic.id == Doctor.clinic_id)
            .join(Appointment, Appointment.doctor_id == Doctor.id)
            .where(
                *_bookable_doctors(),
                Appointment.status != Status.CANCELLED,
                Appointment.starts_at >= now,
                Appointment.starts_at < end,
            )
            .group_by(doctor_departments.c.department_id)
        ).all()
    )
    intervals = defaultdict(list)
    for doctor_id, weekday, start, finish in hours:
        intervals[doctor_id].append(WeeklyInterval(weekday, start, finish))
    capacity_of = {}
    capacity = defaultdict(int)
    for department_id, doctor_id, slot_minutes, seats, maximum, timezone in memberships:
        if doctor_id not in capacity_of:
            capacity_of[doctor_id] = _capacity(
                intervals[doctor_id],
                zone=ZoneInfo(timezone),
                slot_minutes=slot_minutes,
                seats=seats,
                max_per_day=maximum,
                now=now,
                end=end,
            )
        capacity[department_id] += capacity_of[doctor_id]
    return [
        DepartmentFill(
            department=department,
            booked=booked.get(department.id, 0),
            capacity=capacity.get(department.id, 0),
        )
        for department in departments
    ]


# Records for the admin pages ----------------------------------------------------------


def departments_page(*, actor, page=1, per_page=50):
    """Every department, inactive ones too, ordered by code, a page at a time."""
    _admin(actor)
    return paginate(
        select(Department).order_by(Department.code, Department.id), page=page, per_page=per_page
    )


def department(*, actor, department_id):
    """One department, active or not, or NotFound."""
    _admin(actor)
    return directory.get_department(department_id, include_inactive=True)


def reactivate_department(*, actor, department):
    """Put a deactivated department back in the directory."""
    return directory.update_department(actor=actor, department=department, is_active=True)


def clinics_page(*, actor, page=1, per_page=ADMIN_PAGE_SIZE):
    """Every clinic, closed ones too, a page at a time."""
    _admin(actor)
    return directory.list_clinics(include_inactive=True, page=page, per_page=per_page)


def clinic(*, actor, clinic_id):
    """One clinic, active or not, or NotFound."""
    _admin(actor)
    return directory.get_clinic(clinic_id, include_inactive=True)


def reactivate_clinic(*, actor, clinic):
    """Reopen a deactivated clinic."""
    return directory.update_clinic(actor=actor, clinic=clinic, is_active=True)


def booking_settings(*, actor):
    """The booking rules in force, for the settings page."""
    _admin(actor)
    return booking.get_booking_settings()


def doctor(*, actor, doctor_id):
    """One doctor, active or not, or NotFound."""
    _admin(actor)
    return directory.get_doctor(doctor_id, include_inactive=True)


def future_appointments(*, actor, doctor, now):
    """How many confirmed appointments of the doctor are still to come."""
    _admin(actor)
    return db.session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(
            Appointment.doctor_id == doctor.id,
            Appointment.status == Status.CONFIRMED,
            Appointment.starts_at > now,
        )
    )


def patient(*, actor, patient_id):
    """One patient record for the admin pages, or NotFound."""
    _admin(actor)
    return care.get_patient(actor=actor, patient_id=patient_id)


def open_patient(*, actor, patient_id):
    """One patient record shown to an admin with its medical fields; the read is audited."""
    _admin(actor)
    return care.open_record(actor=actor, patient_id=patient_id)


def doctor_choices(*, actor, q=None, active_only=True, limit=CHOICES_LIMIT):
    """(id, label) of doctors for a select, by name; at most `limit`, narrowed by q."""
    _admin(actor)
    statement = (
        select(Doctor.id, User.full_name, Doctor.license_number, Doctor.is_active)
        .join(User, User.id == Doctor.user_id)
        .order_by(User.full_name, Doctor.id)
        .limit(limit)
    )
    if active_only:
        statement = statement.where(Doctor.is_active.is_(True))
    if q and q.strip():
        pattern = "%" + q.strip().replace("%", "").replace("_", "") + "%"
        statement = statement.where(
            or_(User.full_name.ilike(pattern), Doctor.license_number.ilike(pattern))
        )
    return db.session.execute(statement).all()


def clinic_choices(*, actor, active_only=True, limit=CHOICES_LIMIT):
    """(id, name, city) of clinics for a select."""
    _admin(actor)
    statement = select(Clinic.id, Clinic.name, Clinic.city).order_by(
        Clinic.city, Clinic.name, Clinic.id
    )
    if active_only:
        statement = statement.where(Clinic.is_active.is_(True))
    return db.session.execute(statement.limit(limit)).all()


def department_choices(*, actor):
    """Active departments for checkboxes."""
    _admin(actor)
    return directory.list_departments()


def export_appointments(*, actor, limit=None, **filters):
    """Appointments for the CSV export with the list's filters and order, at most `limit`;
    returns (rows, truncated). One query."""
    rows, truncated = booking.export_appointments(
        actor=actor, limit=limit or EXPORT_LIMIT, **filters
    )
    record_event(
        actor=actor,
        action="appointments.exported",
        entity_type="appointment",
        changes={
            "rows": len(rows),
            **{
                name: value.isoformat() if hasattr(value, "isoformat") else value
                for name, value in filters.items()
                if value is not None
            },
        },
    )
    return rows, truncated


@dataclass(frozen=True)
class AuditPage:
    """A page of audit events (items, page, pages... as any Page), with the names of the
    records they concern."""

    events: object  # the Page
    names: dict  # (entity_type, entity_id) -> display name

    def __getattr__(self, name):
        return getattr(self.events, name)


# For each kind of record the trail names: its id and name columns, and its table.
_NAMED_RECORDS = {
    "patient": (Patient.id, User.full_name, (Patient, User, User.id == Patient.user_id)),
    "doctor": (Doctor.id, User.full_name, (Doctor, User, User.id == Doctor.user_id)),
    "user": (User.id, User.full_name, (User,)),
    "clinic": (Clinic.id, Clinic.name, (Clinic,)),
    "department": (Department.id, Department.name, (Department,)),
}


def _record_names(events):
    """(entity_type, id) -> a name people read, for the records a page of events names:
    one query, whatever the page holds."""
    wanted = defaultdict(set)
    for event in events:
        if event.entity_id is not None and event.entity_type in _NAMED_RECORDS:
            wanted[event.entity_type].add(event.entity_id)
    parts = []
    for kind, ids in wanted.items():
        key, name, (table, *join) = _NAMED_RECORDS[kind]
        part = select(literal(kind).label("kind"), key.label("id"), name.label("name"))
        part = part.select_from(table)
        if join:
            part = part.join(*join)
        parts.append(part.where(key.in_(ids)))
    if not parts:
        return {}
    rows = db.session.execute(union_all(*parts) if len(parts) > 1 else parts[0]).all()
    return {(kind, entity_id): name for kind, entity_id, name in rows}


def audit_events(
    *,
    actor,
    entity_type=None,
    entity_id=None,
    action=None,
    actor_id=None,
    person=None,
    page=1,
    per_page=50,
):
    """The audit trail, newest first, filtered and a page at a time: by kind of record
    and record, action, who acted (`actor_id`, or `person`: part of a name or email)."""
    _admin(actor)
    statement = select(AuditEvent).options(joinedload(AuditEvent.actor).joinedload(User.doctor))
    if entity_type:
        statement = statement.where(AuditEvent.entity_type == entity_type)
    if entity_id:
        statement = statement.where(AuditEvent.entity_id == entity_id)
    if action:
        statement = statement.where(AuditEvent.action == action.strip())
    if actor_id:
        statement = statement.where(AuditEvent.actor_id == actor_id)
    if person and person.strip():
        pattern = like_pattern(person)
        statement = statement.where(
            AuditEvent.actor_id.in_(
                select(User.id).where(or_(User.full_name.ilike(pattern), User.email.ilike(pattern)))
            )
        )
    statement = statement.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    result = paginate(statement, page=page, per_page=per_page)
    return AuditPage(events=result, names=_record_names(result.items))
