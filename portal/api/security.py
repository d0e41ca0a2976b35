"""Bearer authentication: short-lived JWT access tokens, checked on every request.

An access token names the user (`sub`) and the session version it was issued under
(`sv`); a password change or deactivation bumps the version, so older tokens stop
working at once. The session cookie never authenticates an API request.
"""

import hashlib
import hmac
from datetime import timedelta

import jwt
from flask import current_app, g, request
from flask_babel import lazy_gettext as _l

from portal.api.problems import ApiError
from portal.auth import services as auth

ALGORITHM = "HS256"
AUDIENCE = "clinic-portal-api"

NOT_AUTHENTICATED = _l("Send an access token: Authorization: Bearer <token>.")
BAD_TOKEN = _l("The access token is not valid or has expired. Get a new one.")


def _key():
    # A key of its own, derived from the secret key, so a token can never pass for a
    # session cookie or any other signed value.
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"portal.api.access-token", hashlib.sha256).digest()


def access_token_lifetime():
    """How long an access token lives."""
    return timedelta(minutes=current_app.config["API_ACCESS_TOKEN_MINUTES"])


def issue_access_token(user, *, now):
    """A signed access token for the user, valid for the configured minutes."""
    claims = {
        "sub": str(user.id),
        "sv": user.session_version,
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + access_token_lifetime()).timestamp()),
    }
    return jwt.encode(claims, _key(), algorithm=ALGORITHM)


def _unauthorized(code, message, error=None):
    challenge = 'Bearer realm="api"'
    if error:
        challenge += f', error="{error}"'
    return ApiError(401, code, message, headers={"WWW-Authenticate": challenge})


def _user_from_token(token):
    try:
        claims = jwt.decode(
            token,
            _key(),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["sub", "sv", "exp", "aud"]},
        )
        user_id, version = int(claims["sub"]), claims["sv"]
    except (jwt.PyJWTError, TypeError, ValueError):
        return None
    if not isinstance(version, int) or not 1 <= user_id < 2**31:
        return None
    return auth.signed_in_user(user_id=user_id, session_version=version)


def caller(*, required=True):
    """The user the request's bearer token names; None for an anonymous request when
    the token is optional. A token that is present but bad is always a 401."""
    if "api_caller" in g:
        return g.api_caller
    header = request.headers.get("Authorization", "")
    if not header.strip():
        if required:
            raise _unauthorized("not_authenticated", NOT_AUTHENTICATED)
        g.api_caller = None
        return None
    scheme, _sep, token = header.strip().partition(" ")
    user = _user_from_token(token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        raise _unauthorized("invalid_token", BAD_TOKEN, error="invalid_token")
    g.api_caller = user
    return user
