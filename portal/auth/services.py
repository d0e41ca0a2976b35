"""Account operations: registration, sign-in, passwords, roles."""

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.audit.services import record_event
from portal.auth.models import Role, User
from portal.auth.passwords import check_password, hash_password, password_problems
from portal.db import utcnow
from portal.directory.models import Patient
from portal.errors import NotAllowed, ValidationFailed
from portal.extensions import db


def normalise_email(email):
    """The canonical, lower-cased form of an email address, or ValidationFailed."""
    try:
        result = validate_email((email or "").strip(), check_deliverability=False)
    except EmailNotValidError:
        raise ValidationFailed.on("email", _l("Enter a valid email address.")) from None
    return result.normalized.lower()


def find_user_by_email(email):
    """The user with this email (any case), or None."""
    return db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))


def _check_new_account(email, full_name, password):
    errors = {}
    try:
        email = normalise_email(email)
    except ValidationFailed as error:
        errors.update(error.errors)
    full_name = (full_name or "").strip()
    if not full_name:
        errors["full_name"] = [_l("Enter your full name.")]
    elif len(full_name) > 120:
        errors["full_name"] = [_l("Use at most %(count)d characters.", count=120)]
    if password is not None:
        problems = password_problems(password, email=email or "", full_name=full_name)
        if problems:
            errors["password"] = problems
    if "email" not in errors and find_user_by_email(email) is not None:
        errors["email"] = [_l("An account with this email already exists.")]
    if errors:
        raise ValidationFailed(errors=errors)
    return email, full_name


def create_user(*, email, full_name, password, role, locale=None, actor=None):
    """Create an account of any role; a None password leaves it to be set on activation."""
    email, full_name = _check_new_account(email, full_name, password)
    user = User(
        email=email,
        full_name=full_name,
        role=role,
        locale=locale,
        password_hash=hash_password(password) if password is not None else None,
    )
    db.session.add(user)
    db.session.flush()
    record_event(
        actor=actor or user,
        action="user.created",
        entity_type="user",
        entity_id=user.id,
        changes={"role": role},
    )
    return user


def register_patient(*, email, full_name, password, locale=None):
    """Self-registration: a patient account and its (empty) patient record."""
    user = create_user(
        email=email, full_name=full_name, password=password, role=Role.PATIENT, locale=locale
    )
    db.session.add(Patient(user=user))
    db.session.flush()
    return user


def authenticate(*, email, password):
    """The active user with these credentials, or None; the same effort either way."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        check_password(None, password or "")
        return None
    if not check_password(user.password_hash, password or ""):
        return None
    user.last_login_at = utcnow()
    return user


def change_password(*, user, current_password, new_password):
    """Replace a password after checking the current one; other sessions end."""
    if not check_password(user.password_hash, current_password or ""):
        raise ValidationFailed.on("current_password", _l("Your current password is not right."))
    problems = password_problems(new_password or "", email=user.email, full_name=user.full_name)
    if problems:
        raise ValidationFailed(errors={"new_password": problems})
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    record_event(actor=user, action="user.password_changed", entity_type="user", entity_id=user.id)
    db.session.flush()


def set_locale(*, user, locale, languages):
    """Remember a signed-in user's language."""
    if locale not in languages:
        raise ValidationFailed.on("lang", _l("That language is not available."))
    user.locale = locale
    db.session.flush()


def require_role(actor, *roles):
    """Raise NotAllowed unless the actor is an active user with one of the roles."""
    if actor is None or not getattr(actor, "is_authenticated", False) or actor.role not in roles:
        raise NotAllowed()
    if not actor.is_active:
        raise NotAllowed()
