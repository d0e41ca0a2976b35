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
from flask_login import current_user, login_required, logout_user

from portal.auth import limits, services, sessions, two_factor_views, url_tokens
from portal.auth.errors import InvalidToken
from portal.auth.forms import (
    ActivateForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    LogoutForm,
    ResendVerificationForm,
    VerifyEmailForm,
)
from portal.db import utcnow
from portal.extensions import limiter
from portal.htmx import hx_redirect, is_htmx
from portal.web import errors_on

bp = Blueprint("auth", __name__)

ACTIVATION = "activation"


def init_login_manager(login_manager):
    """Load users from the session cookie; an outdated session version, a session left
    unused too long or one past its lifetime signs them out."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to open that page.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(session_id):
        return sessions.load_user(session_id)

    @login_manager.unauthorized_handler
    def unauthorized():
        target = url_for("auth.login", next=request.full_path.rstrip("?"))
        if is_htmx():
            # Never swap the login page into a fragment: navigate the whole page.
            return hx_redirect(target)
        flash(sessions.ended_message() or login_manager.login_message, "info")
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
            sessions.sign_in(user, remember=form.remember.data)
            response = redirect(two_factor_views.after_sign_in(user, destination), 303)
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
            sessions.sign_in(user)
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
                sessions.sign_in(user)
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


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["PASSWORD_RESET_LIMIT_PER_ADDRESS"],
    key_func=get_remote_address,
    methods=["POST"],
    scope="password-reset-address",
)
def forgot_password():
    """Someone who forgot their password asks for a link; the answer is the same whether
    or not the address has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(email=form.email.data, now=utcnow())
        return render_template("auth/forgot_password.html", sent_to=form.email.data)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/forgot_password.html", form=form), status


PASSWORD_RESET = "password_reset"  # noqa: S105  (a session key's name, not a secret)
VERIFY_EMAIL = "verify_email"


@bp.get("/password/reset/<token>")
def reset_link(token):
    """The link from the email: its token moves into the session, and the browser goes
    on to an address without it, as the activation link does."""
    return url_tokens.exchange(PASSWORD_RESET, token, clean_url=url_for("auth.reset_password"))


@bp.route("/password/reset", methods=["GET", "POST"])
def reset_password():
    """Set a new password with the link from the email: once, within the hour."""
    now = utcnow()
    token = url_tokens.held(PASSWORD_RESET)
    try:
        record = services.find_account_token(
            token, purpose=services.PASSWORD_RESET, now=now, lock=False
        )
    except InvalidToken:
        url_tokens.forget(PASSWORD_RESET)
        return _reset_page(status=400)
    email = services.email_of(record.user_id)
    form = ActivateForm()
    if form.validate_on_submit():
        try:
            with errors_on(form):
                user = services.reset_password(token=token, password=form.password.data, now=now)
                lang = session.get("lang")
                session.clear()
                if lang and not user.locale:
                    user.locale = lang
                sessions.sign_in(user)
                flash(_("Your new password is set. Every other device is signed out."), "success")
                return redirect(two_factor_views.after_sign_in(user, home_url(user)), 303)
        except InvalidToken:
            url_tokens.forget(PASSWORD_RESET)
            return _reset_page(status=400)
    status = 422 if request.method == "POST" else 200
    return _reset_page(form=form, email=email, status=status)


def _reset_page(status, **context):
    # The page serves a one-time secret: keep it out of every cache.
    response = make_response(render_template("auth/reset_password.html", **context), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/verify-email/<token>")
def verify_link(token):
    """The link emailed on registration: its token moves into the session, and the
    browser goes on to an address without it."""
    return url_tokens.exchange(VERIFY_EMAIL, token, clean_url=url_for("auth.verify_email"))


@bp.route("/verify-email", methods=["GET", "POST"])
def verify_email():
    """A patient who registered confirms their address with the link emailed to them. The
    page asks for one click, so a mail scanner that opens links verifies nothing."""
    now = utcnow()
    token = url_tokens.held(VERIFY_EMAIL)
    form = VerifyEmailForm()
    try:
        services.find_account_token(token, purpose=services.VERIFY_EMAIL, now=now, lock=False)
        if form.validate_on_submit():
            user = services.verify_email(token=token, now=now)
            url_tokens.forget(VERIFY_EMAIL)
            flash(_("Your email address is confirmed. You can book visits."), "success")
            if current_user.is_authenticated and current_user.id == user.id:
                return redirect(home_url(user), 303)
            return redirect(url_for("auth.login"), 303)
    except InvalidToken:
        url_tokens.forget(VERIFY_EMAIL)
        return _verify_page(status=400)
    return _verify_page(status=200, form=form)


def _verify_page(status, **context):
    response = make_response(render_template("auth/verify_email.html", **context), status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _resend_key():
    return "verify-resend:" + (str(current_user.id) if current_user.is_authenticated else "")


@bp.post("/verify-email/resend")
@login_required
@limiter.limit(
    lambda: current_app.config["VERIFY_RESEND_LIMIT"], key_func=_resend_key, scope="verify-resend"
)
def resend_verification():
    """Email the signed-in patient a new verification link."""
    form = ResendVerificationForm()
    if form.validate_on_submit():
        if current_user.email_verified:
            flash(_("Your email address is confirmed already."), "info")
        else:
            services.send_email_verification(user=current_user, now=utcnow())
            flash(
                _(
                    "We sent a new link to %(email)s. Open it to confirm your address.",
                    email=current_user.email,
                ),
                "info",
            )
    target = safe_next(form.next.data) or home_url(current_user)
    if is_htmx():
        return hx_redirect(target)
    return redirect(target, 303)


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
