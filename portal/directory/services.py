"""The directory: departments, clinics, doctors, patients and care teams, with their rules."""

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.audit.services import record_event
from portal.auth import services as auth
from portal.auth.models import Role, User
from portal.booking.models import Appointment, Status
from portal.directory.models import (
    BLOOD_GROUPS,
    CareAssignment,
    Clinic,
    Department,
    Doctor,
    Patient,
    doctor_departments,
)
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.pagination import paginate

TRANSLATED_LANGUAGES = ("fr",)
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")


@cache
def time_zones():
    """Every IANA time zone name, sorted."""
    return tuple(sorted(available_timezones() - {"localtime", "Factory"}))


def _admin(actor):
    auth.require_role(actor, Role.ADMIN)


def _text(errors, field, value, *, required=False, limit=255):
    value = (value or "").strip()
    if required and not value:
        errors[field] = [_l("This field is required.")]
    elif len(value) > limit:
        errors[field] = [_l("Use at most %(count)d characters.", count=limit)]
    return value


def _like(text):
    return "%" + text.strip().replace("\\", "").replace("%", "").replace("_", "") + "%"


def _changed(record, values):
    """Apply values to a record; the audit's {field: [old, new]} of what really changed."""
    changes = {}
    for name, value in values.items():
        old = getattr(record, name)
        if old != value:
            changes[name] = [_plain(old), _plain(value)]
            setattr(record, name, value)
    return changes


def _audit_changes(actor, record, entity_type, changes):
    """Record an `<entity>.updated` event when something really changed."""
    if changes:
        record_event(
            actor=actor,
            action=f"{entity_type}.updated",
            entity_type=entity_type,
            entity_id=record.id,
            changes=changes,
        )


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


# Departments --------------------------------------------------------------------------


def list_departments(*, include_inactive=False):
    """Departments ordered by code; only active ones unless asked."""
    statement = select(Department).order_by(Department.code)
    if not include_inactive:
        statement = statement.where(Department.is_active.is_(True))
    return db.session.scalars(statement).all()


def get_department(department_id, *, include_inactive=False):
    """One department, or NotFound (inactive ones only when asked)."""
    department = db.session.get(Department, department_id)
    if department is None or (not department.is_active and not include_inactive):
        raise NotFound()
    return department


def _department_values(errors, code, name, description, translations):
    code = (code or "").strip().lower()
    if not CODE_PATTERN.match(code):
        errors["code"] = [_l("Use 2 to 40 lower-case letters, digits or hyphens.")]
    values = {
        "code": code,
        "name": _text(errors, "name", name, required=True, limit=120),
        "description": _text(errors, "description", description, limit=2000),
        "translations": _clean_translations(
            errors, translations, {"name": 120, "description": 2000}
        ),
    }
    return values


def _clean_translations(errors, translations, limits):
    cleaned = {}
    for lang, fields in (translations or {}).items():
        if lang not in TRANSLATED_LANGUAGES or not isinstance(fields, dict):
            errors["translations"] = [_l("Translations are for French (fr) only.")]
            continue
        texts = {}
        for field, limit in limits.items():
            text = _text(errors, f"translations.{lang}.{field}", fields.get(field), limit=limit)
            if text:
                texts[field] = text
        unknown = set(fields) - set(limits)
        if unknown:
            errors["translations"] = [_l("Unknown translated field.")]
        if texts:
            cleaned[lang] = texts
    return cleaned


def _code_taken(code, exclude_id=None):
    statement = select(Department.id).where(Department.code == code)
    if exclude_id is not None:
        statement = statement.where(Department.id != exclude_id)
    return db.session.scalar(statement) is not None


def create_department(*, actor, code, name, description="", translations=None):
    """A new department (admin)."""
    _admin(actor)
    errors = {}
    values = _department_values(errors, code, name, description, translations)
    if "code" not in errors and _code_taken(values["code"]):
        errors["code"] = [_l("Another department already uses this code.")]
    if errors:
        raise ValidationFailed(errors=errors)
    department = Department(**values)
    db.session.add(department)
    db.session.flush()
    record_event(
        actor=actor,
        action="department.created",
        entity_type="department",
        entity_id=department.id,
        changes={"code": department.code},
    )
    return department


def update_department(*, actor, department, **fields):
    """Change a department's code, texts, translations or active flag (admin)."""
    _admin(actor)
    current = {
        "code": department.code,
        "name": department.name,
        "description": department.description,
        "translations": department.translations,
    }
    current.update({key: value for key, value in fields.items() if key in current})
    errors = {}
    values = _department_values(errors, **current)
    if "code" not in errors and _code_taken(values["code"], exclude_id=department.id):
        errors["code"] = [_l("Another department already uses this code.")]
    unknown = set(fields) - set(current) - {"is_active"}
    if unknown:
        errors[sorted(unknown)[0]] = [_l("This field cannot be changed.")]
    if errors:
        raise ValidationFailed(errors=errors)
    if "is_active" in fields:
        values["is_active"] = bool(fields["is_active"])
    _audit_changes(actor, department, "department", _changed(department, values))
    db.session.flush()
    return department


def deactivate_department(*, actor, department):
    """Hide a department from the directory; its doctors stay (admin)."""
    return update_department(actor=actor, department=department, is_active=False)


# Clinics ------------------------------------------------------------------------------


def list_clinics(*, city=None, include_inactive=False, page=1, per_page=20):
    """Clinics ordered by city and name, a page at a time."""
    statement = select(Clinic).order_by(Clinic.city, Clinic.name, Clinic.id)
    if not include_inactive:
        statement = statement.where(Clinic.is_active.is_(True))
    if city:
        statement = statement.where(func.lower(Clinic.city) == city.strip().lower())
    return paginate(statement, page=page, per_page=per_page)


def clinic_choices():
    """Every active clinic as (id, name, city), for filters and forms."""
    return db.session.execute(
        select(Clinic.id, Clinic.name, Clinic.city)
        .where(Clinic.is_active.is_(True))
        .order_by(Clinic.city, Clinic.name)
    ).all()


def list_cities():
    """The cities with an active clinic."""
    return db.session.scalars(
        select(Clinic.city).where(Clinic.is_active.is_(True)).distinct().order_by(Clinic.city)
    ).all()


def get_clinic(clinic_id, *, include_inactive=False):
    """One clinic, or NotFound."""
    clinic = db.session.get(Clinic, clinic_id)
    if clinic is None or (not clinic.is_active and not include_inactive):
        raise NotFound()
    return clinic


CLINIC_FIELDS = ("name", "address", "city", "postal_code", "country", "phone", "timezone")


def _clinic_values(values):
    errors = {}
    cleaned = {
        "name": _text(errors, "name", values.get("name"), required=True, limit=120),
        "address": _text(errors, "address", values.get("address")),
        "city": _text(errors, "city", values.get("city"), required=True, limit=120),
        "postal_code": _text(errors, "postal_code", values.get("postal_code"), limit=20),
        "country": (values.get("country") or "").strip().upper(),
        "phone": _text(errors, "phone", values.get("phone"), limit=40),
        "timezone": (values.get("timezone") or "").strip(),
    }
    if not COUNTRY_PATTERN.match(cleaned["country"]):
        errors["country"] = [_l("Use the two-letter country code, such as FR or US.")]
    if cleaned["timezone"] not in time_zones():
        errors["timezone"] = [_l("Choose a time zone from the list, such as Europe/Paris.")]
    if errors:
        raise ValidationFailed(errors=errors)
    return cleaned


def create_clinic(*, actor, **values):
    """A new clinic with a validated IANA time zone (admin)."""
    _admin(actor)
    unknown = set(values) - set(CLINIC_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], _l("This field cannot be changed."))
    clinic = Clinic(**_clinic_values(values))
    db.session.add(clinic)
    db.session.flush()
    record_event(
        actor=actor,
        action="clinic.created",
        entity_type="clinic",
        entity_id=clinic.id,
        changes={"name": clinic.name},
    )
    return clinic


def update_clinic(*, actor, clinic, **fields):
    """Change a clinic's details or active flag (admin)."""
    _admin(actor)
    unknown = set(fields) - set(CLINIC_FIELDS) - {"is_active"}
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], _l("This field cannot be changed."))
    current = {name: getattr(clinic, name) for name in CLINIC_FIELDS}
    current.update({key: value for key, value in fields.items() if key in CLINIC_FIELDS})
    values = _clinic_values(current)
    if "is_active" in fields:
        values["is_active"] = bool(fields["is_active"])
    _audit_changes(actor, clinic, "clinic", _changed(clinic, values))
    db.session.flush()
    return clinic


def deactivate_clinic(*, actor, clinic):
    """Hide a clinic and its doctors from the directory (admin)."""
    return update_clinic(actor=actor, clinic=clinic, is_active=False)


# Doctors ------------------------------------------------------------------------------


def search_doctors(*, department_id=None, clinic_id=None, city=None, q=None, page=1, per_page=20):
    """Active doctors matching the filters, a page at a time, ordered by name."""
    statement = (
        select(Doctor)
        .join(Doctor.user)
        .join(Doctor.clinic)
        .where(Doctor.is_active.is_(True), User.is_active.is_(True), Clinic.is_active.is_(True))
        .options(
            joinedload(Doctor.user), joinedload(Doctor.clinic), selectinload(Doctor.departments)
        )
        .order_by(User.full_name, Doctor.id)
    )
    if department_id:
        statement = statement.where(
            Doctor.id.in_(
                select(doctor_departments.c.doctor_id).where(
                    doctor_departments.c.department_id == department_id
                )
            )
        )
    if clinic_id:
        statement = statement.where(Doctor.clinic_id == clinic_id)
    if city and city.strip():
        statement = statement.where(func.lower(Clinic.city) == city.strip().lower())
    if q and q.strip():
        statement = statement.where(User.full_name.ilike(_like(q)))
    return paginate(statement, page=page, per_page=per_page)


def list_doctors(*, actor, q=None, include_inactive=True, page=1, per_page=20):
    """Every doctor for the admin pages, a page at a time."""
    _admin(actor)
    statement = (
        select(Doctor)
        .join(Doctor.user)
        .options(
            joinedload(Doctor.user), joinedload(Doctor.clinic), selectinload(Doctor.departments)
        )
        .order_by(User.full_name, Doctor.id)
    )
    if not include_inactive:
        statement = statement.where(Doctor.is_active.is_(True))
    if q and q.strip():
        pattern = _like(q)
        statement = statement.where(
            or_(
                User.full_name.ilike(pattern),
                User.email.ilike(pattern),
                Doctor.license_number.ilike(pattern),
            )
        )
    return paginate(statement, page=page, per_page=per_page)


def get_doctor(doctor_id, *, include_inactive=False):
    """One doctor of the directory, or NotFound."""
    doctor = db.session.scalar(
        select(Doctor)
        .where(Doctor.id == doctor_id)
        .options(
            joinedload(Doctor.user), joinedload(Doctor.clinic), selectinload(Doctor.departments)
        )
    )
    if doctor is None:
        raise NotFound()
    if not include_inactive and not (
        doctor.is_active and doctor.user.is_active and doctor.clinic.is_active
    ):
        raise NotFound()
    return doctor


PROFILE_FIELDS = (
    "clinic_id",
    "department_ids",
    "title",
    "license_number",
    "qualifications",
    "experience_years",
    "consultation_fee",
    "currency",
    "bio",
    "translations",
    "max_appointments_per_day",
    "accepting_patients",
)
SELF_FIELDS = ("bio", "qualifications", "accepting_patients", "translations")


def _profile_values(errors, values, *, doctor_id=None):
    cleaned = {}
    if "clinic_id" in values:
        clinic = db.session.get(Clinic, values["clinic_id"] or 0)
        if clinic is None or not clinic.is_active:
            errors["clinic_id"] = [_l("Choose a clinic.")]
        cleaned["clinic_id"] = values["clinic_id"]
    if "department_ids" in values:
        wanted = set(values["department_ids"] or [])
        departments = (
            db.session.scalars(
                select(Department).where(Department.id.in_(wanted), Department.is_active.is_(True))
            ).all()
            if wanted
            else []
        )
        if not wanted or len(departments) != len(wanted):
            errors["department_ids"] = [_l("Choose at least one department.")]
        cleaned["departments"] = departments
    if "title" in values:
        cleaned["title"] = _text(errors, "title", values["title"], limit=40)
    if "license_number" in values:
        licence = _text(errors, "license_number", values["license_number"], required=True, limit=40)
        taken = select(Doctor.id).where(func.lower(Doctor.license_number) == licence.lower())
        if doctor_id is not None:
            taken = taken.where(Doctor.id != doctor_id)
        if licence and db.session.scalar(taken) is not None:
            errors["license_number"] = [_l("Another doctor has this licence number.")]
        cleaned["license_number"] = licence
    if "qualifications" in values:
        cleaned["qualifications"] = _text(
            errors, "qualifications", values["qualifications"], limit=2000
        )
    if "bio" in values:
        cleaned["bio"] = _text(errors, "bio", values["bio"], limit=5000)
    if "translations" in values:
        cleaned["translations"] = _clean_translations(errors, values["translations"], {"bio": 5000})
    if "experience_years" in values:
        years = values["experience_years"]
        if not isinstance(years, int) or not 0 <= years <= 80:
            errors["experience_years"] = [_l("Enter a number of years from 0 to 80.")]
        cleaned["experience_years"] = years
    if "consultation_fee" in values:
        try:
            fee = Decimal(str(values["consultation_fee"])).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            fee = None
        if fee is None or not Decimal(0) <= fee <= Decimal(100000):
            errors["consultation_fee"] = [_l("Enter an amount from 0 to 100000.")]
        cleaned["consultation_fee"] = fee
    if "currency" in values:
        currency = (values["currency"] or "").strip().upper()
        if not CURRENCY_PATTERN.match(currency):
            errors["currency"] = [_l("Use a three-letter currency code, such as EUR.")]
        cleaned["currency"] = currency
    if "max_appointments_per_day" in values:
        maximum = values["max_appointments_per_day"]
        if maximum is not None and (not isinstance(maximum, int) or not 1 <= maximum <= 500):
            errors["max_appointments_per_day"] = [
                _l("Enter a number from 1 to 500, or leave it empty for no limit.")
            ]
        cleaned["max_appointments_per_day"] = maximum
    if "accepting_patients" in values:
        cleaned["accepting_patients"] = bool(values["accepting_patients"])
    return cleaned


def onboard_doctor(*, actor, email, full_name, now, **profile):
    """Create a doctor's login account and profile in one step (admin); returns the
    doctor and the one-time activation token with which they set their password."""
    _admin(actor)
    unknown = set(profile) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], _l("This field cannot be changed."))
    profile.setdefault("clinic_id", None)
    profile.setdefault("department_ids", [])
    profile.setdefault("license_number", "")
    errors = {}
    cleaned = _profile_values(errors, profile)
    try:
        user = auth.create_user(
            email=email, full_name=full_name, password=None, role=Role.DOCTOR, actor=actor
        )
    except ValidationFailed as error:
        errors.update(error.errors)
        user = None
    if errors:
        raise ValidationFailed(errors=errors)
    doctor = Doctor(user=user, **cleaned)
    db.session.add(doctor)
    db.session.flush()
    token = auth.create_activation_token(user=user, actor=actor, now=now)
    record_event(
        actor=actor,
        action="doctor.onboarded",
        entity_type="doctor",
        entity_id=doctor.id,
        changes={"email": user.email},
    )
    return doctor, token


def update_doctor(*, actor, doctor, **fields):
    """Change a doctor's profile: an admin any field, the doctor their bio,
    qualifications and whether they take new patients."""
    auth.require_role(actor, Role.ADMIN, Role.DOCTOR)
    if actor.role == Role.DOCTOR:
        if doctor.user_id != actor.id:
            raise NotFound()
        refused = set(fields) - set(SELF_FIELDS)
        if refused:
            raise NotAllowed(_l("Ask an admin to change %(field)s.", field=sorted(refused)[0]))
    allowed = set(PROFILE_FIELDS) | {"full_name", "email"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], _l("This field cannot be changed."))
    errors = {}
    cleaned = _profile_values(errors, fields, doctor_id=doctor.id)
    user_values = {}
    if "full_name" in fields:
        user_values["full_name"] = _text(
            errors, "full_name", fields["full_name"], required=True, limit=120
        )
    if "email" in fields:
        try:
            email = auth.normalise_email(fields["email"])
        except ValidationFailed as error:
            errors.update(error.errors)
        else:
            other = auth.find_user_by_email(email)
            if other is not None and other.id != doctor.user_id:
                errors["email"] = [_l("An account with this email already exists.")]
            user_values["email"] = email
    if errors:
        raise ValidationFailed(errors=errors)
    changes = {}
    departments = cleaned.pop("departments", None)
    if departments is not None:
        before = sorted(department.id for department in doctor.departments)
        after = sorted(department.id for department in departments)
        if before != after:
            doctor.departments = departments
            changes["department_ids"] = [before, after]
    changes.update(_changed(doctor, cleaned))
    changes.update(_changed(doctor.user, user_values))
    _audit_changes(actor, doctor, "doctor", changes)
    db.session.flush()
    return doctor


def deactivate_doctor(*, actor, doctor, reason, now):
    """Take a doctor out of the directory and the slots; their future appointments are
    cancelled with the reason, which their patients see (admin)."""
    _admin(actor)
    reason = _text({}, "reason", reason, limit=500) or str(_l("The doctor is no longer available."))
    doctor.is_active = False
    doctor.user.is_active = False
    doctor.user.session_version += 1
    future = db.session.scalars(
        select(Appointment).where(
            Appointment.doctor_id == doctor.id,
            Appointment.status == Status.CONFIRMED,
            Appointment.starts_at > now,
        )
    ).all()
    for appointment in future:
        appointment.status = Status.CANCELLED
        appointment.cancelled_at = now
        appointment.cancelled_by_id = actor.id
        appointment.cancel_reason = reason
    record_event(
        actor=actor,
        action="doctor.deactivated",
        entity_type="doctor",
        entity_id=doctor.id,
        changes={"reason": reason, "cancelled_appointments": len(future)},
    )
    db.session.flush()
    return len(future)


# Patients -----------------------------------------------------------------------------

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
        pattern = _like(q)
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
        cleaned["phone"] = _text(errors, "phone", values["phone"], limit=40)
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
        cleaned["allergies"] = _text(errors, "allergies", values["allergies"], limit=2000)
    if "emergency_contact" in values:
        cleaned["emergency_contact"] = _text(
            errors, "emergency_contact", values["emergency_contact"]
        )
    return cleaned


def create_patient(*, actor, email, full_name, now, **fields):
    """A patient record with a login (admin); returns the patient and a one-time
    activation token with which the patient sets a password."""
    _admin(actor)
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
        user_values["full_name"] = _text(
            errors, "full_name", fields["full_name"], required=True, limit=120
        )
    if errors:
        raise ValidationFailed(errors=errors)
    changes = _changed(patient, cleaned)
    changes.update(_changed(patient.user, user_values))
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
    _admin(actor)
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
    _admin(actor)
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
