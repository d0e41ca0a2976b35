"""The delivery log of every message, with "send again", and in development the
Mailbox, where every message sent can be read."""

from flask import abort, current_app, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin.views.common import bp, check_action, page_number
from portal.db import utcnow
from portal.htmx import hx_redirect
from portal.messages import services as messages
from portal.messages.models import MessageStatus


def _status_labels():
    return {
        MessageStatus.QUEUED: _("Queued"),
        MessageStatus.SENT: _("Sent"),
        MessageStatus.FAILED: _("Failed"),
    }


def _filters():
    status = request.args.get("status") or None
    kind = request.args.get("kind") or None
    return {
        "status": status if status in set(MessageStatus) else None,
        "kind": kind if kind in messages.KINDS else None,
        "to": (request.args.get("to") or "").strip()[:254] or None,
    }


@bp.get("/messages")
def messages_log():
    filters = _filters()
    page = messages.list_messages(actor=current_user, **filters, page=page_number(), per_page=50)
    return render_template(
        "admin/messages.html",
        page=page,
        filters=filters,
        kinds=messages.KINDS,
        statuses=list(MessageStatus),
        status_labels=_status_labels(),
    )


@bp.post("/messages/<int:message_id>/resend")
def resend_message(message_id):
    message = messages.get_message(actor=current_user, message_id=message_id)
    check_action()
    messages.resend(actor=current_user, message=message, now=utcnow())
    flash(_("The message to %(to)s is queued again.", to=message.to_address), "success")
    return hx_redirect(url_for(".messages_log", **request.args))


@bp.get("/mailbox")
def mailbox():
    # A development aid: what the portal sent, readable without a mail client.
    if current_app.config["ENV_NAME"] != "development":
        abort(404)
    page = messages.list_messages(
        actor=current_user, status=MessageStatus.SENT, page=page_number(), per_page=20
    )
    return render_template("admin/mailbox.html", page=page)
