"""Delivery through a real Celery worker on the machine's Redis broker."""

import os
import time
import uuid
from datetime import timedelta

import pytest
import redis
from celery.contrib.testing.worker import start_worker

from portal.booking import services as booking
from portal.db import utcnow
from portal.messages import delivery, services
from portal.messages.models import Message, MessageStatus

BROKER = "redis://127.0.0.1:6379/13"
# One queue of its own per test run: Celery keeps the queue it first routed to.
QUEUE = "portal-test-" + uuid.uuid4().hex[:8]


def redis_is_up():
    try:
        return redis.Redis.from_url(BROKER, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        return False


# Skipped on a machine without Redis, but required in CI, where it must be running.
pytestmark = pytest.mark.skipif(
    not redis_is_up() and os.environ.get("CI") != "true", reason="no Redis on 127.0.0.1:6379"
)


@pytest.fixture
def worker(app):
    """A Celery worker thread of the portal's Celery app, on its own Redis queue."""
    celery_app = app.extensions["celery"]
    queue_name = QUEUE
    before = dict(celery_app.conf)
    celery_app.conf.update(broker_url=BROKER, task_default_queue=queue_name)
    app.config["CELERY_BROKER_URL"] = BROKER
    try:
        with start_worker(
            celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10
        ) as running:
            yield running
    finally:
        app.config["CELERY_BROKER_URL"] = None
        celery_app.conf.update(
            broker_url=before["broker_url"], task_default_queue=before["task_default_queue"]
        )
        redis.Redis.from_url(BROKER).delete(queue_name)


def wait_for(predicate, db, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.expire_all()
        if predicate():
            return True
        db.session.rollback()
        time.sleep(0.05)
    return False


def test_a_worker_delivers_a_committed_message(app, db, smtp_server, worker):
    message_id = services.queue(
        kind="activation",
        event="celery:1",
        to_address="ana@example.org",
        subject="Welcome",
        text="Hello",
    )
    db.session.commit()  # the commit hands it to the broker
    assert wait_for(lambda: db.session.get(Message, message_id).status == MessageStatus.SENT, db)
    assert [recipients for _sender, recipients, _raw in smtp_server.received] == [
        ["ana@example.org"]
    ]


def test_the_beat_tick_hands_over_what_the_broker_missed(app, db, smtp_server, worker):
    # Queued while no broker was configured: nothing was handed over at commit.
    app.config["CELERY_BROKER_URL"] = None
    message_id = services.queue(
        kind="activation", event="celery:2", to_address="bo@example.org", subject="S", text="T"
    )
    db.session.commit()
    app.config["CELERY_BROKER_URL"] = BROKER
    delivery.tick_task.delay()
    assert wait_for(lambda: db.session.get(Message, message_id).status == MessageStatus.SENT, db)
    assert len(smtp_server.received) == 1


def test_a_booking_confirmation_reaches_the_smtp_server_through_a_worker(
    app, db, doctor, patient, smtp_server, worker
):
    now = utcnow()
    slots = booking.slots_for(
        doctor=doctor, first_day=now.date(), last_day=(now + timedelta(days=10)).date(), now=now
    )
    booking.book(
        actor=patient.user,
        patient=patient,
        doctor_id=doctor.id,
        start=slots[0].start,
        reason="Private",
        now=now,
    )
    db.session.commit()
    assert wait_for(lambda: len(smtp_server.received) == 2, db)
    recipients = sorted(r for _sender, [r], _raw in smtp_server.received)
    assert recipients == sorted([patient.user.email, doctor.user.email])
    assert all(b"Private" not in raw for _s, _r, raw in smtp_server.received)
