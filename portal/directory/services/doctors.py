"""Doctors: the directory search, onboarding and profiles."""

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from portal.audit.services import record_event
from portal.auth import services as auth
from portal.auth.models import Role, User, fold
from portal.directory.models import (
    Clinic,
    Department,
    DirectoryState,
    Doctor,
    doctor_departments,
)
from portal.directory.services.common import (
    CURRENCY_PATTERN,
    apply_changes,
    audit_changes,
    clean_text,
    clean_translations,
    like_pattern,
    require_admin,
)
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.pagination import paginate


def directory_version():
    """The directory's version, read now in one cheap query: any write that may change a
    list of doctors gives it a new value in the same transaction (directory_version.py).
    None when the row is missing: nothing may then be kept."""
    # Core, not the ORM: a value, no entity to track.
    return (
        db.session.connection()
        .execute(select(DirectoryState.version).where(DirectoryState.id == 1))
        .scalar()
    )


def search_doctors(
    *, department_id=None, clinic_id=None, city=None, q=None, page=1, per_page=20, where=()
):
    """Active doctors matching the filters, a page at a time, ordered by name: the total,
    then the page with each doctor's account, clinic and departments in one query.
    `where` adds conditions of the features above (booking lists only doctors with
    weekly hours)."""
    statement = (
        select(Doctor)
        .join(Doctor.user)
        .join(Doctor.clinic)
        .where(Doctor.is_active.is_(True), User.is_active.is_(True), Clinic.is_active.is_(True))
        .where(*where)
        .options(
            contains_eager(Doctor.user),
            contains_eager(Doctor.clinic),
            joinedload(Doctor.departments),
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
        # Accents and case do not matter: "amelie" finds Amélie.
        statement = statement.where(User.search_name.like(like_pattern(fold(q))))
    return paginate(statement, page=page, per_page=per_page)


def list_doctors(*, actor, q=None, include_inactive=True, page=1, per_page=20):
    """Every doctor for the admin pages, a page at a time."""
    require_admin(actor)
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
        pattern = like_pattern(q)
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
        cleaned["title"] = clean_text(errors, "title", values["title"], limit=40)
    if "license_number" in values:
        licence = clean_text(
            errors, "license_number", values["license_number"], required=True, limit=40
        )
        taken = select(Doctor.id).where(func.lower(Doctor.license_number) == licence.lower())
        if doctor_id is not None:
            taken = taken.where(Doctor.id != doctor_id)
        if licence and db.session.scalar(taken) is not None:
            errors["license_number"] = [_l("Another doctor has this licence number.")]
        cleaned["license_number"] = licence
    if "qualifications" in values:
        cleaned["qualifications"] = clean_text(
            errors, "qualifications", values["qualifications"], limit=2000
        )
    if "bio" in values:
        cleaned["bio"] = clean_text(errors, "bio", values["bio"], limit=5000)
    if "translations" in values:
        cleaned["translations"] = clean_translations(errors, values["translations"], {"bio": 5000})
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
    require_admin(actor)
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
            email=email,
            full_name=full_name,
            password=None,
            role=Role.DOCTOR,
            actor=actor,
            missing_name=_l("Enter the doctor's full name."),
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
        user_values["full_name"] = clean_text(
            errors, "full_name", fields["full_name"], required=True, limit=120, name=True
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
    changes.update(apply_changes(doctor, cleaned))
    changes.update(apply_changes(doctor.user, user_values))
    audit_changes(actor, doctor, "doctor", changes)
    db.session.flush()
    return doctor
