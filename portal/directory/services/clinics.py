"""Clinics: where doctors work, each with its own time zone."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.audit.services import record_event
from portal.directory.models import (
    Clinic,
)
from portal.directory.services.common import (
    COUNTRY_PATTERN,
    apply_changes,
    audit_changes,
    clean_text,
    require_admin,
    time_zones,
)
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.pagination import paginate


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
        "name": clean_text(errors, "name", values.get("name"), required=True, limit=120, name=True),
        "address": clean_text(errors, "address", values.get("address")),
        "city": clean_text(errors, "city", values.get("city"), required=True, limit=120),
        "postal_code": clean_text(errors, "postal_code", values.get("postal_code"), limit=20),
        "country": (values.get("country") or "").strip().upper(),
        "phone": clean_text(errors, "phone", values.get("phone"), limit=40),
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
    require_admin(actor)
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
    require_admin(actor)
    unknown = set(fields) - set(CLINIC_FIELDS) - {"is_active"}
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], _l("This field cannot be changed."))
    current = {name: getattr(clinic, name) for name in CLINIC_FIELDS}
    current.update({key: value for key, value in fields.items() if key in CLINIC_FIELDS})
    values = _clinic_values(current)
    if "is_active" in fields:
        values["is_active"] = bool(fields["is_active"])
    audit_changes(actor, clinic, "clinic", apply_changes(clinic, values))
    db.session.flush()
    return clinic


def deactivate_clinic(*, actor, clinic):
    """Hide a clinic and its doctors from the directory (admin)."""
    return update_clinic(actor=actor, clinic=clinic, is_active=False)
