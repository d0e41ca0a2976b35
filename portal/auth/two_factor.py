"""Two-factor sign-in for staff: a TOTP authenticator app, with one-time recovery codes.

Admins and doctors may turn it on; admins may require it of all staff. Once it is on,
a password alone signs in nobody: the HTML sign-in asks for a code in a second step,
and the API's password grant wants it in an `otp` field.
"""

import hashlib
import hmac
import re
import secrets

import pyotp
import segno
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import delete, select

from portal.audit.services import record_event
from portal.auth.models import RecoveryCode, Role, SignInPolicy, TwoFactor
from portal.auth.passwords import check_password
from portal.auth.services import require_role
from portal.errors import Conflict, NotAllowed, ValidationFailed
from portal.extensions import db

STAFF = (Role.ADMIN, Role.DOCTOR)
ISSUER = "Clinic Portal"
RECOVERY_CODE_COUNT = 10
# A code from the step before or after the current one still counts: clocks drift.
DRIFT_STEPS = 1

BAD_CODE = _l("That code is not right. Enter the 6 digits your app shows now, or a recovery code.")


class AlreadyEnabled(Conflict):
    code = "otp_already_enabled"
    default_message = _l("Two-factor sign-in is already on.")


def _digest(code):
    return hashlib.sha256(code.encode()).hexdigest()


def _normalise(code):
    # People type codes with spaces or dashes, as apps and the recovery list show them.
    return re.sub(r"[\s-]", "", code or "").lower()


# Reading ------------------------------------------------------------------------------


def find_two_factor(user):
    """The user's authenticator record, confirmed or not, or None."""
    return db.session.get(TwoFactor, user.id)


def is_enabled(user):
    """Whether the user signs in with a code as well as the password."""
    if user.role not in STAFF:
        return False  # patients have none: no query for them
    record = find_two_factor(user)
    return record is not None and record.confirmed_at is not None


def get_sign_in_policy():
    """The staff sign-in rules in force (the defaults while nobody saved any)."""
    return db.session.get(SignInPolicy, 1) or SignInPolicy(id=1, require_staff_otp=False)


def needs_enrolment(user):
    """Whether a staff member must turn on two-factor sign-in before using the portal."""
    if user.role not in STAFF or not get_sign_in_policy().require_staff_otp:
        return False
    return not is_enabled(user)


def set_staff_requirement(*, actor, required):
    """An admin requires two-factor sign-in of every admin and doctor, or stops requiring it."""
    require_role(actor, Role.ADMIN)
    policy = get_sign_in_policy()
    db.session.add(policy)  # saved now, should the row be missing
    if policy.require_staff_otp != required:
        record_event(
            actor=actor,
            action="settings.changed",
            entity_type="settings",
            entity_id=1,
            changes={"require_staff_otp": [policy.require_staff_otp, required]},
        )
    policy.require_staff_otp = required
    policy.updated_by_id = actor.id
    db.session.flush()
    return policy


# Enrolment ----------------------------------------------------------------------------


def begin_enrolment(*, user):
    """A fresh secret for the staff member's app, unused until confirmed with a code."""
    if user.role not in STAFF:
        raise NotAllowed()
    record = find_two_factor(user)
    if record is not None and record.confirmed_at is not None:
        raise AlreadyEnabled()
    if record is None:
        record = TwoFactor(user_id=user.id)
        db.session.add(record)
    record.secret = pyotp.random_base32()
    record.last_step = None
    db.session.flush()
    return record


def provisioning_uri(user, record):
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(record.secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_code_svg(uri, *, title):
    """The QR code of `uri` as inline SVG markup, drawn here: no image leaves the portal."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, border=4, dark="#000", light="#fff", title=title, svgclass="qr-code"
    )
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704 (segno escapes)


def _matching_step(record, code, now):
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(record.secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def confirm_enrolment(*, user, code, now):
    """Turn two-factor sign-in on with the first code from the app; returns the recovery
    codes, which are shown this once and kept only as digests."""
    record = find_two_factor(user)
    if record is None or user.role not in STAFF:
        raise NotAllowed()
    if record.confirmed_at is not None:
        raise AlreadyEnabled()
    step = _matching_step(record, _normalise(code), now)
    if step is None:
        raise ValidationFailed.on("code", BAD_CODE)
    record.confirmed_at = now
    record.last_step = step
    codes = _new_recovery_codes(user)
    record_event(actor=user, action="user.otp_enabled", entity_type="user", entity_id=user.id)
    db.session.flush()
    return codes


def _new_recovery_codes(user):
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _number in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(8)  # 64 bits each, and each works once
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_digest(raw)))
    return codes


def regenerate_recovery_codes(*, user, code, now):
    """New recovery codes for a code from the app (or a recovery code); the old ones stop."""
    if not is_enabled(user):
        raise NotAllowed()
    if not verify_code(user=user, code=code, now=now):
        raise ValidationFailed.on("code", BAD_CODE)
    codes = _new_recovery_codes(user)
    record_event(
        actor=user, action="user.recovery_codes_renewed", entity_type="user", entity_id=user.id
    )
    db.session.flush()
    return codes


def remaining_recovery_codes(user):
    """How many unused recovery codes the user has left."""
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


# Signing in ---------------------------------------------------------------------------


def verify_code(*, user, code, now):
    """Whether `code` is a current code from the user's app or one of their unused
    recovery codes; either works once."""
    record = db.session.scalar(
        select(TwoFactor).where(TwoFactor.user_id == user.id).with_for_update()
    )
    if record is None or record.confirmed_at is None:
        return False
    code = _normalise(code)
    step = _matching_step(record, code, now)
    if step is not None:
        if record.last_step is not None and step <= record.last_step:
            return False  # already used: a code seen over a shoulder opens nothing
        record.last_step = step
        db.session.flush()
        return True
    recovery = db.session.scalar(
        select(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _digest(code),
            RecoveryCode.used_at.is_(None),
        )
        .with_for_update()
    )
    if recovery is None:
        return False
    recovery.used_at = now
    record_event(
        actor=user, action="user.recovery_code_used", entity_type="user", entity_id=user.id
    )
    db.session.flush()
    return True


def disable(*, user, password, code, now):
    """Turn two-factor sign-in off, with the password and a code."""
    if not is_enabled(user):
        raise NotAllowed()
    errors = {}
    if not check_password(user.password_hash, password or ""):
        errors["password"] = [_l("Your password is not right.")]
    elif not verify_code(user=user, code=code, now=now):
        errors["code"] = [BAD_CODE]
    if errors:
        raise ValidationFailed(errors=errors)
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.delete(find_two_factor(user))
    record_event(actor=user, action="user.otp_disabled", entity_type="user", entity_id=user.id)
    db.session.flush()
