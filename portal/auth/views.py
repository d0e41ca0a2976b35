"""Sign in, sign out, change password, pick a language."""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth import services, two_factor_views, url_tokens
from portal.auth.errors import InvalidToken
from portal.auth.forms import (
    ActivateForm,
    ChangePasswordForm,
    LanguageForm,
    LoginForm,
    LogoutForm,
)
from portal.db import utcnow
from portal.extensions import limiter
from portal.htmx import hx_redirect, is_htmx
from portal.web import errors_on

bp = Blueprint("auth", __name__)

ACTIVATION = "activation"


def init_login_manager(login_manager):
    """Load users from the session cookie; an outdated session version signs them out."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open that page.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(session_id):
        user_id, _sep, version = session_id.partition(":")
        if not user_id.isdigit() or not version.isdigit():
            return None
        return services.signed_in_user(user_id=int(user_id), session_version=int(version))

    @login_manager.unauthorized_handler
    def unauthorized():
        target = url_for("auth.login", next=request.full_path.rstrip("?"))
        if is_htmx():
            # Never swap the login page into a fragment: navigate the whole page.
            return hx_redirect(target)
        flash(login_manager.login_message, "info")
        return redirect(target)


def safe_next(target):
    """The target when it is a path on this site, else None."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) < 32 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def home_url(user):
    """Where a user lands after signing in."""
    endpoints = {"admin": "admin.dashboard", "doctor": "home.doctor", "patient": "home.patient"}
    return url_for(endpoints[user.role])


def _account_key():
    email = (request.form.get("email") or "").strip().lower()
    return "login-account:" + email


def _failed(response):
    # Only failed sign-ins count towards the limits.
    return response.status_code != 303


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
    scope="login-account",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
    key_func=get_remote_address,
    methods=["POST"],
    deduct_when=_failed,
    scope="login-address",
)
def login():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = services.authenticate(email=form.email.data, password=form.password.data)
        if user is not None:
            destination = safe_next(form.next.data) or home_url(user)
            second_step = two_factor_views.ask_for_code(
                user, remember=form.remember.data, destination=destination
            )
            if second_step is not None:
                return second_step
            lang = session.get("lang")
            session.clear()
            if lang and not user.locale:
                user.locale = lang
            login_user(user, remember=form.remember.data)
            return redirect(two_factor_views.after_sign_in(user, destination), 303)
        form.form_errors.append(_("That email and password do not match an account."))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        logout_user()
        flash(_("You are signed out."), "info")
    return redirect(url_for("home.index"), 303)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        with errors_on(form):
            services.change_password(
                user=user,
                current_password=form.current_password.data,
                new_password=form.new_password.data,
            )
            # Sign in again under the new session version; other devices are signed out.
            login_user(user)
            flash(_("Your password is changed. Other devices are signed out."), "success")
            return redirect(home_url(user), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/change_password.html", form=form), status


@bp.get("/activate/<token>")
def activate(token):
    """The link the clinic sent: its token moves into the session, and the browser goes
    on to an address without it, so no log or history keeps the secret."""
    return url_tokens.exchange(ACTIVATION, token, clean_url=url_for("auth.set_password"))


@bp.route("/activate", methods=["GET", "POST"])
def set_password():
    """An onboarded doctor or patient sets their password with the link the clinic sent."""
    now = utcnow()
    token = url_tokens.held(ACTIVATION)
    try:
        email = services.find_activation(token, now=now, lock=False).user.email
    except InvalidToken:
        url_tokens.forget(ACTIVATION)
        return _activation_page(status=400)
    form = ActivateForm()
    if form.validate_on_submit():
        try:
            with errors_on(form):
                user = services.activate_account(token=token, password=form.password.data, now=now)
                lang = session.get("lang")
                session.clear()
                if lang and not user.locale:
                    user.locale = lang
                login_user(user)
                flash(_("Your password is set. Welcome, %(name)s.", name=user.full_name), "success")
                return redirect(two_factor_views.after_sign_in(user, home_url(user)), 303)
        except InvalidToken:
            url_tokens.forget(ACTIVATION)
            return _activation_page(status=400)
    status = 422 if request.method == "POST" else 200
    return _activation_page(form=form, email=email, status=status)


def _activation_page(status, **context):
    # The page serves a one-time secret: keep it out of every cache.
    response = make_response(render_template("auth/activate.html", **context), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/language")
def set_language():
    form = LanguageForm()
    target = safe_next(form.next.data) or url_for("home.index")
    languages = current_app.config["LANGUAGES"]
    if form.validate_on_submit() and form.lang.data in languages:
        session["lang"] = form.lang.data
        if current_user.is_authenticated:
            services.set_locale(user=current_user, locale=form.lang.data, languages=languages)
    return redirect(target, 303)
