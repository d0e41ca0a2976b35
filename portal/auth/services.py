"""Account operations: registration, sign-in, passwords, activation, roles."""

import hashlib
import secrets
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.audit.services import record_event
from portal.auth import messages
from portal.auth.errors import InvalidToken
from portal.auth.models import (
    AccountToken,
    ActivationToken,
    IdempotencyKey,
    RefreshToken,
    User,
)
from portal.auth.passwords import check_password, hash_password, password_problems
from portal.db import utcnow
from portal.errors import Conflict, NotAllowed, ValidationFailed
from portal.extensions import db


def normalise_email(email):
    """The canonical, lower-cased form of an email address, or ValidationFailed."""
    try:
        result = validate_email((email or "").strip(), check_deliverability=False)
    except EmailNotValidError:
        raise ValidationFailed.on("email", _l("Enter a valid email address.")) from None
    return result.normalized.lower()


def email_of(user_id):
    """The address of an account, by its id."""
    return db.session.scalar(select(User.email).where(User.id == user_id))


def find_user_by_email(email):
    """The user with this email (any case), or None."""
    return db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))


TAKEN_EMAIL = _l("An account with this email already exists.")

# Invisible characters that change the direction of the text after them: in a name they
# make it read differently wherever it is shown ("Trojan Source"). Ordinary right-to-left
# scripts need none of them.
DIRECTION_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
DIRECTION_CONTROLS_MESSAGE = _l(
    "Remove the invisible text-direction characters (such as U+202E) from this name."
)


def name_problems(name, *, limit=120, required=True):
    """What is wrong with a person's or a record's name (already stripped), if anything."""
    if required and not name:
        return [_l("Enter your full name.")]
    if len(name) > limit:
        return [_l("Use at most %(count)d characters.", count=limit)]
    if not DIRECTION_CONTROLS.isdisjoint(name):
        return [DIRECTION_CONTROLS_MESSAGE]
    return []


YOUR_NAME = _l("Enter your full name.")


def _check_new_account(email, full_name, password, missing_name=YOUR_NAME, email_optional=False):
    errors = {}
    if email_optional and not (email or "").strip():
        email = None
    else:
        try:
            email = normalise_email(email)
        except ValidationFailed as error:
            errors.update(error.errors)
    full_name = (full_name or "").strip()
    if not full_name:
        errors["full_name"] = [missing_name]
    elif problems := name_problems(full_name):
        errors["full_name"] = problems
    if password is not None:
        problems = password_problems(password, email=email or "", full_name=full_name)
        if problems:
            errors["password"] = problems
    if email is not None and "email" not in errors and find_user_by_email(email) is not None:
        errors["email"] = [TAKEN_EMAIL]
    if errors:
        raise ValidationFailed(errors=errors)
    return email, full_name


def create_user(
    *,
    email,
    full_name,
    password,
    role,
    locale=None,
    actor=None,
    missing_name=YOUR_NAME,
    email_optional=False,
):
    """Create an account of any role; a None password leaves it to be set on activation.
    `missing_name`: the error for an empty name, in the words of who fills the form.
    With `email_optional`, an empty email makes an account without one (None), which
    cannot sign in until an address is added."""
    email, full_name = _check_new_account(
        email, full_name, password, missing_name, email_optional=email_optional
    )
    user = User(
        email=email,
        full_name=full_name,
        role=role,
        locale=locale,
        password_hash=hash_password(password) if password is not None else None,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        # Someone took the address while the password was hashed (the unique index).
        raise ValidationFailed.on("email", TAKEN_EMAIL) from None
    record_event(
        actor=actor or user,
        action="user.created",
        entity_type="user",
        entity_id=user.id,
        changes={"role": role},
    )
    return user


def authenticate(*, email, password):
    """The active user with these credentials, or None; the same effort either way."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        check_password(None, password or "")
        _sign_in_failed(user)
        return None
    if not check_password(user.password_hash, password or ""):
        _sign_in_failed(user)
        return None
    user.last_login_at = utcnow()
    return user


def record_sign_in(*, user):
    """Audit a completed sign-in (after the second factor, where there is one)."""
    record_event(actor=user, action="user.signed_in", entity_type="user", entity_id=user.id)


def _sign_in_failed(user):
    # Audited (the caller keeps it although it answers an error); an unknown email is
    # not kept, it may be a password typed in the wrong field.
    record_event(
        actor=None,
        action="user.sign_in_failed",
        entity_type="user",
        entity_id=user.id if user is not None else None,
    )


def record_lockout(*, email):
    """Audit that sign-ins to an account were refused for too many failed attempts."""
    user = find_user_by_email(email) if email else None
    record_event(
        actor=None,
        action="user.locked_out",
        entity_type="user",
        entity_id=user.id if user is not None else None,
    )


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


def end_sessions(*, user):
    """Sign the user out everywhere: every session cookie, remember-me cookie and API
    token issued before now stops working (they carry the old session version)."""
    user.session_version += 1
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


ACTIVATION_VALID_FOR = timedelta(days=7)


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def create_activation_token(*, user, actor, now):
    """A one-time token for the user to set a password, valid for 7 days, emailed to
    them; returns the token itself, which is stored only as a digest. An account without
    an email gets none (None): there is nowhere to send it, and no address to sign in
    with."""
    if not user.email:
        return None
    token = secrets.token_urlsafe(32)
    activation = ActivationToken(
        user_id=user.id,
        token_hash=_digest(token),
        expires_at=now + ACTIVATION_VALID_FOR,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(activation)
    db.session.flush()
    messages.tell_activation(
        user=user, token=token, token_id=activation.id, expires_at=activation.expires_at, now=now
    )
    return token


def send_new_activation(*, user, actor, now):
    """An account not yet activated got a new address: links sent to the old one (if
    any) stop working, and a fresh one goes to the new address. Returns the token, or
    None for an account that already has a password or has no address."""
    if user.password_hash is not None or not user.email or not user.is_active:
        return None
    db.session.execute(
        delete(ActivationToken)
        .where(ActivationToken.user_id == user.id, ActivationToken.used_at.is_(None))
        .execution_options(synchronize_session=False)
    )
    return create_activation_token(user=user, actor=actor, now=now)


def find_activation(token, *, now, lock=True):
    """The unused, unexpired activation for this token, or InvalidToken. Locked unless
    `lock` is false (to show the page, or to check a password before taking the lock)."""
    query = select(ActivationToken).where(ActivationToken.token_hash == _digest(token or ""))
    if lock:
        # Locked, and read afresh under the lock, so two submissions of the same link
        # cannot both set a password.
        query = query.with_for_update().execution_options(populate_existing=True)
    activation = db.session.scalar(query)
    if activation is None or activation.used_at is not None or activation.expires_at <= now:
        raise InvalidToken()
    if not db.session.get(User, activation.user_id).is_active:
        raise InvalidToken()
    return activation


def activate_account(*, token, password, now):
    """Set the password of an onboarded account once, with its activation token."""
    user = db.session.get(User, find_activation(token, now=now, lock=False).user_id)
    problems = password_problems(password or "", email=user.email, full_name=user.full_name)
    if problems:
        raise ValidationFailed(errors={"password": problems})
    # Hashed before the activation is locked: nobody waits for the hash.
    password_hash = hash_password(password)
    activation = find_activation(token, now=now)
    user.password_hash = password_hash
    user.session_version += 1
    # The link came to the address: it is theirs.
    user.email_verified = True
    activation.used_at = now
    record_event(actor=user, action="user.activated", entity_type="user", entity_id=user.id)
    db.session.flush()
    return user


# Password reset and email verification -----------------------------------------------

RESET_VALID_FOR = timedelta(hours=1)
VERIFICATION_VALID_FOR = timedelta(days=7)
PASSWORD_RESET = "password_reset"  # noqa: S105  (a purpose, not a secret)
VERIFY_EMAIL = "verify_email"


def _issue_account_token(user, purpose, valid_for, now):
    token = secrets.token_urlsafe(32)
    record = AccountToken(
        user_id=user.id,
        purpose=purpose,
        token_hash=_digest(token),
        expires_at=now + valid_for,
        created_at=now,
    )
    db.session.add(record)
    db.session.flush()
    return token, record


def find_account_token(token, *, purpose, now, lock=True):
    """The unused, unexpired link of this purpose for an active user, or InvalidToken.
    Locked (and read afresh) unless `lock` is false, so one link works once."""
    query = select(AccountToken).where(
        AccountToken.token_hash == _digest(token or ""), AccountToken.purpose == purpose
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    record = db.session.scalar(query)
    if record is None or record.used_at is not None or record.expires_at <= now:
        raise InvalidToken()
    user = db.session.get(User, record.user_id)
    if user is None or not user.is_active:
        raise InvalidToken()
    return record


def request_password_reset(*, email, now):
    """Email a single-use link, valid 1 hour, to the active account with this address;
    nothing happens for an unknown address, and the caller cannot tell the difference."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return None
    token, record = _issue_account_token(user, PASSWORD_RESET, RESET_VALID_FOR, now)
    messages.tell_password_reset(
        user=user, token=token, token_id=record.id, expires_at=record.expires_at
    )
    record_event(
        actor=None, action="user.password_reset_requested", entity_type="user", entity_id=user.id
    )
    return None


def reset_password(*, token, password, now):
    """Set a new password with a reset link, once; every session and refresh token of
    the account ends, and every other reset link it had stops working."""
    record = find_account_token(token, purpose=PASSWORD_RESET, now=now, lock=False)
    user = db.session.get(User, record.user_id)
    problems = password_problems(password or "", email=user.email, full_name=user.full_name)
    if problems:
        raise ValidationFailed(errors={"password": problems})
    password_hash = hash_password(password)  # before the lock: nobody waits for the hash
    record = find_account_token(token, purpose=PASSWORD_RESET, now=now)
    user.password_hash = password_hash
    user.session_version += 1
    user.email_verified = True  # the link came to the address
    db.session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == PASSWORD_RESET,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    record.used_at = now
    _revoke_refresh_tokens(user.id, now)
    record_event(actor=user, action="user.password_reset", entity_type="user", entity_id=user.id)
    db.session.flush()
    return user


def send_email_verification(*, user, now):
    """Email the user a link that proves the address is theirs (valid 7 days); nothing
    for an address already verified."""
    if user.email_verified:
        return None
    token, record = _issue_account_token(user, VERIFY_EMAIL, VERIFICATION_VALID_FOR, now)
    messages.tell_verify_email(
        user=user, token=token, token_id=record.id, expires_at=record.expires_at
    )
    return token


def verify_email(*, token, now):
    """Mark the address of the link's account as verified; the link works once."""
    record = find_account_token(token, purpose=VERIFY_EMAIL, now=now)
    user = db.session.get(User, record.user_id)
    record.used_at = now
    if not user.email_verified:
        user.email_verified = True
        record_event(
            actor=user, action="user.email_verified", entity_type="user", entity_id=user.id
        )
    db.session.flush()
    return user


# API tokens ---------------------------------------------------------------------------

REFRESH_VALID_FOR = timedelta(days=30)


# Every request reads its user; a patient's or doctor's request then needs their record.
# Built per call: at import time the doctor and patient models may not be defined yet
# (the relationships name them), and a loader option would configure the mappers early.
def _with_record():
    return (joinedload(User.patient), joinedload(User.doctor))


def signed_in_user(*, user_id, session_version):
    """The active user a session cookie or an access token names, while its session
    version is current, with their patient or doctor record: one query."""
    user = db.session.get(User, user_id, options=_with_record())
    if user is None or not user.is_active or user.session_version != session_version:
        return None
    return user


def issue_refresh_token(*, user, now, valid_for=REFRESH_VALID_FOR):
    """A new single-use refresh token for the user; returns the token, kept as a digest."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        RefreshToken(
            user_id=user.id,
            token_hash=_digest(token),
            session_version=user.session_version,
            expires_at=now + valid_for,
        )
    )
    db.session.flush()
    return token


def _revoke_refresh_tokens(user_id, now):
    db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def rotate_refresh_token(*, token, now, valid_for=REFRESH_VALID_FOR):
    """Spend a refresh token for (user, new refresh token), or None when it is not valid.

    A token presented a second time was copied: every refresh token of its user is
    revoked (the caller must commit that even though the answer is a refusal).
    """
    record = db.session.scalar(
        select(RefreshToken)
        .where(RefreshToken.token_hash == _digest(token or ""))
        .with_for_update()
    )
    if record is None:
        return None
    if record.used_at is not None:
        _revoke_refresh_tokens(record.user_id, now)
        record_event(
            actor=None,
            action="refresh_token.reused",
            entity_type="user",
            entity_id=record.user_id,
        )
        db.session.flush()
        return None
    user = db.session.get(User, record.user_id)
    if (
        record.revoked_at is not None
        or record.expires_at <= now
        or user is None
        or not user.is_active
        or user.session_version != record.session_version
    ):
        return None
    record.used_at = now
    return user, issue_refresh_token(user=user, now=now, valid_for=valid_for)


def revoke_refresh_token(*, token, now):
    """Revoke a refresh token; an unknown or spent one is quietly ignored (RFC 7009)."""
    record = db.session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == _digest(token or ""))
    )
    if record is not None and record.revoked_at is None:
        record.revoked_at = now
        db.session.flush()


def set_reminders(*, user, on):
    """The signed-in user turns the reminders before their visits on or off."""
    if user.notify_reminders != bool(on):
        record_event(
            actor=user,
            action="user.updated",
            entity_type="user",
            entity_id=user.id,
            changes={"notify_reminders": [user.notify_reminders, bool(on)]},
        )
        user.notify_reminders = bool(on)
    db.session.flush()
    return user


def update_account(*, user, languages, **fields):
    """The signed-in user changes their name, language, whether they are reminded of
    their visits, or (with the current one) password; a password change ends every
    other session and token."""
    unknown = set(fields) - {
        "full_name",
        "locale",
        "notify_reminders",
        "current_password",
        "new_password",
    }
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], _l("This field cannot be changed."))
    errors = {}
    if "full_name" in fields and (problems := name_problems((fields["full_name"] or "").strip())):
        errors["full_name"] = problems
    if "locale" in fields and fields["locale"] is not None and fields["locale"] not in languages:
        errors["locale"] = [_l("That language is not available.")]
    if errors:
        raise ValidationFailed(errors=errors)
    if "full_name" in fields and fields["full_name"].strip() != user.full_name:
        record_event(
            actor=user,
            action="user.updated",
            entity_type="user",
            entity_id=user.id,
            changes={"full_name": [user.full_name, fields["full_name"].strip()]},
        )
        user.full_name = fields["full_name"].strip()
    if "locale" in fields:
        user.locale = fields["locale"]
    if fields.get("notify_reminders") is not None:
        set_reminders(user=user, on=fields["notify_reminders"])
    if fields.get("new_password") is not None or fields.get("current_password") is not None:
        change_password(
            user=user,
            current_password=fields.get("current_password"),
            new_password=fields.get("new_password"),
        )
    db.session.flush()
    return user


# Idempotency keys ---------------------------------------------------------------------

IDEMPOTENCY_WINDOW = timedelta(hours=24)


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    default_message = _l("This Idempotency-Key was already used for a different request.")


def find_idempotent_response(*, user, key, request_hash, now):
    """The answer stored for the user's earlier request with this key within 24 hours,
    or None; IdempotencyKeyReused when the key came with a different request.

    The caller's requests with keys take turns (a row lock on PostgreSQL; SQLite's write
    lock is already held), so a retry racing the original waits and then replays it."""
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    record = db.session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user.id, IdempotencyKey.key == key)
    )
    if record is None:
        return None
    if record.created_at <= now - IDEMPOTENCY_WINDOW:
        # Expired: the key may be used afresh.
        db.session.delete(record)
        db.session.flush()
        return None
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused()
    return record


def remember_response(*, user, key, request_hash, status_code, body, location, now):
    """Keep the answer to a request made with an Idempotency-Key, for its retries.
    Two requests racing with one key: the database refuses the second (IntegrityError)."""
    db.session.add(
        IdempotencyKey(
            user_id=user.id,
            key=key,
            request_hash=request_hash,
            status_code=status_code,
            response_body=body,
            location=location,
            created_at=now,
        )
    )
    db.session.flush()


# Closing an account -------------------------------------------------------------------


def close_account(*, user, now):
    """Take every personal detail off an account and end it for good: the name and email
    become placeholders, the password goes, every session and refresh token ends, and the
    one-time links and remembered API answers are deleted. The row stays, so what the
    clinic keeps (past visits, the audit trail) still points to someone, nobody named."""
    user.full_name = CLOSED_NAME
    user.email = f"closed-{user.id}@closed.invalid"
    user.password_hash = None
    user.locale = None
    user.last_login_at = None
    user.is_active = False
    user.session_version += 1
    _revoke_refresh_tokens(user.id, now)
    db.session.execute(delete(ActivationToken).where(ActivationToken.user_id == user.id))
    db.session.execute(delete(AccountToken).where(AccountToken.user_id == user.id))
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == user.id))
    db.session.flush()


# What a closed account is called where the clinic's records still show it.
CLOSED_NAME = "Closed account"
