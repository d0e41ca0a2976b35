"""Message delivery: throughput of one Celery worker, and booking-to-inbox latency.

    .venv/bin/python bench/messages.py                      # SQLite file, 500 + 50
    .venv/bin/python bench/messages.py --messages 2000 --bookings 200
    .venv/bin/python bench/messages.py --database-url postgresql://postgres@127.0.0.1:5432/x_bench

It starts an SMTP server (aiosmtpd) in this process and one Celery worker process
(`celery -A wsgi:celery_app worker --pool=solo`, one task at a time) on the Redis broker
(`--broker`, a queue of its own), on a fresh database: an SQLite file in a temporary
directory, or the PostgreSQL database named (its name must contain `bench`; it is dropped
and created again). Then:

1. throughput: N messages are queued in one transaction; from its commit to the last
   one reaching the SMTP server, in messages per second;
2. latency: patients book one after the other through the booking service; for each,
   the time from the commit to the patient's confirmation reaching the SMTP server
   (p50, p99, max).

Everything it started is stopped and removed at the end.
"""

import argparse
import os
import socket
import statistics
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
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """Arrival time of each message, by recipient."""

    def __init__(self):
        self.arrivals = {}
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        now = time.perf_counter()
        with self.lock:
            self.count += 1
            for recipient in envelope.rcpt_tos:
                self.arrivals.setdefault(recipient, now)
        return "250 OK"


def fresh_database(url, workdir):
    if not url:
        return f"sqlite:///{workdir / 'bench.sqlite'}", None
    target = make_url(url)
    if "bench" not in (target.database or ""):
        raise SystemExit("--database-url: the database name must contain 'bench'")
    server = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = server.dialect.identifier_preparer.quote(target.database)
    with server.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    return url, server


def wait(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.002)
    return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--bookings", type=int, default=50)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="portal-messages-bench-"))
    database_url, server = fresh_database(args.database_url, workdir)
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    queue_name = "bench-messages-" + uuid.uuid4().hex[:8]
    env = {
        **os.environ,
        "PORTAL_ENV": "production",
        "SECRET_KEY": "bench-only",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": args.broker,
        "CELERY_QUEUE": queue_name,
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp.port),
        "MESSAGES_COURIER": "False",
        "PORTAL_URL": "http://bench.invalid",
    }
    os.environ.update(env)
    worker = None
    try:
        from portal import create_app

        app = create_app()  # first: it loads every model before the services are imported
        from portal.auth.models import Role, User
        from portal.booking import services as booking
        from portal.booking.models import DEFAULT_SETTINGS, BookingSettings
        from portal.db import utcnow
        from portal.directory.models import Clinic, Doctor, Patient
        from portal.extensions import db
        from portal.messages import services as messages
        from portal.scheduling.models import WeeklyHours

        with app.app_context():
            db.create_all()
            db.session.add(BookingSettings(id=1, **DEFAULT_SETTINGS))
            clinic = Clinic(
                name="Bench clinic", city="Paris", country="FR", timezone="Europe/Paris"
            )
            doctor = Doctor(
                user=User(email="doctor@bench.invalid", full_name="Doctor Bench", role=Role.DOCTOR),
                clinic=clinic,
                title="Dr",
                license_number="BENCH-1",
            )
            db.session.add(doctor)
            for weekday in range(7):
                db.session.add(
                    WeeklyHours(
                        doctor=doctor, weekday=weekday, start_time=clock(0), end_time=clock(23, 30)
                    )
                )
            patients = [
                Patient(
                    user=User(
                        email=f"patient{n}@bench.invalid",
                        full_name=f"Patient {n}",
                        role=Role.PATIENT,
                    )
                )
                for n in range(args.bookings)
            ]
            db.session.add_all(patients)
            db.session.commit()
            doctor_id, patient_ids = doctor.id, [patient.id for patient in patients]

        log = open(workdir / "worker.log", "w")  # noqa: SIM115 (kept open for the worker)
        worker = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/celery"),
                "-A",
                "wsgi:celery_app",
                "worker",
                "--pool=solo",
                "--without-mingle",
                "--without-gossip",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        if not wait(lambda: "ready" in (workdir / "worker.log").read_text(), 60):
            raise SystemExit("the Celery worker did not start; see " + str(workdir / "worker.log"))

        # 1. Throughput.
        with app.app_context():
            for n in range(args.messages):
                messages.queue(
                    kind="activation",
                    event=f"bench-{n}",
                    to_address=f"reader{n}@bench.invalid",
                    subject="Bench",
                    text="A message of a usual size. " * 20,
                )
            started = time.perf_counter()
            db.session.commit()
        if not wait(lambda: inbox.count >= args.messages, 600):
            raise SystemExit(f"only {inbox.count} of {args.messages} messages arrived")
        throughput = args.messages / (time.perf_counter() - started)

        # 2. Booking to inbox, one booking at a time.
        latencies = []
        with app.app_context():
            now = utcnow()
            doctor = db.session.get(Doctor, doctor_id)
            slots = booking.slots_for(
                doctor=doctor,
                first_day=now.date(),
                last_day=(now + timedelta(days=30)).date(),
                now=now,
            )
            for patient_id, slot in zip(patient_ids, slots, strict=False):
                patient = db.session.get(Patient, patient_id)
                booking.book(
                    actor=patient.user,
                    patient=patient,
                    doctor_id=doctor.id,
                    start=slot.start,
                    reason="",
                    now=utcnow(),
                )
                address = patient.user.email
                committed = time.perf_counter()
                db.session.commit()
                if not wait(lambda a=address: a in inbox.arrivals, 60):
                    raise SystemExit(f"no confirmation reached {address}")
                latencies.append((inbox.arrivals[address] - committed) * 1000)
        latencies.sort()
        p99 = latencies[max(0, round(0.99 * len(latencies)) - 1)]
        print(f"database: {make_url(database_url).get_backend_name()}")
        print(
            f"throughput, one worker (solo pool): {throughput:.0f} messages/s "
            f"({args.messages} messages)"
        )
        print(
            f"booking commit to confirmation at the SMTP server, {len(latencies)} bookings: "
            f"p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms, "
            f"max {latencies[-1]:.1f} ms"
        )
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(20)
        smtp.stop()
        redis.Redis.from_url(args.broker).delete(queue_name)
        if server is not None:
            name = server.dialect.identifier_preparer.quote(make_url(database_url).database)
            with server.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            server.dispose()


if __name__ == "__main__":
    main()
