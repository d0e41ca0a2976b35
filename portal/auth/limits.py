"""How many failed sign-ins are allowed, at the sign-in form and at the API token
endpoint alike: both doors share every count below.

- per account and client (the address, or a device the owner signed in on before):
  tight (LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS), so one guesser is stopped after a few
  tries without closing the account to anyone else;
- per account from everywhere: looser (LOGIN_LIMIT_PER_ACCOUNT), against guessing from
  many addresses; it closes the account to new devices only, never to a browser the
  owner signed in on before (the known-device cookie below);
- per client address, whatever the account (LOGIN_LIMIT_PER_ADDRESS).

Only failures count, and a request beyond a limit answers 429 before the password is
checked. The counts live in the limits' storage: shared by every worker and host when
RATELIMIT_STORAGE_URI names Redis (as production must); with the memory:// default each
process counts alone.
"""

import hashlib
import secrets

from flask import current_app, request
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeSerializer

from portal.extensions import limiter

KNOWN_DEVICE_COOKIE = "known_device"
KNOWN_DEVICE_DAYS = 365


def _fields():
    if request.mimetype == "application/json":
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}
    return request.form


def attempted_email():
    """The account a sign-in attempt names: the form's email or the token request's
    username, in the form emails are stored."""
    fields = _fields()
    value = fields.get("email") or fields.get("username") or ""
    return value.strip().lower() if isinstance(value, str) else ""


def _email_digest(email):
    return hashlib.sha256(email.encode()).hexdigest()[:32]


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="known-device")


def known_device():
    """The id of this browser when the owner of the attempted account signed in on it
    before, else None."""
    cookie = request.cookies.get(KNOWN_DEVICE_COOKIE)
    if not cookie:
        return None
    try:
        device, digest = _serializer().loads(cookie)
    except (BadSignature, ValueError, TypeError):
        return None
    return device if digest == _email_digest(attempted_email()) else None


def remember_device(response, email):
    """After a successful sign-in on the form: this browser is a known device of the
    account (one account per browser: the last to sign in)."""
    value = _serializer().dumps([secrets.token_urlsafe(12), _email_digest(email)])
    config = current_app.config
    response.set_cookie(
        KNOWN_DEVICE_COOKIE,
        value,
        max_age=KNOWN_DEVICE_DAYS * 24 * 3600,
        secure=config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response


def _account():
    return attempted_email()


def _account_and_client():
    return f"{attempted_email()}|{known_device() or get_remote_address()}"


def _failed(response):
    # A success is a redirect (the form) or the tokens (the API).
    return response.status_code >= 400


def _not_a_password_attempt():
    # The token endpoint also trades refresh tokens, which no password guess can use.
    if request.method != "POST":
        return True
    return request.path.startswith("/api/") and _fields().get("grant_type") != "password"


per_account_and_client = limiter.shared_limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS"],
    scope="sign-in-account-client",
    key_func=_account_and_client,
    deduct_when=_failed,
    exempt_when=_not_a_password_attempt,
)

per_account = limiter.shared_limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    scope="sign-in-account",
    key_func=_account,
    deduct_when=_failed,
    exempt_when=lambda: _not_a_password_attempt() or known_device() is not None,
)

per_address = limiter.shared_limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    scope="sign-in-address",
    key_func=get_remote_address,
    deduct_when=_failed,
    exempt_when=_not_a_password_attempt,
)


def limited(view):
    """The three sign-in limits on a view that checks a password."""
    return per_account_and_client(per_account(per_address(view)))
