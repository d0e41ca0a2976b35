"""Message delivery bench: messages per second through one Celery worker, and the time
from a booking's commit to its confirmation reaching the SMTP server (p50, p99).

    .venv/bin/python bench/messages.py                      # SQLite file, 1000 + 200
    .venv/bin/python bench/messages.py --database-url postgresql://postgres@127.0.0.1:5432/portal_bench_messages
    .venv/bin/python bench/messages.py --messages 2000 --bookings 300 --interval 0.05

What runs, all on this machine:
- an SMTP sink (aiosmtpd) in this process, noting when each message arrives;
- one Celery worker (`celery -A wsgi:celery_app worker --pool solo`: one process, one
  task at a time) in a child process, on Redis at --broker (a database number of its own,
  14 by default, and a queue named for this run, deleted at the end);
- this process as the portal: it writes through the portal's services and commits, and
  the commit hands each new message to the broker, as a request would.

Throughput: --messages password-reset requests (the service writes a token and a
message each) committed at once; messages per second = count / (last arrival - commit).
Latency: --bookings bookings by as many patients, one every --interval seconds, each
committed alone; for each, the time from just before its commit to the arrival of the
patient's confirmation at the SMTP server. A booking also writes the doctor's notice, so
the worker carries two messages per booking.

The database is created afresh: a temporary SQLite file by default; with
--database-url it must name a database whose name contains "bench" (it is dropped and
created again).
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import time as clock
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from portal import create_app  # noqa: E402
from portal.auth import services as auth  # noqa: E402
from portal.auth.models import Role, User  # noqa: E402
from portal.auth.passwords import hash_password  # noqa: E402
from portal.booking import services as booking  # noqa: E402
from portal.booking.models import DEFAULT_SETTINGS, BookingSettings  # noqa: E402
from portal.db import utcnow  # noqa: E402
from portal.directory.models import Clinic, Doctor, Patient  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.messages.models import Message, MessageStatus  # noqa: E402
from portal.scheduling.models import WeeklyHours  # noqa: E402

SECRET = "bench-secret-key-" + uuid.uuid4().hex


class Sink:
    """An SMTP server that notes when each message arrives, by recipient."""

    def __init__(self):
        self.arrivals = []  # (time, recipients)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.arrivals.append((time.time(), list(envelope.rcpt_tos)))
        return "250 OK"

    def count(self):
        with self.lock:
            return len(self.arrivals)

    def first_arrival(self, address, after=0.0):
        with self.lock:
            for moment, recipients in self.arrivals:
                if address in recipients and moment >= after:
                    return moment
        return None


def fresh_database(url):
    """A database URL for an empty database: a temporary SQLite file, or the named
    PostgreSQL database dropped and created again."""
    if url is None:
        folder = tempfile.mkdtemp(prefix="portal-bench-messages-")
        return f"sqlite:///{folder}/portal.sqlite"
    target = make_url(url)
    if "bench" not in (target.database or ""):
        sys.exit("--database-url must name a database whose name contains 'bench'")
    server = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    quoted = server.dialect.identifier_preparer.quote(target.database)
    with server.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {quoted}"))
    server.dispose()
    return url


def settings_for(database_url, broker, queue, smtp_port):
    return {
        "SECRET_KEY": SECRET,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "CELERY_BROKER_URL": broker,
        "CELERY_QUEUE": queue,
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "MESSAGES_COURIER": False,
        "BCRYPT_ROUNDS": 4,
        "RATELIMIT_STORAGE_URI": "memory://",
    }


def start_worker(settings):
    env = {
        **os.environ,
        "SECRET_KEY": settings["SECRET_KEY"],
        "DATABASE_URL": settings["SQLALCHEMY_DATABASE_URI"],
        "CELERY_BROKER_URL": settings["CELERY_BROKER_URL"],
        "CELERY_QUEUE": settings["CELERY_QUEUE"],
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(settings["MAIL_PORT"]),
        "MESSAGES_COURIER": "False",
    }
    celery = Path(sys.executable).with_name("celery")
    command = [
        str(celery),
        "-A",
        "wsgi:celery_app",
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        "WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-Q",
        settings["CELERY_QUEUE"],
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env)


def build(app, patients):
    """The schema, the booking rules (no minimum notice), one doctor open every day, and
    the patients who will book (verified addresses)."""
    with app.app_context():
        db.create_all()
        db.session.add(BookingSettings(id=1, **{**DEFAULT_SETTINGS, "min_notice_minutes": 0}))
        password = hash_password("bench-password-123")
        doctor_user = User(email="doctor@bench.example", full_name="Dr Bench", role=Role.DOCTOR)
        clinic = Clinic(name="Bench Clinic", city="Paris", country="FR", timezone="Europe/Paris")
        doctor = Doctor(
            user=doctor_user, clinic=clinic, title="Dr", license_number="BENCH-1", slot_minutes=5
        )
        db.session.add(doctor)
        for weekday in range(7):
            db.session.add(
                WeeklyHours(
                    doctor=doctor, weekday=weekday, start_time=clock(0), end_time=clock(23, 55)
                )
            )
        for number in range(patients):
            user = User(
                email=f"patient{number}@bench.example",
                full_name=f"Patient {number}",
                role=Role.PATIENT,
                password_hash=password,
            )
            db.session.add(Patient(user=user))
        db.session.commit()
        return doctor.id


def wait_until(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def throughput(app, sink, count, timeout):
    """Messages per second: `count` password resets committed at once."""
    with app.test_request_context(base_url="http://127.0.0.1:5000"):
        users = db.session.scalars(
            select(User).where(User.role == Role.PATIENT).order_by(User.id).limit(count)
        ).all()
        now = utcnow()
        for index in range(count):
            auth.request_password_reset(email=users[index % len(users)].email, now=now)
        before = sink.count()
        started = time.time()
        db.session.commit()  # hands every message to the broker
        handed_over = time.time()
    if not wait_until(lambda: sink.count() >= before + count, timeout):
        sys.exit(f"only {sink.count() - before} of {count} messages arrived in {timeout} s")
    finished = max(moment for moment, _recipients in sink.arrivals)
    return count / (finished - started), handed_over - started, finished - started


def latency(app, sink, doctor_id, bookings, interval, timeout):
    """Seconds from just before each booking's commit to its confirmation's arrival."""
    committed = {}
    with app.test_request_context(base_url="http://127.0.0.1:5000"):
        now = utcnow()
        slots = booking.slots_for(
            doctor=db.session.get(Doctor, doctor_id),
            first_day=now.date(),
            last_day=(now + timedelta(days=30)).date(),
            now=now,
        )
        patients = db.session.scalars(select(Patient).order_by(Patient.id).limit(bookings)).all()
        if len(slots) < bookings:
            sys.exit(f"only {len(slots)} free slots for {bookings} bookings")
        for patient, slot in zip(patients, slots, strict=False):
            user = patient.user
            booking.book(
                actor=user,
                patient=patient,
                doctor_id=doctor_id,
                start=slot.start,
                reason="",
                now=utcnow(),
            )
            committed[user.email] = time.time()
            db.session.commit()
            time.sleep(interval)

    def arrival(address):
        return sink.first_arrival(address, after=committed[address])

    addresses = list(committed)
    if not wait_until(lambda: all(arrival(a) for a in addresses), timeout):
        missing = sum(1 for a in addresses if arrival(a) is None)
        sys.exit(f"{missing} of {len(addresses)} confirmations did not arrive in {timeout} s")
    return sorted(arrival(a) - committed[a] for a in addresses)


def percentile(values, share):
    index = min(len(values) - 1, max(0, round(share * len(values) + 0.5) - 1))
    return values[index]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL database named *bench*")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--bookings", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between bookings")
    parser.add_argument("--timeout", type=float, default=300)
    options = parser.parse_args()

    try:
        redis.Redis.from_url(options.broker, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        sys.exit(f"no Redis at {options.broker}")
    queue = "portal-bench-" + uuid.uuid4().hex[:8]
    sink = Sink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        smtp_port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    database_url = fresh_database(options.database_url)
    settings = settings_for(database_url, options.broker, queue, smtp_port)
    app = create_app(settings)
    doctor_id = build(app, max(options.bookings, 50))
    worker = start_worker(settings)
    try:
        # The worker is ready when a first message goes through.
        rate, handover, elapsed = throughput(app, sink, 1, timeout=60)
        rate, handover, elapsed = throughput(app, sink, options.messages, options.timeout)
        delays = latency(app, sink, doctor_id, options.bookings, options.interval, options.timeout)
        with app.app_context():
            statuses = dict(
                db.session.execute(
                    select(Message.status, func.count()).group_by(Message.status)
                ).all()
            )
    finally:
        worker.terminate()
        worker.wait(30)
        controller.stop()
        redis.Redis.from_url(options.broker).delete(queue)
        with app.app_context():
            db.engine.dispose()

    backend = make_url(database_url).get_backend_name()
    print(f"database: {backend}; broker: {options.broker}; one worker (pool solo)")
    print(
        f"throughput: {options.messages} messages in {elapsed:.2f} s = {rate:.0f} messages/s "
        f"(handing them to the broker at commit took {handover:.2f} s of that)"
    )
    print(
        f"booking to confirmation at the SMTP server, {len(delays)} bookings one every "
        f"{options.interval:g} s: p50 {percentile(delays, 0.50) * 1000:.0f} ms, "
        f"p99 {percentile(delays, 0.99) * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms"
    )
    print(f"outbox at the end: {statuses}")
    if statuses.get(MessageStatus.QUEUED) or statuses.get(MessageStatus.FAILED):
        sys.exit("some messages were not sent")


if __name__ == "__main__":
    main()
