"""Sessions that end: a session's id is "user:session version:signed-in instant"
(seconds). The remember-me cookie carries the same id, so the lifetime holds for it too,
and a sign-out (a new session version) ends both. The session also keeps when it was
last used, for the idle time."""

from datetime import timedelta

from flask import current_app, g, session
from flask_babel import lazy_gettext as _l
from flask_login import login_user

from portal.auth import services
from portal.auth.models import Role
from portal.db import utcnow

SEEN_AT = "seen_at"
# A session in use is stamped again at most this often (seconds), so most answers send
# no new cookie.
SEEN_STEP = 60
SESSION_ENDED = "portal_session_ended"

ENDED_MESSAGES = {
    "idle": _l("You were signed out after a while without activity. Please sign in again."),
    "lifetime": _l("Your session reached its time limit. Please sign in again."),
}


def _limits(user):
    """Seconds a session of this user may sit unused, and may last at all."""
    config = current_app.config
    kind = "PATIENT" if user.role == Role.PATIENT else "STAFF"
    return (
        config[f"SESSION_IDLE_MINUTES_{kind}"] * 60,
        config[f"SESSION_LIFETIME_HOURS_{kind}"] * 3600,
    )


def _now():
    return int(utcnow().timestamp())


def sign_in(user, *, remember=False):
    """Start a session for the user. Only patients may be kept signed in after the
    browser closes, and then no longer than their session lifetime."""
    _idle, lifetime = _limits(user)
    login_user(
        user,
        remember=remember and user.role == Role.PATIENT,
        duration=timedelta(seconds=lifetime),
    )
    now = _now()
    session["_user_id"] = f"{user.get_id()}:{now}"
    session[SEEN_AT] = now


def _end_this_session(reason):
    session.pop("_user_id", None)
    session.pop(SEEN_AT, None)
    session["_remember"] = "clear"  # Flask-Login deletes the remember-me cookie
    setattr(g, SESSION_ENDED, reason)


def ended_message():
    """Why this request's session just ended, for the sign-in page, or None."""
    ended = g.get(SESSION_ENDED)
    return ENDED_MESSAGES[ended] if ended else None


def load_user(session_id):
    """The user a session names while its version is current, it was used recently
    enough and it is within its lifetime; else None (and the session ends)."""
    parts = session_id.split(":")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        return None
    user_id, version, signed_in_at = (int(part) for part in parts)
    user = services.signed_in_user(user_id=user_id, session_version=version)
    if user is None:
        return None
    idle, lifetime = _limits(user)
    now = _now()
    # No stamp: the session was just restored from the remember-me cookie.
    seen_at = session.get(SEEN_AT)
    if now - signed_in_at > lifetime:
        _end_this_session("lifetime")
        return None
    if seen_at is not None and now - seen_at > idle:
        _end_this_session("idle")
        return None
    if seen_at is None or now - seen_at >= SEEN_STEP:
        session[SEEN_AT] = now
    return user
