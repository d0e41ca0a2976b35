"""Sign-in, registration and password forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

REQUIRED = _l("This field is required.")


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(REQUIRED), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()


class RegisterForm(FlaskForm):
    full_name = StringField(
        _l("Full name"),
        validators=[DataRequired(REQUIRED), Length(max=120)],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(REQUIRED), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(REQUIRED)],
        description=_l("At least 10 characters; not a common password."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(REQUIRED), EqualTo("password", _l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(REQUIRED)],
        description=_l("At least 10 characters; not a common password."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(REQUIRED), EqualTo("new_password", _l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class ActivateForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(REQUIRED)],
        description=_l("At least 10 characters; not a common password."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(REQUIRED), EqualTo("password", _l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(REQUIRED), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )


class VerifyEmailForm(FlaskForm):
    pass


class ResendVerificationForm(FlaskForm):
    next = HiddenField()


class LanguageForm(FlaskForm):
    lang = HiddenField()
    next = HiddenField()


class LogoutForm(FlaskForm):
    pass


# Two-factor sign-in -------------------------------------------------------------------

CODE_HINT = _l("The 6 digits your authenticator app shows, or one of your recovery codes.")


def _code_field(label=None, description=CODE_HINT):
    return StringField(
        label or _l("Code"),
        validators=[DataRequired(REQUIRED), Length(max=32)],
        description=description,
        render_kw={
            "autocomplete": "one-time-code",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )


class SignInCodeForm(FlaskForm):
    code = _code_field()


class ConfirmTwoFactorForm(FlaskForm):
    code = _code_field(description=_l("The 6 digits your authenticator app shows now."))


class DisableTwoFactorForm(FlaskForm):
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(REQUIRED)],
        render_kw={"autocomplete": "current-password"},
    )
    code = _code_field()


class RecoveryCodesForm(FlaskForm):
    code = _code_field()


class SetUpTwoFactorForm(FlaskForm):
    pass
