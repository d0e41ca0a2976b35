"""Accounts over the API: register, tokens (OAuth 2.0 password and refresh grants),
revoke, activate, and the caller's own account."""

from datetime import timedelta

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address

from portal.api import schemas, security
from portal.api.outputs import user_out
from portal.api.problems import ApiError
from portal.api.routing import FORM, accepted, no_content, operation, reply
from portal.api.security import access_token_lifetime, issue_access_token
from portal.auth import limits, two_factor
from portal.auth import services as auth
from portal.db import keep_changes, utcnow
from portal.directory import services as directory
from portal.errors import ValidationFailed
from portal.extensions import limiter

TAG = "Accounts"

BAD_PASSWORD = _l("That email and password do not match an account.")
OTP_REQUIRED = _l("This account signs in with a code too: send it in the otp field.")
OTP_ENROLMENT_REQUIRED = _l(
    "The clinic requires two-factor sign-in of staff. Turn it on in the portal first."
)
BAD_REFRESH = _l("This refresh token is not valid any more. Sign in again.")


def _token_fields():
    if request.mimetype == FORM:
        return request.form
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _invalid_grant(message):
    return ApiError(
        401,
        "invalid_grant",
        message,
        headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_grant"'},
        extra={"error": "invalid_grant"},
    )


def _check_second_factor(user, otp, now):
    """Staff with two-factor sign-in send a code with the password; staff whom the
    clinic requires to use it, and who have not turned it on, get no token."""
    if two_factor.is_enabled(user):
        if not otp:
            raise ApiError(
                401,
                "otp_required",
                OTP_REQUIRED,
                headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_grant"'},
                extra={"error": "invalid_grant"},
            )
        if not two_factor.verify_code(user=user, code=otp, now=now):
            raise ApiError(
                401,
                "otp_invalid",
                two_factor.BAD_CODE,
                headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_grant"'},
                extra={"error": "invalid_grant"},
            )
    elif two_factor.needs_enrolment(user):
        raise ApiError(403, "otp_enrolment_required", OTP_ENROLMENT_REQUIRED)


def _required(field):
    return ValidationFailed.on(field, _l("This field is required."))


@operation(
    "/auth/register",
    "POST",
    summary="Register as a patient",
    description=(
        "Creates a patient account (only patients register themselves) and emails a link "
        "to confirm the address; until then `email_verified` is false and booking answers "
        "403 `email_not_verified`. Limited per client address (429)."
    ),
    tag=TAG,
    auth="none",
    body=schemas.RegisterIn,
    response=schemas.UserOut,
    status=201,
    location=True,
    errors=(429,),
)
@limiter.limit(
    lambda: current_app.config["REGISTER_LIMIT_PER_ADDRESS"],
    key_func=get_remote_address,
    deduct_when=lambda response: response.status_code == 201,
    scope="api-register-address",
)
def register(body):
    user = directory.register_patient(
        email=body.email,
        full_name=body.full_name,
        password=body.password,
        phone=body.phone,
        date_of_birth=body.date_of_birth,
    )
    location = url_for("api.get_patient", patient_id=user.patient.id)
    return reply(user_out(user), status=201, location=location)


@operation(
    "/auth/token",
    "POST",
    summary="Get tokens",
    description=(
        "OAuth 2.0 password grant (`grant_type=password`, `username` = the email, "
        "`password`) or refresh grant (`grant_type=refresh_token`, `refresh_token`), "
        "as a form or as JSON. Refresh tokens are single use: each refresh returns a new "
        "one, and presenting a spent one revokes every refresh token of its account. "
        "Failed attempts are limited per account and per client address (429). "
        "Staff with two-factor sign-in add `otp` (the 6-digit code from their app, or a "
        "recovery code) to the password grant: without it the answer is 401 "
        "`otp_required`, with a wrong or already used code 401 `otp_invalid`. Staff whom "
        "the clinic requires to use two-factor sign-in and who have not turned it on get "
        "403 `otp_enrolment_required`."
    ),
    tag=TAG,
    auth="none",
    body=schemas.TokenIn,
    response=schemas.TokenOut,
    errors=(401, 403, 429),
    form=True,
)
@limits.limited
def token(body):
    now = utcnow()
    valid_for = timedelta(days=current_app.config["API_REFRESH_TOKEN_DAYS"])
    if body.grant_type == "password":
        if not body.username:
            raise _required("username")
        if body.password is None:
            raise _required("password")
        user = auth.authenticate(email=body.username, password=body.password)
        if user is None:
            raise _invalid_grant(BAD_PASSWORD)
        _check_second_factor(user, body.otp, now)
        refresh_token = auth.issue_refresh_token(user=user, now=now, valid_for=valid_for)
    else:
        if not body.refresh_token:
            raise _required("refresh_token")
        spent = auth.rotate_refresh_token(token=body.refresh_token, now=now, valid_for=valid_for)
        if spent is None:
            # A reused token revoked its account's tokens: that must stick.
            keep_changes()
            raise _invalid_grant(BAD_REFRESH)
        user, refresh_token = spent
    tokens = schemas.TokenOut(
        access_token=issue_access_token(user, now=now),
        token_type="bearer",  # noqa: S106  (the OAuth 2.0 token type, not a secret)
        expires_in=int(access_token_lifetime().total_seconds()),
        refresh_token=refresh_token,
    )
    return reply(tokens, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@operation(
    "/auth/revoke",
    "POST",
    summary="Revoke a refresh token",
    description="An unknown or spent token is ignored, as RFC 7009 asks.",
    tag=TAG,
    auth="none",
    body=schemas.RevokeIn,
    status=204,
)
def revoke(body):
    auth.revoke_refresh_token(token=body.refresh_token, now=utcnow())
    return no_content()


@operation(
    "/auth/activate",
    "POST",
    summary="Set the password of an onboarded account",
    description="Uses the one-time activation token; a used, expired or unknown one is 400.",
    tag=TAG,
    auth="none",
    body=schemas.ActivateIn,
    status=204,
)
def activate(body):
    auth.activate_account(token=body.token, password=body.password, now=utcnow())
    return no_content()


@operation(
    "/auth/password-reset",
    "POST",
    summary="Ask for a password reset link",
    description=(
        "Emails a single-use link, valid 1 hour, to the account with this address. The "
        "answer is the same whether or not the address has an account. Limited per client "
        "address (429)."
    ),
    tag=TAG,
    auth="none",
    body=schemas.PasswordResetIn,
    status=202,
    errors=(429,),
)
@limiter.limit(
    lambda: current_app.config["PASSWORD_RESET_LIMIT_PER_ADDRESS"],
    key_func=get_remote_address,
    scope="api-password-reset-address",
)
def password_reset(body):
    auth.request_password_reset(email=body.email, now=utcnow())
    return accepted()


@operation(
    "/auth/password-reset/confirm",
    "POST",
    summary="Set a new password with a reset link",
    description=(
        "Uses the token from the emailed link, once. Every session and refresh token of "
        "the account ends. A used, expired or unknown token: 400 `invalid_token`."
    ),
    tag=TAG,
    auth="none",
    body=schemas.PasswordResetConfirmIn,
    status=204,
)
def password_reset_confirm(body):
    auth.reset_password(token=body.token, password=body.password, now=utcnow())
    return no_content()


@operation(
    "/auth/verify-email",
    "POST",
    summary="Confirm an email address",
    description=(
        "Uses the token from the link emailed on registration. A used, expired or unknown "
        "token: 400 `invalid_token`."
    ),
    tag=TAG,
    auth="none",
    body=schemas.VerifyEmailIn,
    status=204,
)
def verify_email(body):
    auth.verify_email(token=body.token, now=utcnow())
    return no_content()


def _caller_key():
    return "api-verify-resend:" + str(security.caller().id)


@operation(
    "/auth/verify-email/resend",
    "POST",
    summary="Send the email verification link again",
    description=(
        "Emails the signed-in user a new link to confirm their address (nothing when it "
        "is confirmed already). Limited per account (429)."
    ),
    tag=TAG,
    status=202,
    body_required=False,
    errors=(429,),
)
@limiter.limit(
    lambda: current_app.config["VERIFY_RESEND_LIMIT"],
    key_func=_caller_key,
    scope="api-verify-resend",
)
def resend_verification(caller):
    auth.send_email_verification(user=caller, now=utcnow())
    return accepted()


@operation(
    "/me",
    "GET",
    summary="The caller's account",
    tag=TAG,
    response=schemas.UserOut,
)
def get_me(caller):
    return reply(user_out(caller))


@operation(
    "/me",
    "PATCH",
    summary="Change the caller's name, language, reminders or password",
    description=(
        "Changing the password needs `current_password` and ends every other session "
        "and token, this access token included."
    ),
    tag=TAG,
    body=schemas.MeUpdate,
    response=schemas.UserOut,
)
def update_me(caller, body):
    auth.update_account(
        user=caller,
        languages=current_app.config["LANGUAGES"],
        **body.model_dump(exclude_unset=True),
    )
    return reply(user_out(caller))
