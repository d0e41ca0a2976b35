"""Self-registration: a visitor creates their patient account and is signed in."""

from flask import Blueprint, flash, redirect, render_template, request, session
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.forms import RegisterForm
from portal.auth.sessions import sign_in
from portal.auth.views import home_url
from portal.directory import services
from portal.web import errors_on

bp = Blueprint("directory", __name__)


@bp.route("/register", methods=["GET", "POST"])
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
            flash(_("Welcome, %(name)s. Your account is ready.", name=user.full_name), "success")
            return redirect(home_url(user), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("directory/register.html", form=form), status
