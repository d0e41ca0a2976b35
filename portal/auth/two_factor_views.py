"""Two-factor sign-in pages: the code asked for after the password, and turning it on
(a QR code drawn by the portal, then recovery codes shown once) or off."""

from datetime import timedelta

from flask import (
    Blueprint,
    abort,
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
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required

from portal.auth import limits, services, sessions, two_factor
from portal.auth.forms import (
    ConfirmTwoFactorForm,
    DisableTwoFactorForm,
    RecoveryCodesForm,
    SetUpTwoFactorForm,
    SignInCodeForm,
)
from portal.db import utcnow
from portal.extensions import limiter
from portal.htmx import hx_redirect, is_htmx
from portal.web import errors_on

bp = Blueprint("two_factor", __name__)

# A password checked, a code not yet: kept in the session, which is not signed in.
PENDING = "otp_pending"
PENDING_FOR = timedelta(minutes=5)
TRIES_PER_SIGN_IN = 5
# Staff who must turn two-factor sign-in on before they use the portal.
MUST_ENROL = "otp_must_enrol"
# What a staff member may open while they still have to turn it on.
OPEN_WHILE_ENROLLING = {
    "two_factor.settings",
    "two_factor.set_up",
    "two_factor.confirm",
    "auth.logout",
    "auth.set_language",
    "static",
}


# Hooks for the sign-in view -------------------------------------------------------------


def ask_for_code(user, *, remember, destination):
    """After the right password: the redirect to the code step when the user has
    two-factor sign-in on, else None (then sign in as usual)."""
    if not two_factor.is_enabled(user):
        return None
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session[PENDING] = {
        "user_id": user.id,
        "version": user.session_version,
        "remember": bool(remember),
        "next": destination,
        "since": utcnow().timestamp(),
        "tries": 0,
    }
    return redirect(url_for("two_factor.sign_in_code"), 303)


def after_sign_in(user, destination):
    """Where a user who just signed in goes: to turn two-factor sign-in on first when
    the clinic requires it of staff, else to `destination`."""
    if not two_factor.needs_enrolment(user):
        return destination
    session[MUST_ENROL] = True
    session["otp_after_enrolment"] = destination
    flash(_("The clinic asks staff to turn on two-factor sign-in. Please do it now."), "info")
    return url_for("two_factor.settings")


@bp.before_app_request
def _enrol_first():
    if not session.get(MUST_ENROL) or request.endpoint in OPEN_WHILE_ENROLLING:
        return None
    if request.blueprint == "api" or not current_user.is_authenticated:
        return None
    target = url_for("two_factor.settings")
    return hx_redirect(target) if is_htmx() else redirect(target, 303)


# The second step ----------------------------------------------------------------------


def _pending():
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    if utcnow().timestamp() - pending.get("since", 0) > PENDING_FOR.total_seconds():
        return None
    return pending


def _pending_key():
    pending = session.get(PENDING)
    if isinstance(pending, dict):
        return f"login-otp:{pending.get('user_id')}"
    return "login-otp-address:" + get_remote_address()


WRONG_CODE = "otp_wrong_code"


def _wrong_code(_response):
    # Every wrong code counts, also the last one of a sign-in (which redirects).
    return g.get(WRONG_CODE, False)


def _start_again(message):
    session.pop(PENDING, None)
    flash(message, "info")
    return redirect(url_for("auth.login"), 303)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["OTP_LIMIT_PER_ACCOUNT"],
    key_func=_pending_key,
    methods=["POST"],
    deduct_when=_wrong_code,
    scope="login-otp",
)
def sign_in_code():
    pending = _pending()
    if pending is None:
        return _start_again(_("Sign in with your email and password first."))
    user = services.signed_in_user(user_id=pending["user_id"], session_version=pending["version"])
    if user is None:
        return _start_again(_("Sign in with your email and password first."))
    form = SignInCodeForm()
    if form.validate_on_submit():
        if two_factor.verify_code(user=user, code=form.code.data, now=utcnow()):
            lang = session.get("lang")
            session.clear()
            if lang and not user.locale:
                user.locale = lang
            sessions.sign_in(user, remember=pending["remember"])
            response = redirect(after_sign_in(user, pending["next"]), 303)
            return limits.remember_device(response, user.email)
        setattr(g, WRONG_CODE, True)
        pending["tries"] += 1
        if pending["tries"] >= TRIES_PER_SIGN_IN:
            return _start_again(_("Too many wrong codes. Sign in again with your password."))
        session[PENDING] = pending
        form.code.errors.append(two_factor.BAD_CODE)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/sign_in_code.html", form=form), status


# Turning it on and off ----------------------------------------------------------------


def _staff_only():
    if current_user.role not in two_factor.STAFF:
        # Patients have no two-factor sign-in: the page does not exist for them.
        abort(404)


def _no_store(body, status=200):
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _settings_page(status=200, **forms):
    user = current_user._get_current_object()
    record = two_factor.find_two_factor(user)
    context = {
        "enabled": record is not None and record.confirmed_at is not None,
        "required": two_factor.needs_enrolment(user),
        "set_up_form": forms.get("set_up_form") or SetUpTwoFactorForm(),
        "confirm_form": forms.get("confirm_form") or ConfirmTwoFactorForm(),
        "disable_form": forms.get("disable_form") or DisableTwoFactorForm(),
        "codes_form": forms.get("codes_form") or RecoveryCodesForm(),
    }
    if context["enabled"]:
        context["remaining"] = two_factor.remaining_recovery_codes(user)
    elif record is not None:
        uri = two_factor.provisioning_uri(user, record)
        context["secret"] = record.secret
        context["qr_code"] = two_factor.qr_code_svg(
            uri, title=_("QR code to scan with your authenticator app")
        )
    # The page may show the secret: keep it out of every cache.
    return _no_store(render_template("auth/two_factor.html", **context), status)


def _codes_page(codes):
    after = session.pop("otp_after_enrolment", None) or url_for("two_factor.settings")
    return _no_store(render_template("auth/recovery_codes.html", codes=codes, after=after))


@bp.get("/account/two-factor")
@login_required
def settings():
    _staff_only()
    return _settings_page()


@bp.post("/account/two-factor/set-up")
@login_required
def set_up():
    _staff_only()
    form = SetUpTwoFactorForm()
    if form.validate_on_submit():
        two_factor.begin_enrolment(user=current_user)
    return redirect(url_for("two_factor.settings"), 303)


@bp.post("/account/two-factor/confirm")
@login_required
def confirm():
    _staff_only()
    form = ConfirmTwoFactorForm()
    if form.validate_on_submit():
        with errors_on(form):
            codes = two_factor.confirm_enrolment(
                user=current_user, code=form.code.data, now=utcnow()
            )
            session.pop(MUST_ENROL, None)
            flash(_("Two-factor sign-in is on."), "success")
            return _codes_page(codes)
    return _settings_page(status=422, confirm_form=form)


@bp.post("/account/two-factor/recovery-codes")
@login_required
def recovery_codes():
    _staff_only()
    form = RecoveryCodesForm()
    if form.validate_on_submit():
        with errors_on(form):
            codes = two_factor.regenerate_recovery_codes(
                user=current_user, code=form.code.data, now=utcnow()
            )
            flash(_("New recovery codes are ready. The old ones no longer work."), "success")
            return _codes_page(codes)
    return _settings_page(status=422, codes_form=form)


@bp.post("/account/two-factor/disable")
@login_required
def disable():
    _staff_only()
    form = DisableTwoFactorForm()
    if form.validate_on_submit():
        with errors_on(form):
            two_factor.disable(
                user=current_user,
                password=form.password.data,
                code=form.code.data,
                now=utcnow(),
            )
            flash(_("Two-factor sign-in is off."), "success")
            return redirect(url_for("two_factor.settings"), 303)
    return _settings_page(status=422, disable_form=form)
