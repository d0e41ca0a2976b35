"""Self-registration: a visitor creates their patient account and is signed in."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, session
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user

from portal.auth.forms import RegisterForm
from portal.auth.sessions import sign_in
from portal.auth.views import home_url
from portal.directory import services
from portal.extensions import limiter
from portal.web import errors_on

bp = Blueprint("directory", __name__)


def _created(response):
    # Only accounts made count towards the limit; a form with a typo does not.
    return response.status_code == 303


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["REGISTER_LIMIT_PER_ADDRESS"],
    key_func=get_remote_address,
    methods=["POST"],
    deduct_when=_created,
    scope="register-address",
)
def register():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = RegisterForm()
    if form.validate_on_submit():
        with errors_on(form):
            user = services.register_patient(
                email=form.email.data,
                full_name=form.full_name.data,
                password=form.password.data,
                locale=session.get("lang"),
            )
            sign_in(user)
            flash(
                _(
                    "Welcome, %(name)s. We sent a link to %(email)s: open it to confirm "
                    "your address, and you can book visits.",
                    name=user.full_name,
                    email=user.email,
                ),
                "success",
            )
            return redirect(home_url(user), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("directory/register.html", form=form), status
