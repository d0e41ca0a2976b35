"""Operations: the health check and the booking rules."""

from flask import current_app
from flask_limiter.util import get_remote_address

from portal import db as database
from portal.api import schemas
from portal.api.outputs import settings_out
from portal.api.problems import HTTP_DETAILS, ApiError
from portal.api.routing import operation, reply
from portal.auth import two_factor
from portal.booking import services as booking
from portal.extensions import db, limiter


@operation(
    "/health",
    "GET",
    summary="Health check",
    description=(
        "Whether the API and its database answer; 503 when the database is unreachable. "
        "At most 30 requests a minute per client (429 beyond)."
    ),
    tag="Operations",
    auth="none",
    response=schemas.HealthOut,
    errors=(429, 503),
)
@limiter.limit(
    lambda: current_app.config["API_HEALTH_LIMIT"],
    key_func=get_remote_address,
    scope="api-health",
)
def health():
    if not database.database_ok(db.session):
        raise ApiError(503, "unavailable", HTTP_DETAILS[500], extra={"database": "unreachable"})
    return reply(schemas.HealthOut(status="ok", database="ok"))


@operation(
    "/settings",
    "GET",
    summary="The booking rules",
    description=(
        "Minimum notice, booking horizon, cancellation cutoff, reminder leads, the most "
        "upcoming visits a patient may hold, and whether staff must use two-factor sign-in "
        "(admin)."
    ),
    tag="Settings",
    response=schemas.SettingsOut,
    errors=(403,),
)
def get_settings(caller):
    settings = booking.read_booking_settings(actor=caller)
    return reply(settings_out(settings, two_factor.get_sign_in_policy()))


@operation(
    "/settings",
    "PATCH",
    summary="Change the booking rules",
    description=(
        "Every slot and booking obeys them at once. With `require_staff_otp`, admins and "
        "doctors without two-factor sign-in must turn it on in the portal before they "
        "get tokens (admin)."
    ),
    tag="Settings",
    body=schemas.SettingsUpdate,
    response=schemas.SettingsOut,
    errors=(403,),
)
def update_settings(caller, body):
    current = booking.read_booking_settings(actor=caller)
    changes = body.model_dump(exclude_unset=True)
    require_staff_otp = changes.pop("require_staff_otp", None)
    values = {
        "min_notice_minutes": current.min_notice_minutes,
        "horizon_days": current.horizon_days,
        "cancel_cutoff_hours": current.cancel_cutoff_hours,
        "max_upcoming_per_patient": current.max_upcoming_per_patient,
        **changes,
    }
    settings = booking.update_booking_settings(actor=caller, **values)
    if require_staff_otp is not None:
        two_factor.set_staff_requirement(actor=caller, required=require_staff_otp)
    return reply(settings_out(settings, two_factor.get_sign_in_policy()))
