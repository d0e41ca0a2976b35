"""Queueing messages in the caller's transaction, delivering them once, and the log."""

import logging
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr

from flask import current_app, has_request_context, url_for
from flask_babel import lazy_gettext as _l
from flask_mailman import EmailMultiAlternatives
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from portal.db import utcnow
from portal.errors import Conflict, NotAllowed, NotFound
from portal.extensions import db, mail
from portal.messages.models import Message, MessageStatus
from portal.pagination import paginate

log = logging.getLogger(__name__)

# Ids queued in a session's transaction, handed over for delivery once it commits.
PENDING = "portal_messages_pending"

# How long one delivery may take before another deliverer may take the message again.
LEASE = timedelta(minutes=5)

KINDS = (
    "booking_confirmed",
    "booking_moved",
    "booking_cancelled",
    "reminder",
    "doctor_booking",
    "doctor_cancellation",
    "activation",
    "password_reset",
    "verify_email",
)


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message, such as a visit's calendar file."""

    filename: str
    content: bytes
    mimetype: str


def queue(
    *,
    kind,
    event,
    to_address,
    subject,
    text,
    html="",
    language="en",
    user_id=None,
    appointment_id=None,
    lead_minutes=0,
    attachment=None,
    now=None,
):
    """Add a message to the outbox in the caller's transaction (no commit); delivered
    after that transaction commits, never if it rolls back. (event, to_address,
    lead_minutes) is its key: queueing the same key again adds nothing. Returns the new
    message's id, or None when the key was already there or there is no address to send
    to (a patient recorded without an email): nothing is written for them."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    if not (to_address or "").strip():
        log.info("%s message for %s not queued: the recipient has no email", kind, event)
        return None
    now = now or utcnow()
    values = {
        "kind": kind,
        "event": event,
        "lead_minutes": lead_minutes,
        "user_id": user_id,
        "to_address": to_address,
        "language": language or "en",
        "subject": subject[:255],
        "text": text,
        "html": html or "",
        "appointment_id": appointment_id,
        "attachment_name": attachment.filename if attachment else None,
        "attachment_type": attachment.mimetype if attachment else None,
        "attachment": attachment.content if attachment else None,
        "status": MessageStatus.QUEUED,
        "attempts": 0,
        "last_error": "",
        "created_at": now,
        "next_attempt_at": now,
    }
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Message)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["event", "to_address", "lead_minutes"])
        .returning(Message.id)
    )
    message_id = db.session.execute(statement).scalar()
    if message_id is not None:
        db.session.info.setdefault(PENDING, []).append(message_id)
    return message_id


def take_pending(session):
    """The ids queued in the session's transaction that just ended, forgotten there."""
    return session.info.pop(PENDING, None) or []


# Delivering ---------------------------------------------------------------------------


def retry_delay(attempts):
    """How long to wait after the given number of failed attempts: it doubles."""
    base = current_app.config["MESSAGES_RETRY_SECONDS"]
    return timedelta(seconds=base * 2 ** max(attempts - 1, 0))


def _claim(message_id, now):
    # One statement decides who delivers: a row still queued and due is taken (attempts
    # counted, a lease set) by exactly one deliverer; a redelivered task, or a second
    # worker, changes nothing and sends nothing.
    claimed = db.session.execute(
        update(Message)
        .where(
            Message.id == message_id,
            Message.status == MessageStatus.QUEUED,
            Message.next_attempt_at <= now,
        )
        .values(attempts=Message.attempts + 1, next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return claimed == 1


def _email(message):
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=current_app.config.get("MAIL_DEFAULT_SENDER"),
        to=[message.to_address],
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    if message.attachment is not None:
        email.attach(message.attachment_name, message.attachment, message.attachment_type)
    return email


def deliver(message_id, *, now=None):
    """Send one queued message if it is due and nobody else is sending it; commits.
    A failure leaves it queued for a later attempt (each wait twice the one before),
    and marks it failed after MESSAGES_MAX_ATTEMPTS. Returns the message's status, or
    None when there was nothing to do. The SMTP conversation holds no database lock."""
    now = now or utcnow()
    if not _claim(message_id, now):
        return None
    message = db.session.get(Message, message_id)
    if message is None:  # withdrawn meanwhile
        return None
    if not (message.to_address or "").strip():
        # Nowhere to send it: failed at once, never tried again.
        message.status = MessageStatus.FAILED
        message.last_error = "No address to send to."
        db.session.commit()
        return message.status
    try:
        mail.get_connection().send_messages([_email(message)])
    except (smtplib.SMTPException, OSError) as error:
        message.last_error = f"{type(error).__name__}: {error}"[:1000]
        if message.attempts >= current_app.config["MESSAGES_MAX_ATTEMPTS"]:
            message.status = MessageStatus.FAILED
        else:
            message.next_attempt_at = now + retry_delay(message.attempts)
        log.warning("message %s not sent (attempt %s): %s", message_id, message.attempts, error)
    else:
        message.status = MessageStatus.SENT
        message.sent_at = now
        message.last_error = ""
    db.session.commit()
    return message.status


def withdraw(*, appointment_id, kinds):
    """Remove the messages of these kinds about an appointment that are not sent yet
    (a reminder of a visit just cancelled or moved), in the caller's transaction."""
    db.session.execute(
        delete(Message)
        .where(
            Message.appointment_id == appointment_id,
            Message.kind.in_(kinds),
            Message.status == MessageStatus.QUEUED,
        )
        .execution_options(synchronize_session=False)
    )


def messages_to(*, user_id):
    """Every message the portal wrote to one person, oldest first (their data export)."""
    return db.session.scalars(
        select(Message).where(Message.user_id == user_id).order_by(Message.created_at, Message.id)
    ).all()


def forget_recipient(*, user_id, placeholder):
    """A closed account's messages keep no personal data: those not sent yet are
    withdrawn; the others keep their kind, status and times, with the address replaced by
    `placeholder` and the subject, bodies and attachment erased."""
    db.session.execute(
        delete(Message)
        .where(Message.user_id == user_id, Message.status == MessageStatus.QUEUED)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Message)
        .where(Message.user_id == user_id)
        .values(
            to_address=placeholder,
            subject="",
            text="",
            html="",
            attachment=None,
            attachment_name=None,
            attachment_type=None,
            last_error="",
        )
        .execution_options(synchronize_session=False)
    )


def due_messages(*, now, limit=200):
    """Ids of queued messages whose delivery is due: new ones a deliverer never took,
    retries whose wait is over, and deliveries whose lease ran out."""
    return db.session.scalars(
        select(Message.id)
        .where(Message.status == MessageStatus.QUEUED, Message.next_attempt_at <= now)
        .order_by(Message.next_attempt_at, Message.id)
        .limit(limit)
    ).all()


# The delivery log ---------------------------------------------------------------------


def _require_admin(actor):
    # portal.auth sits above messages, so its require_role is not imported; the same check.
    if (
        actor is None
        or not getattr(actor, "is_authenticated", False)
        or actor.role != "admin"
        or not actor.is_active
    ):
        raise NotAllowed()


def list_messages(*, actor, status=None, kind=None, to=None, page=1, per_page=50):
    """The delivery log, newest first, filtered by status, kind and recipient (admin)."""
    _require_admin(actor)
    statement = select(Message)
    if status:
        statement = statement.where(Message.status == status)
    if kind:
        statement = statement.where(Message.kind == kind)
    if to:
        statement = statement.where(Message.to_address == to.strip().lower())
    statement = statement.order_by(Message.created_at.desc(), Message.id.desc())
    return paginate(statement, page=page, per_page=per_page)


def get_message(*, actor, message_id):
    """One message of the log (admin); NotFound when there is none."""
    _require_admin(actor)
    message = db.session.get(Message, message_id)
    if message is None:
        raise NotFound()
    return message


class NotResendable(Conflict):
    code = "not_failed"
    default_message = _l("Only a message whose delivery failed can be sent again.")


def resend(*, actor, message, now):
    """Queue a failed message again, with a fresh count of attempts (admin); delivered
    after the transaction commits."""
    _require_admin(actor)
    if message.status != MessageStatus.FAILED:
        raise NotResendable()
    message.status = MessageStatus.QUEUED
    message.attempts = 0
    message.next_attempt_at = now
    db.session.flush()
    db.session.info.setdefault(PENDING, []).append(message.id)
    return message


def link_to(endpoint, **values):
    """An absolute link into the portal for a message: from the visitor's request when
    there is one, else from PORTAL_URL (messages written by a periodic job)."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=current_app.config["PORTAL_URL"]):
        return url_for(endpoint, _external=True, **values)


def language_of(locale):
    """The language a message to someone with this preferred locale is written in."""
    languages = current_app.config["LANGUAGES"]
    return locale if locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def sender_address():
    """The bare address messages come from (for calendar files' organizer)."""
    return parseaddr(current_app.config.get("MAIL_DEFAULT_SENDER") or "")[1] or None
