"""What people are told about their accounts, written into the outbox by the account
services in the transaction of the change."""

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.i18n import format_local
from portal.messages import services as outbox


def tell_activation(*, user, token, token_id, expires_at, now):
    """The one-time link with which an onboarded doctor or patient sets a password."""
    language = outbox.language_of(user.locale)
    with force_locale(language):
        context = {
            "language": language,
            "greeting": _("Hello %(name)s,", name=user.full_name),
            "subject": _("Set your password for the clinic portal"),
            "link": outbox.link_to("auth.activate", token=token),
            "expires": format_local(expires_at, "UTC", "full"),
        }
        text = render_template("messages/activation.txt", **context)
        html = render_template("messages/activation.html", **context)
    return outbox.queue(
        kind="activation",
        event=f"activation-{token_id}",
        to_address=user.email,
        user_id=user.id,
        language=language,
        subject=context["subject"],
        text=text,
        html=html,
        now=now,
    )


def _tell_link(*, kind, user, token_id, endpoint, token, expires_at, subject, intro, button):
    language = outbox.language_of(user.locale)
    with force_locale(language):
        context = {
            "language": language,
            "greeting": _("Hello %(name)s,", name=user.full_name),
            "subject": subject(),
            "intro": intro(),
            "button": button(),
            "link": outbox.link_to(endpoint, token=token),
            "expires": format_local(expires_at, "UTC", "full"),
        }
        text = render_template("messages/account_link.txt", **context)
        html = render_template("messages/account_link.html", **context)
    return outbox.queue(
        kind=kind,
        event=f"{kind.replace('_', '-')}-{token_id}",
        to_address=user.email,
        user_id=user.id,
        language=language,
        subject=context["subject"],
        text=text,
        html=html,
    )


def tell_password_reset(*, user, token, token_id, expires_at):
    """The single-use link with which someone who forgot their password sets a new one."""
    return _tell_link(
        kind="password_reset",
        user=user,
        token_id=token_id,
        endpoint="auth.reset_link",
        token=token,
        expires_at=expires_at,
        subject=lambda: _("Reset your password for the clinic portal"),
        intro=lambda: _(
            "Someone asked to reset the password of your clinic portal account. "
            "Choose a new password with this link:"
        ),
        button=lambda: _("Choose a new password"),
    )


def tell_verify_email(*, user, token, token_id, expires_at):
    """The link with which a patient who registered proves the address is theirs."""
    return _tell_link(
        kind="verify_email",
        user=user,
        token_id=token_id,
        endpoint="auth.verify_link",
        token=token,
        expires_at=expires_at,
        subject=lambda: _("Confirm your email address for the clinic portal"),
        intro=lambda: _(
            "Welcome to the clinic portal. Confirm that this address is yours, "
            "and you can book visits:"
        ),
        button=lambda: _("Confirm my address"),
    )
