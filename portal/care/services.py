"""Care: the patients a doctor cares for, and who may see a patient's medical fields.

A doctor's patients are those assigned to their care or with a visit with them that was
not cancelled (confirmed, completed or no-show), so this sits above booking: it reads
appointments. A booking cancelled at once gives a doctor nothing."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.audit.models import AuditEvent
from portal.audit.services import erase_values, record_event
from portal.auth import services as auth
from portal.auth.models import Role, User
from portal.auth.passwords import check_password
from portal.booking import services as booking
from portal.booking.models import Appointment, Status
from portal.directory import services as directory
from portal.directory.models import CareAssignment, Doctor, Patient
from portal.directory.services.common import like_pattern
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.messages import services as outbox
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


# A patient's own data: export and erasure ---------------------------------------------

# Actions that are reads of a patient's record, listed in their export.
READ_ACTIONS = ("patient.record_viewed", "patient.exported")
CLOSED_REASON = "Account closed"
WRONG_PASSWORD = _l("That password is not right.")


@dataclass(frozen=True)
class PatientData:
    """Everything the portal holds about one patient, for their export."""

    patient: Patient
    doctors: list
    appointments: list
    reads: list
    messages: list


def _own_or_admin(actor, patient_id):
    """The patient record of `patient_id` (or the actor's own when None) for the patient
    themselves or an admin; NotFound for anyone else."""
    auth.require_role(actor, Role.ADMIN, Role.PATIENT)
    if patient_id is None:
        return directory.patient_for_user(actor)
    patient = db.session.scalar(
        select(Patient).where(Patient.id == patient_id).options(joinedload(Patient.user))
    )
    if patient is None or (actor.role != Role.ADMIN and patient.user_id != actor.id):
        raise NotFound()
    return patient


def export_patient_data(*, actor, patient_id=None):
    """All a patient's data: profile, care team, visits, and who read their record.
    For the patient (`patient_id` None: their own) or an admin on their behalf; the
    export itself is audited as a read."""
    patient = _own_or_admin(actor, patient_id)
    reads = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.entity_type == "patient",
            AuditEvent.entity_id == patient.id,
            AuditEvent.action.in_(READ_ACTIONS),
        )
        .options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.created_at, AuditEvent.id)
    ).all()
    data = PatientData(
        patient=patient,
        doctors=doctors_of(patient),
        appointments=booking.every_visit_of(patient_id=patient.id),
        reads=reads,
        messages=outbox.messages_to(user_id=patient.user_id),
    )
    record_event(
        actor=actor, action="patient.exported", entity_type="patient", entity_id=patient.id
    )
    return data


def _iso(value):
    return value.isoformat() if value is not None else None


def export_document(data):
    """The export as plain JSON-ready values (the JSON download and the API share it)."""
    patient = data.patient
    return {
        "profile": {
            "id": patient.id,
            "full_name": patient.user.full_name,
            "email": patient.user.email,
            "locale": patient.user.locale,
            "created_at": _iso(patient.created_at),
            "phone": patient.phone or "",
            "date_of_birth": _iso(patient.date_of_birth),
            "blood_group": patient.blood_group,
            "allergies": patient.allergies or "",
            "emergency_contact": patient.emergency_contact or "",
            "doctors": [
                {"id": doctor.id, "full_name": doctor.full_name, "clinic": doctor.clinic.name}
                for doctor in data.doctors
            ],
        },
        "appointments": [
            {
                "id": visit.id,
                "start": _iso(visit.starts_at),
                "end": _iso(visit.ends_at),
                "status": str(visit.status),
                "doctor": visit.doctor.user.full_name,
                "clinic": visit.clinic.name,
                "reason": visit.reason or "",
                "cancelled_at": _iso(visit.cancelled_at),
                "cancel_reason": visit.cancel_reason or "",
            }
            for visit in data.appointments
        ],
        "messages": [
            {
                "kind": message.kind,
                "to": message.to_address,
                "subject": message.subject,
                "status": str(message.status),
                "created_at": _iso(message.created_at),
                "sent_at": _iso(message.sent_at),
                "appointment_id": message.appointment_id,
            }
            for message in data.messages
        ],
        "record_reads": [
            {
                "at": _iso(event.created_at),
                "by": event.actor.full_name if event.actor else None,
                "role": str(event.actor.role) if event.actor else None,
                "action": event.action,
            }
            for event in data.reads
        ],
    }


def close_patient_account(*, actor, now, patient_id=None, password=None):
    """Close a patient's account (GDPR erasure): the patient with their password, or an
    admin on their behalf. Visits still to come are cancelled; past visits stay for the
    clinic's records, with nothing left that names the patient (their name, email,
    contact and medical fields are erased, their words on each visit blanked); every
    session and token ends. The audit trail keeps that it happened, and who did it."""
    if patient_id is not None:
        auth.require_role(actor, Role.ADMIN)  # on someone's behalf: admins only
    patient = _own_or_admin(actor, patient_id)
    if actor.role != Role.ADMIN and not check_password(patient.user.password_hash, password or ""):
        raise ValidationFailed.on("password", WRONG_PASSWORD)
    cancelled = booking.cancel_future_visits(
        actor=actor, patient_id=patient.id, reason=CLOSED_REASON, now=now
    )
    # The doctors of `cancelled` were told, before the patient's name is erased.
    booking.forget_patient_words(patient_id=patient.id)
    directory.erase_patient(patient=patient)
    auth.close_account(user=patient.user, now=now)
    outbox.forget_recipient(user_id=patient.user_id, placeholder=patient.user.email)
    # The trail keeps what happened to the patient's records, not their old values.
    visit_ids = [visit.id for visit in booking.every_visit_of(patient_id=patient.id)]
    erase_values(entity_type="patient", entity_ids=[patient.id])
    erase_values(entity_type="user", entity_ids=[patient.user_id])
    erase_values(entity_type="appointment", entity_ids=visit_ids)
    record_event(
        actor=actor,
        action="patient.account_closed",
        entity_type="patient",
        entity_id=patient.id,
        changes={"cancelled_visits": len(cancelled), "by_admin": actor.role == Role.ADMIN},
    )
    db.session.flush()
    return patient
