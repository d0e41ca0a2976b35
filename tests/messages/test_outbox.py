"""The outbox: written with its cause, delivered once after commit, retried, failed."""

import email
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.db import utcnow
from portal.messages import delivery, services
from portal.messages.models import Message, MessageStatus
from portal.messages.services import Attachment
from tests.conftest import SmtpServer


def queue_one(event="test:1", to="ana@example.org", **overrides):
    values = {
        "kind": "activation",
        "event": event,
        "to_address": to,
        "subject": "Welcome to the clinic",
        "text": "Set your password: https://portal.example/activate/abc",
        "html": "<p>Set your password</p>",
        "language": "fr",
    }
    values.update(overrides)
    return services.queue(**values)


def count(db):
    return db.session.scalar(select(func.count()).select_from(Message))


def test_a_queued_message_exists_once_its_transaction_commits(db):
    message_id = queue_one()
    db.session.commit()
    message = db.session.get(Message, message_id)
    assert message.status == MessageStatus.QUEUED
    assert message.attempts == 0
    assert message.language == "fr"


def test_a_rolled_back_transaction_leaves_no_message(db, mail_outbox):
    queue_one()
    db.session.rollback()
    assert count(db) == 0
    delivery.tick()
    assert mail_outbox == []


def test_queueing_the_same_key_again_adds_nothing(db):
    first = queue_one()
    again = queue_one(subject="Another subject")
    other_lead = queue_one(lead_minutes=60)
    db.session.commit()
    assert first is not None
    assert again is None
    assert other_lead is not None
    assert count(db) == 2


def test_delivery_reaches_a_real_smtp_server(db, smtp_server):
    message_id = queue_one(
        attachment=Attachment("visit.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")
    )
    db.session.commit()
    assert services.deliver(message_id) == MessageStatus.SENT
    [(_sender, recipients, raw)] = smtp_server.received
    assert recipients == ["ana@example.org"]
    parsed = email.message_from_bytes(raw)
    assert parsed["Subject"] == "Welcome to the clinic"
    kinds = [part.get_content_type() for part in parsed.walk()]
    assert "text/plain" in kinds
    assert "text/html" in kinds
    assert "text/calendar" in kinds
    message = db.session.get(Message, message_id)
    db.session.refresh(message)
    assert message.status == MessageStatus.SENT
    assert message.attempts == 1
    assert message.sent_at is not None


def test_a_redelivered_message_is_never_sent_twice(db, smtp_server):
    message_id = queue_one()
    db.session.commit()
    assert services.deliver(message_id) == MessageStatus.SENT
    assert services.deliver(message_id) is None
    delivery.tick()
    assert len(smtp_server.received) == 1


def test_smtp_down_retries_with_growing_waits_then_fails(app, db, smtp_down):
    message_id = queue_one()
    db.session.commit()
    now = utcnow()
    assert services.deliver(message_id, now=now) == MessageStatus.QUEUED
    message = db.session.get(Message, message_id)
    assert message.attempts == 1
    assert message.last_error
    first_wait = message.next_attempt_at - now
    assert first_wait == timedelta(seconds=app.config["MESSAGES_RETRY_SECONDS"])
    # Not due yet: nobody tries it.
    assert services.deliver(message_id, now=now + first_wait / 2) is None
    assert services.due_messages(now=now + first_wait / 2) == []
    waits = [first_wait]
    for _attempt in range(2, app.config["MESSAGES_MAX_ATTEMPTS"] + 1):
        now = db.session.get(Message, message_id).next_attempt_at
        assert services.due_messages(now=now) == [message_id]
        services.deliver(message_id, now=now)
        db.session.expire_all()
        message = db.session.get(Message, message_id)
        if message.status == MessageStatus.QUEUED:
            waits.append(message.next_attempt_at - now)
    assert message.status == MessageStatus.FAILED
    assert message.attempts == app.config["MESSAGES_MAX_ATTEMPTS"]
    assert waits == sorted(waits)
    assert waits[1] == 2 * waits[0]
    assert services.due_messages(now=now + timedelta(days=1)) == []


def test_smtp_down_then_back_sends_exactly_once(app, db, smtp_down):
    message_id = queue_one()
    db.session.commit()
    now = utcnow()
    assert services.deliver(message_id, now=now) == MessageStatus.QUEUED
    server = SmtpServer()
    server.start()
    try:
        state = app.extensions["mailman"]
        state.port = server.port
        later = now + timedelta(minutes=5)
        delivery.tick(now=later)
        delivery.tick(now=later + timedelta(minutes=5))
        assert len(server.received) == 1
    finally:
        server.stop()
    db.session.expire_all()
    assert db.session.get(Message, message_id).status == MessageStatus.SENT


def test_a_crashed_delivery_is_taken_again_after_its_lease(db, mail_outbox):
    message_id = queue_one()
    db.session.commit()
    now = utcnow()
    # A deliverer took it and died before sending.
    assert services._claim(message_id, now)
    assert services.due_messages(now=now + timedelta(minutes=1)) == []
    delivery.tick(now=now + services.LEASE)
    assert len(mail_outbox) == 1


def test_the_courier_thread_delivers_after_commit(app, db, mail_outbox):
    app.config["MESSAGES_COURIER"] = True
    courier = app.extensions[delivery.EXTENSION].courier
    try:
        queue_one()
        db.session.commit()
        assert courier.wait()
        assert [m.to for m in mail_outbox] == [["ana@example.org"]]
    finally:
        app.config["MESSAGES_COURIER"] = False
        courier.stop()
    assert not courier.thread


@pytest.mark.parametrize("kind", ["nonsense", ""])
def test_an_unknown_kind_is_refused(db, kind):
    with pytest.raises(ValueError, match="kind"):
        queue_one(kind=kind)


@pytest.mark.parametrize("to", [None, "", "  "])
def test_a_recipient_without_an_address_is_skipped(db, mail_outbox, to):
    assert queue_one(to=to) is None
    db.session.commit()
    assert count(db) == 0
    delivery.tick()
    assert mail_outbox == []


def test_a_queued_message_without_an_address_fails_at_once_and_is_not_retried(db, mail_outbox):
    # Written before the outbox skipped them (or by hand): one attempt, never another.
    message_id = queue_one()
    db.session.commit()
    db.session.get(Message, message_id).to_address = ""
    db.session.commit()
    now = utcnow()
    assert services.deliver(message_id, now=now) == MessageStatus.FAILED
    message = db.session.get(Message, message_id)
    assert message.attempts == 1
    assert message.last_error == "No address to send to."
    assert services.due_messages(now=now + timedelta(days=30)) == []
    assert mail_outbox == []
