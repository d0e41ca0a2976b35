"""Patients: records, self-registration, contact and medical details, care assignments."""

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from portal.audit.services import record_event
from portal.auth import services as auth
from portal.auth.models import Role
from portal.db import utcnow
from portal.directory.models import BLOOD_GROUPS, CareAssignment, Patient
from portal.directory.services.common import apply_changes, clean_text, require_admin
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.extensions import db

MEDICAL_FIELDS = ("date_of_birth", "blood_group", "allergies", "emergency_contact")
PATIENT_FIELDS = ("phone", *MEDICAL_FIELDS)


def patient_for_user(user):
    """The patient record of a patient-role user."""
    auth.require_role(user, Role.PATIENT)
    patient = db.session.scalar(select(Patient).where(Patient.user_id == user.id))
    if patient is None:
        raise NotFound()
    return patient


def register_patient(*, email, full_name, password, locale=None, phone="", date_of_birth=None):
    """Self-registration: a patient account and its patient record (phone and date of
    birth optional). The address is unverified until the patient opens the link emailed
    to them; until then they cannot book."""
    phone = (phone or "").strip()
    errors = {}
    if len(phone) > 40:
        errors["phone"] = [_l("Use at most %(count)d characters.", count=40)]
    if date_of_birth is not None and not date(1900, 1, 1) <= date_of_birth <= utcnow().date():
        errors["date_of_birth"] = [_l("Enter a date of birth in the past.")]
    try:
        user = auth.create_user(
            email=email, full_name=full_name, password=password, role=Role.PATIENT, locale=locale
        )
    except ValidationFailed as error:
        raise ValidationFailed(errors={**error.errors, **errors}) from None
    if errors:
        raise ValidationFailed(errors=errors)
    db.session.add(Patient(user=user, phone=phone, date_of_birth=date_of_birth))
    user.email_verified = False
    db.session.flush()
    auth.send_email_verification(user=user, now=utcnow())
    return user


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


def create_patient(*, actor, full_name, now, email=None, **fields):
    """A patient record with a login (admin); returns the patient and a one-time
    activation token with which the patient sets a password. Without an email (None or
    empty) there is no token (None): they cannot sign in until an admin adds one."""
    require_admin(actor)
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], _l("This field cannot be changed."))
    errors = {}
    cleaned = _patient_values(errors, fields, today=now.date())
    return _add_patient(actor, full_name, email, errors, cleaned, now=now)


def create_walk_in_patient(*, actor, full_name, phone, now, email=None):
    """A patient the front desk records while booking for them, on the phone or at the
    desk: a name and a phone, and an email (the sign-in) if they give one. Returns the
    patient and a one-time activation token with which they may set a password later,
    or None without an email: they cannot sign in until an admin adds one."""
    require_admin(actor)
    errors = {}
    phone = clean_text(errors, "phone", phone, required=True, limit=40)
    return _add_patient(
        actor, full_name, email, errors, {"phone": phone}, now=now, changes={"walk_in": True}
    )


def _add_patient(actor, full_name, email, errors, values, *, now, changes=None):
    """The account and record of a new patient, unless `errors` (of the record's values)
    or the account's own say otherwise; with the activation token (None: no email)."""
    try:
        user = auth.create_user(
            email=email,
            full_name=full_name,
            password=None,
            role=Role.PATIENT,
            actor=actor,
            email_optional=True,
        )
    except ValidationFailed as error:
        errors.update(error.errors)
    if errors:
        raise ValidationFailed(errors=errors)
    patient = Patient(user=user, **values)
    db.session.add(patient)
    db.session.flush()
    token = auth.create_activation_token(user=user, actor=actor, now=now)  # None: no email
    record_event(
        actor=actor,
        action="patient.created",
        entity_type="patient",
        entity_id=patient.id,
        changes=changes,
    )
    return patient, token


NO_REMOVING_EMAIL = _l("An email cannot be removed, only replaced by another.")


def _patient_email(errors, patient, value):
    """The new address of a patient's account, or None to leave it as it is."""
    if not (value or "").strip():
        if patient.user.email is not None:
            errors["email"] = [NO_REMOVING_EMAIL]
        return None
    try:
        email = auth.normalise_email(value)
    except ValidationFailed as error:
        errors.update(error.errors)
        return None
    other = auth.find_user_by_email(email)
    if other is not None and other.id != patient.user_id:
        errors["email"] = [auth.TAKEN_EMAIL]
    return email


def update_patient(*, actor, patient, now, **fields):
    """Change a patient's contact and medical details (the patient or an admin), and
    their email (an admin: one recorded without an email gets one). Changes to medical
    fields are audited by name, never by value. An account given a new address before
    it was activated is sent a fresh link to set a password there."""
    auth.require_role(actor, Role.ADMIN, Role.PATIENT)
    if actor.role == Role.PATIENT and patient.user_id != actor.id:
        raise NotFound()
    allowed = set(PATIENT_FIELDS) | {"full_name", "email"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], _l("This field cannot be changed."))
    if "email" in fields and actor.role != Role.ADMIN:
        raise NotAllowed(_l("Ask an admin to change %(field)s.", field="email"))
    errors = {}
    cleaned = _patient_values(errors, fields, today=now.date())
    user_values = {}
    if "full_name" in fields:
        user_values["full_name"] = clean_text(
            errors, "full_name", fields["full_name"], required=True, limit=120, name=True
        )
    if "email" in fields and (email := _patient_email(errors, patient, fields["email"])):
        user_values["email"] = email
    if errors:
        raise ValidationFailed(errors=errors)
    changes = apply_changes(patient, cleaned)
    changes.update(apply_changes(patient.user, user_values))
    if "email" in changes:
        try:
            db.session.flush()
        except IntegrityError:  # someone took the address meanwhile (the unique index)
            raise ValidationFailed.on("email", auth.TAKEN_EMAIL) from None
        auth.send_new_activation(user=patient.user, actor=actor, now=now)
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


def erase_patient(*, patient):
    """Erase a patient record's personal and medical fields and its care team; the row
    stays for the visits the clinic keeps."""
    patient.phone = ""
    patient.date_of_birth = None
    patient.blood_group = None
    patient.allergies = ""
    patient.emergency_contact = ""
    db.session.execute(delete(CareAssignment).where(CareAssignment.patient_id == patient.id))
    db.session.flush()
