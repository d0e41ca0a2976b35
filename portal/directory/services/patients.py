"""Patients and care teams: records, medical fields and who may see them."""

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.audit.services import record_event
from portal.auth import services as auth
from portal.auth.models import Role, User
from portal.booking.models import Appointment
from portal.directory.models import (
    BLOOD_GROUPS,
    CareAssignment,
    Doctor,
    Patient,
)
from portal.directory.services.common import apply_changes, clean_text, like_pattern, require_admin
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.pagination import paginate

MEDICAL_FIELDS = ("date_of_birth", "blood_group", "allergies", "emergency_contact")
PATIENT_FIELDS = ("phone", *MEDICAL_FIELDS)


def _cares_for(doctor_id):
    """Patients in the doctor's care: assigned to them, or with an appointment with them."""
    return or_(
        exists().where(
            CareAssignment.patient_id == Patient.id, CareAssignment.doctor_id == doctor_id
        ),
        exists().where(Appointment.patient_id == Patient.id, Appointment.doctor_id == doctor_id),
    )


def list_patients(*, actor, q=None, page=1, per_page=20):
    """Patients an admin manages (all) or a doctor cares for, a page at a time."""
    auth.require_role(actor, Role.ADMIN, Role.DOCTOR)
    statement = (
        select(Patient)
        .join(Patient.user)
        .options(joinedload(Patient.user))
        .order_by(User.full_name, Patient.id)
    )
    if actor.role == Role.DOCTOR:
        doctor = db.session.scalar(select(Doctor).where(Doctor.user_id == actor.id))
        if doctor is None:
            raise NotAllowed()
        statement = statement.where(_cares_for(doctor.id))
    if q and q.strip():
        pattern = like_pattern(q)
        statement = statement.where(
            or_(
                User.full_name.ilike(pattern),
                User.email.ilike(pattern),
                Patient.phone.ilike(pattern),
            )
        )
    return paginate(statement, page=page, per_page=per_page)


def can_see_medical(actor, patient):
    """Medical fields are for the patient, their doctors and admins."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    if actor.role == Role.ADMIN or patient.user_id == actor.id:
        return True
    if actor.role == Role.DOCTOR:
        doctor = db.session.scalar(select(Doctor).where(Doctor.user_id == actor.id))
        return (
            doctor is not None
            and db.session.scalar(
                select(Patient.id).where(Patient.id == patient.id, _cares_for(doctor.id))
            )
            is not None
        )
    return False


def get_patient(*, actor, patient_id):
    """One patient record for someone who may see it; NotFound for anyone else."""
    auth.require_role(actor, Role.ADMIN, Role.DOCTOR, Role.PATIENT)
    patient = db.session.scalar(
        select(Patient).where(Patient.id == patient_id).options(joinedload(Patient.user))
    )
    if patient is None or not can_see_medical(actor, patient):
        raise NotFound()
    return patient


def patient_for_user(user):
    """The patient record of a patient-role user."""
    auth.require_role(user, Role.PATIENT)
    patient = db.session.scalar(select(Patient).where(Patient.user_id == user.id))
    if patient is None:
        raise NotFound()
    return patient


def doctors_of(patient):
    """The active doctors a patient is assigned to, with their clinics."""
    return db.session.scalars(
        select(Doctor)
        .join(CareAssignment, CareAssignment.doctor_id == Doctor.id)
        .where(CareAssignment.patient_id == patient.id, Doctor.is_active.is_(True))
        .options(
            joinedload(Doctor.user), joinedload(Doctor.clinic), selectinload(Doctor.departments)
        )
        .order_by(Doctor.id)
    ).all()


def _patient_values(errors, values, *, today):
    cleaned = {}
    if "phone" in values:
        cleaned["phone"] = clean_text(errors, "phone", values["phone"], limit=40)
    if "date_of_birth" in values:
        born = values["date_of_birth"]
        if born is not None and (not isinstance(born, date) or born > today or born.year < 1900):
            errors["date_of_birth"] = [_l("Enter a date of birth in the past.")]
        cleaned["date_of_birth"] = born
    if "blood_group" in values:
        group = values["blood_group"] or None
        if group is not None and group not in BLOOD_GROUPS:
            errors["blood_group"] = [_l("Choose a blood group from the list.")]
        cleaned["blood_group"] = group
    if "allergies" in values:
        cleaned["allergies"] = clean_text(errors, "allergies", values["allergies"], limit=2000)
    if "emergency_contact" in values:
        cleaned["emergency_contact"] = clean_text(
            errors, "emergency_contact", values["emergency_contact"], name=True
        )
    return cleaned


def create_patient(*, actor, email, full_name, now, **fields):
    """A patient record with a login (admin); returns the patient and a one-time
    activation token with which the patient sets a password."""
    require_admin(actor)
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], _l("This field cannot be changed."))
    errors = {}
    cleaned = _patient_values(errors, fields, today=now.date())
    try:
        user = auth.create_user(
            email=email, full_name=full_name, password=None, role=Role.PATIENT, actor=actor
        )
    except ValidationFailed as error:
        errors.update(error.errors)
    if errors:
        raise ValidationFailed(errors=errors)
    patient = Patient(user=user, **cleaned)
    db.session.add(patient)
    db.session.flush()
    token = auth.create_activation_token(user=user, actor=actor, now=now)
    record_event(actor=actor, action="patient.created", entity_type="patient", entity_id=patient.id)
    return patient, token


def update_patient(*, actor, patient, now, **fields):
    """Change a patient's contact and medical details (the patient or an admin).
    Changes to medical fields are audited by name, never by value."""
    auth.require_role(actor, Role.ADMIN, Role.PATIENT)
    if actor.role == Role.PATIENT and patient.user_id != actor.id:
        raise NotFound()
    allowed = set(PATIENT_FIELDS) | {"full_name"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], _l("This field cannot be changed."))
    errors = {}
    cleaned = _patient_values(errors, fields, today=now.date())
    user_values = {}
    if "full_name" in fields:
        user_values["full_name"] = clean_text(
            errors, "full_name", fields["full_name"], required=True, limit=120, name=True
        )
    if errors:
        raise ValidationFailed(errors=errors)
    changes = apply_changes(patient, cleaned)
    changes.update(apply_changes(patient.user, user_values))
    medical = sorted(name for name in changes if name in MEDICAL_FIELDS)
    if medical:
        record_event(
            actor=actor,
            action="patient.medical_changed",
            entity_type="patient",
            entity_id=patient.id,
            changes={"fields": medical},
        )
    other = sorted(name for name in changes if name not in MEDICAL_FIELDS)
    if other:
        record_event(
            actor=actor,
            action="patient.updated",
            entity_type="patient",
            entity_id=patient.id,
            changes={name: changes[name] for name in other},
        )
    db.session.flush()
    return patient


def assign_patient(*, actor, doctor, patient):
    """Place a patient in a doctor's care (admin); doing it twice changes nothing."""
    require_admin(actor)
    if db.session.get(CareAssignment, (doctor.id, patient.id)) is None:
        db.session.add(CareAssignment(doctor_id=doctor.id, patient_id=patient.id))
        record_event(
            actor=actor,
            action="care.assigned",
            entity_type="patient",
            entity_id=patient.id,
            changes={"doctor_id": doctor.id},
        )
        db.session.flush()


def unassign_patient(*, actor, doctor, patient):
    """Take a patient out of a doctor's care (admin)."""
    require_admin(actor)
    assignment = db.session.get(CareAssignment, (doctor.id, patient.id))
    if assignment is not None:
        db.session.delete(assignment)
        record_event(
            actor=actor,
            action="care.unassigned",
            entity_type="patient",
            entity_id=patient.id,
            changes={"doctor_id": doctor.id},
        )
        db.session.flush()
