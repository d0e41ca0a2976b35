"""Departments: the specialties doctors belong to, with translated texts."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.audit.services import record_event
from portal.directory.models import (
    Department,
)
from portal.directory.services.common import (
    CODE_PATTERN,
    apply_changes,
    audit_changes,
    clean_text,
    clean_translations,
    require_admin,
)
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db


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
        "name": clean_text(errors, "name", name, required=True, limit=120, name=True),
        "description": clean_text(errors, "description", description, limit=2000),
        "translations": clean_translations(
            errors, translations, {"name": 120, "description": 2000}
        ),
    }
    return values


def _code_taken(code, exclude_id=None):
    statement = select(Department.id).where(Department.code == code)
    if exclude_id is not None:
        statement = statement.where(Department.id != exclude_id)
    return db.session.scalar(statement) is not None


def create_department(*, actor, code, name, description="", translations=None):
    """A new department (admin)."""
    require_admin(actor)
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
    require_admin(actor)
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
    audit_changes(actor, department, "department", apply_changes(department, values))
    db.session.flush()
    return department


def deactivate_department(*, actor, department):
    """Hide a department from the directory; its doctors stay (admin)."""
    return update_department(actor=actor, department=department, is_active=False)
