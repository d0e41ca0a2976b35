"""The delivery log page with "Send again", and the development Mailbox."""

import pytest

from portal.messages import delivery, services
from portal.messages.models import Message, MessageStatus


@pytest.fixture
def log(db):
    sent_id = services.queue(
        kind="booking_confirmed",
        event="page:1",
        to_address="ana@example.org",
        subject="Your appointment is confirmed",
        text="Hello Ana,\n\nYour appointment is booked.",
    )
    failed_id = services.queue(
        kind="reminder",
        event="page:2",
        to_address="bo@example.org",
        subject="Reminder",
        text="Hello Bo",
    )
    db.session.commit()
    sent, failed = db.session.get(Message, sent_id), db.session.get(Message, failed_id)
    sent.status = MessageStatus.SENT
    failed.status, failed.attempts, failed.last_error = (
        MessageStatus.FAILED,
        5,
        "Connection refused",
    )
    db.session.commit()
    return sent, failed


def test_the_log_lists_messages_with_their_status(as_admin, log):
    page = as_admin.get("/admin/messages").text
    assert "Your appointment is confirmed" in page
    assert "Connection refused" in page
    assert page.count(">Send again</button>") == 1
    assert 'aria-label="Send the message to bo@example.org again"' in page
    failed_only = as_admin.get("/admin/messages?status=failed").text
    assert "bo@example.org" in failed_only
    assert "ana@example.org" not in failed_only
    by_recipient = as_admin.get("/admin/messages?to=ana@example.org").text
    assert "bo@example.org" not in by_recipient


def test_send_again_queues_the_failed_message(as_admin, app, db, log, mail_outbox):
    _sent, failed = log
    response = as_admin.post(f"/admin/messages/{failed.id}/resend")
    assert response.status_code == 303
    assert "The message to bo@example.org is queued again." in as_admin.get("/admin/messages").text
    delivery.tick()
    assert [m.to for m in mail_outbox] == [["bo@example.org"]]
    db.session.expire_all()
    assert db.session.get(Message, failed.id).status == MessageStatus.SENT


def test_the_log_is_for_admins_only(auth, client, doctor, log):
    auth.login(doctor.user)
    assert client.get("/admin/messages").status_code == 403
    assert client.post(f"/admin/messages/{log[1].id}/resend").status_code == 403


@pytest.fixture
def development(app):
    before = app.config["ENV_NAME"]
    app.config["ENV_NAME"] = "development"
    yield
    app.config["ENV_NAME"] = before


def test_the_mailbox_shows_what_was_sent_in_development(as_admin, development, log):
    page = as_admin.get("/admin/mailbox").text
    assert "Your appointment is booked." in page
    assert "ana@example.org" in page
    assert "Hello Bo" not in page  # not sent
    assert 'href="/admin/mailbox"' in page


def test_there_is_no_mailbox_outside_development(as_admin, log):
    assert as_admin.get("/admin/mailbox").status_code == 404
    assert 'href="/admin/mailbox"' not in as_admin.get("/admin/messages").text
