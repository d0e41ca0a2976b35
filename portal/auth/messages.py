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
