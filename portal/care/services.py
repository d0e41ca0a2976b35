"""Care: the patients a doctor cares for, and who may see a patient's medical fields.

A doctor's patients are those assigned to their care or with a visit with them that was
not cancelled (confirmed, completed or no-show), so this sits above booking: it reads
appointments. A booking cancelled at once gives a doctor nothing."""

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.audit.services import record_event
from portal.auth import services as auth
from portal.auth.models import Role, User
from portal.booking.models import Appointment, Status
from portal.directory.models import CareAssignment, Doctor, Patient
from portal.directory import services as directory
from portal.directory.services.common import like_pattern
from portal.errors import NotAllowed, NotFound
from portal.extensions import db
from portal.pagination import paginate


# The visits that make a patient someone's patient: every status but cancelled.
CARE_VISITS = (Status.CONFIRMED, Status.COMPLETED, Status.NO_SHOW)


def _cares_for(doctor_id):
    """Patients in the doctor's care: assigned to them, or with a visit with them that
    was not cancelled."""
    return or_(
        exists().where(
            CareAssignment.patient_id == Patient.id, CareAssignment.doctor_id == doctor_id
        ),
        exists().where(
            Appointment.patient_id == Patient.id,
            Appointment.doctor_id == doctor_id,
            Appointment.status.in_(CARE_VISITS),
        ),
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
    page = paginate(statement, page=page, per_page=per_page)
    # A list of patients carries their medical fields in the API: the read is audited.
    record_event(
        actor=actor,
        action="patient.list_viewed",
        entity_type="patient",
        changes={"patients": [item.id for item in page.items], "q": (q or "").strip()},
    )
    return page


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


def _record_read(actor, patient):
    record_event(
        actor=actor, action="patient.record_viewed", entity_type="patient", entity_id=patient.id
    )


def open_record(*, actor, patient_id):
    """A patient record with its medical fields, for someone who may see them (NotFound
    for anyone else); the read is audited: who, which record, when (and, from the
    request, where)."""
    patient = get_patient(actor=actor, patient_id=patient_id)
    _record_read(actor, patient)
    return patient


def open_profile(*, actor):
    """The signed-in patient's own record, shown with its medical fields; audited."""
    patient = directory.patient_for_user(actor)
    _record_read(actor, patient)
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
