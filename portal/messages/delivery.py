"""Delivery after commit: Celery workers when a broker is configured, else a courier
thread in the portal's own process. Either way a periodic tick runs the jobs that
queue messages (reminders) and hands over whatever is still queued (the sweep)."""

import logging
import queue as queues
import threading
import time

from celery import Celery, Task, shared_task
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.extensions import db
from portal.messages import services
from portal.messages.models import Message, MessageStatus

log = logging.getLogger(__name__)

EXTENSION = "portal.messages"


class Delivery:
    """What one app knows about delivery: the periodic jobs, and its courier."""

    def __init__(self, app, periodic):
        self.app = app
        self.periodic = list(periodic)
        self.courier = Courier(app)

    @property
    def uses_broker(self):
        return bool(self.app.config.get("CELERY_BROKER_URL"))


def init_app(app, *, periodic=()):
    """Wire delivery into the app. `periodic` lists functions called with `now=` on
    every tick, each in its own transaction, that queue messages (reminders)."""
    app.extensions[EXTENSION] = Delivery(app, periodic)
    app.extensions["celery"] = make_celery(app)

    @app.before_request
    def _start_the_courier():
        delivery = app.extensions[EXTENSION]
        if not delivery.uses_broker and app.config["MESSAGES_COURIER"]:
            delivery.courier.start()


def make_celery(app):
    """The Celery application of this portal, its tasks run in an app context."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.import_name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=app.config.get("CELERY_BROKER_URL") or "memory://",
        task_default_queue=app.config["CELERY_QUEUE"],
        task_ignore_result=True,
        task_acks_late=True,
        broker_connection_retry_on_startup=True,
        timezone="UTC",
        beat_schedule={
            "messages-tick": {
                "task": "portal.messages.tick",
                "schedule": float(app.config["MESSAGES_TICK_SECONDS"]),
            }
        },
    )
    celery_app.set_default()
    return celery_app


@shared_task(name="portal.messages.deliver")
def deliver_task(message_id):
    """Deliver one message; a failure to be retried comes back after its wait."""
    status = services.deliver(message_id)
    if status == MessageStatus.QUEUED:
        message = db.session.get(Message, message_id)
        wait = (message.next_attempt_at - utcnow()).total_seconds()
        deliver_task.apply_async((message_id,), countdown=max(1.0, wait))
    return status


@shared_task(name="portal.messages.tick")
def tick_task():
    """The periodic jobs, then every due message handed to the workers."""
    tick(hand_over=_to_workers)


def tick(*, hand_over=None, now=None):
    """Run every periodic job (each in its own transaction), then the sweep: each
    message still queued and due is handed over again. Without `hand_over`, the due
    messages are delivered here, one after the other."""
    delivery = current_app.extensions[EXTENSION]
    for job in delivery.periodic:
        # Messages written here have no visitor's request to take their links from.
        with current_app.test_request_context(base_url=current_app.config["PORTAL_URL"]):
            try:
                job(now=now or utcnow())
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("periodic job %s failed", getattr(job, "__name__", job))
    due = services.due_messages(now=now or utcnow())
    db.session.commit()
    if hand_over is not None:
        hand_over(due)
    else:
        for message_id in due:
            services.deliver(message_id, now=now)


def _to_workers(ids):
    for message_id in ids:
        try:
            deliver_task.delay(message_id)
        except Exception:
            # The broker is down: the message stays queued and the next sweep tries again.
            log.exception("message %s not handed to the broker", message_id)
            return


class Courier:
    """A thread of the portal's own process that delivers after commit and ticks on a
    timer, for a portal with no broker (the two-command default). It takes message ids
    from a queue; every MESSAGES_TICK_SECONDS it runs the tick, whose sweep also catches
    anything a restart left behind. Several processes each running one is safe: a
    message is claimed by one deliverer only."""

    def __init__(self, app):
        self.app = app
        self.ids = queues.Queue()
        self.thread = None
        self.lock = threading.Lock()

    def start(self):
        if self.thread is not None and self.thread.is_alive():
            return
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self._run, name="portal-messages-courier", daemon=True
                )
                self.thread.start()

    def hand_over(self, ids):
        for message_id in ids:
            self.ids.put(message_id)

    def stop(self, timeout=10):
        """Finish what was handed over, then end the thread."""
        if self.thread is not None and self.thread.is_alive():
            self.ids.put(None)
            self.thread.join(timeout)
        self.thread = None

    def wait(self, timeout=10):
        """Wait until every id handed over so far is delivered (tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while self.ids.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self.ids.unfinished_tasks

    def _run(self):
        every = float(self.app.config["MESSAGES_TICK_SECONDS"])
        next_tick = time.monotonic()
        while True:
            if time.monotonic() >= next_tick:
                self._safely(tick)
                next_tick = time.monotonic() + every
            try:
                message_id = self.ids.get(timeout=max(0.0, next_tick - time.monotonic()))
            except queues.Empty:
                continue
            if message_id is None:
                self.ids.task_done()
                return
            try:
                self._safely(services.deliver, message_id)
            finally:
                self.ids.task_done()

    def _safely(self, function, *args):
        try:
            with self.app.app_context():
                function(*args)
        except Exception:
            log.exception("message delivery step failed")


def dispatch(ids):
    """Hand messages just committed to whoever delivers them in this app."""
    delivery = current_app.extensions.get(EXTENSION)
    if delivery is None or not ids:
        return
    if delivery.uses_broker:
        _to_workers(ids)
    elif current_app.config["MESSAGES_COURIER"]:
        delivery.courier.start()
        delivery.courier.hand_over(ids)
    # Otherwise (tests that deliver by hand) the ids wait in the outbox for a tick.


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session):
    ids = services.take_pending(session)
    if ids and has_app_context():
        dispatch(ids)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session):
    services.take_pending(session)
