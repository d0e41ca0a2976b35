"""What the benchmark asks the portal in-process: ids to visit, free slots to book, and
how many SQL statements each page runs (counted on the engine, not guessed)."""

import random
from datetime import date, timedelta
from urllib.parse import urlencode

from dataset import DEMO_PASSWORD
from sqlalchemy import event, func, select

HTMX = {"HX-Request": "true"}
STRIP_DAYS = 14


def portal_app(database_url, **extra):
    """The portal on the benchmark's database, configured like production over HTTP."""
    from portal import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "bench-in-process",
            "SESSION_COOKIE_SECURE": False,
            **extra,
        }
    )


def doctor_ids(app):
    from portal.directory.models import Doctor
    from portal.extensions import db

    with app.app_context():
        return db.session.scalars(select(Doctor.id).order_by(Doctor.id)).all()


def coming_days(today=None):
    """The next STRIP_DAYS calendar days, as in the slot picker's strip."""
    today = today or date.today()
    return [(today + timedelta(days=offset)).isoformat() for offset in range(STRIP_DAYS)]


def free_slots(app, ids, *, per_doctor=40, seed=7):
    """(doctor id, start) pairs that are bookable now, a random sample per doctor."""
    from zoneinfo import ZoneInfo

    from portal.booking import services
    from portal.db import utcnow
    from portal.extensions import db

    rng = random.Random(seed)
    pairs = []
    with app.app_context():
        now = utcnow()
        for doctor_id in ids:
            doctor = services.bookable_doctor(doctor_id)
            today = now.astimezone(ZoneInfo(doctor.clinic.timezone)).date()
            slots = services.slots_for(
                doctor=doctor,
                first_day=today,
                last_day=today + timedelta(days=STRIP_DAYS - 1),
                now=now,
            )
            chosen = rng.sample(slots, min(per_doctor, len(slots)))
            pairs.extend((doctor_id, slot.start.isoformat()) for slot in chosen)
        db.session.remove()
    return pairs


def busiest_patient_email(app):
    """The patient with the most appointments: the fullest lists to render."""
    from portal.auth.models import User
    from portal.booking.models import Appointment
    from portal.directory.models import Patient
    from portal.extensions import db

    with app.app_context():
        patient_id = db.session.scalar(
            select(Appointment.patient_id)
            .group_by(Appointment.patient_id)
            .order_by(func.count().desc(), Appointment.patient_id)
            .limit(1)
        )
        return db.session.scalar(
            select(User.email)
            .join(Patient, Patient.user_id == User.id)
            .where(Patient.id == patient_id)
        )


def count_queries(database_url, *, doctor_id, day, start, patient_email):
    """Run each page once through a test client, counting the SQL statements it sends."""
    from portal.extensions import db

    app = portal_app(database_url, WTF_CSRF_ENABLED=False)
    with app.app_context():
        engine = db.engine
    client = app.test_client()
    statements = []

    def listener(_conn, _cursor, statement, _parameters, _context, _executemany):
        statements.append(" ".join(statement.split())[:200])

    pages = {}

    def measure(name, path, method="GET", **options):
        statements.clear()
        event.listen(engine, "before_cursor_execute", listener)
        try:
            response = client.open(path, method=method, **options)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        pages[name] = {
            "request": f"{method} {path}",
            "status": response.status_code,
            "queries": len(statements),
            "statements": list(statements),
        }

    booking = f"/doctors/{doctor_id}/book"
    measure("slots partial", f"/doctors/{doctor_id}/slots?day={day}", headers=HTMX)
    measure("doctor page", f"/doctors/{doctor_id}")
    signed_in = client.post("/login", data={"email": patient_email, "password": DEMO_PASSWORD})
    if signed_in.status_code != 303:
        raise RuntimeError(f"could not sign in {patient_email}: {signed_in.status_code}")
    measure("booking confirm panel", f"{booking}?{urlencode({'start': start})}", headers=HTMX)
    measure(
        "booking POST",
        booking,
        method="POST",
        data={"start": start, "reason": "Query count"},
        headers=HTMX,
    )
    measure("my appointments", "/appointments")
    measure("my past appointments", "/appointments?past=1")
    measure("patient home", "/patient")
    engine.dispose()
    return pages
