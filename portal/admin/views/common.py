"""What every admin page shares: the blueprint, the admins-only gate and small helpers."""

from flask import Blueprint, abort, current_app, make_response, request, url_for
from flask_login import current_user

from portal.admin.forms import ActionForm
from portal.auth.models import Role
from portal.auth.services import ACTIVATION_VALID_FOR, require_role

bp = Blueprint("admin", __name__)


@bp.before_request
def _admins_only():
    # Defence in depth: every service called below checks the role again.
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    require_role(current_user, Role.ADMIN)
    return None


@bp.after_request
def _no_store(response):
    # Admin pages show people's personal and medical data and the audit trail.
    response.headers["Cache-Control"] = "no-store"
    return response


def page_number():
    """The page of a list the query string asks for."""
    return request.args.get("page", 1, type=int)


def check_action():
    """A button's form (its CSRF token) must be valid, else 400."""
    if not ActionForm().validate_on_submit():
        abort(400)


def activation_link(token, now):
    """The one-time link a new doctor or patient sets their password with."""
    return {
        "url": url_for("auth.activate", token=token, _external=True),
        "expires_at": now + ACTIVATION_VALID_FOR,
    }


def no_store(body, status=200):
    """A page showing a one-time link, kept out of every cache."""
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response
