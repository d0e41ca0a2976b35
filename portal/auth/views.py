"""Sign in, sign out, change password, pick a language."""

from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth import limits, services
from portal.auth.errors import InvalidToken
from portal.auth.forms import (
    ActivateForm,
    ChangePasswordForm,
    LanguageForm,
    LoginForm,
    LogoutForm,
)
from portal.auth.models import Role
from portal.db import utcnow
from portal.htmx import hx_redirect, is_htmx
from portal.web import errors_on

bp = Blueprint("auth", __name__)


# A session's id is "user:session version:signed-in instant" (seconds): the remember-me
# cookie carries the same id, so the lifetime holds for it too, and a sign-out (a new
# session version) ends both. The session also keeps when it was last used.
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


def init_login_manager(login_manager):
    """Load users from the session cookie; an outdated session version, a session left
    unused too long or one past its lifetime signs them out."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open that page.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(session_id):
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

    @login_manager.unauthorized_handler
    def unauthorized():
        target = url_for("auth.login", next=request.full_path.rstrip("?"))
        if is_htmx():
            # Never swap the login page into a fragment: navigate the whole page.
            return hx_redirect(target)
        ended = g.get(SESSION_ENDED)
        flash(ENDED_MESSAGES[ended] if ended else login_manager.login_message, "info")
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


@bp.route("/login", methods=["GET", "POST"])
@limits.limited
def login():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = services.authenticate(email=form.email.data, password=form.password.data)
        if user is not None:
            lang = session.get("lang")
            session.clear()
            if lang and not user.locale:
                user.locale = lang
            sign_in(user, remember=form.remember.data)
            response = redirect(safe_next(form.next.data) or home_url(user), 303)
            return limits.remember_device(response, user.email)
        form.form_errors.append(_("That email and password do not match an account."))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            # Every copy of this session, and every other device and token, ends too.
            services.end_sessions(user=current_user._get_current_object())
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
            sign_in(user)
            flash(_("Your password is changed. Other devices are signed out."), "success")
            return redirect(home_url(user), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/change_password.html", form=form), status


@bp.route("/activate/<token>", methods=["GET", "POST"])
def activate(token):
    """An onboarded doctor or patient sets their password with the link the clinic sent."""
    now = utcnow()
    try:
        email = services.find_activation(token, now=now, lock=False).user.email
    except InvalidToken:
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
                sign_in(user)
                flash(_("Your password is set. Welcome, %(name)s.", name=user.full_name), "success")
                return redirect(home_url(user), 303)
        except InvalidToken:
            return _activation_page(status=400)
    status = 422 if request.method == "POST" else 200
    return _activation_page(form=form, email=email, token=token, status=status)


def _activation_page(status, **context):
    # The address holds a one-time secret: keep the page out of every cache.
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
