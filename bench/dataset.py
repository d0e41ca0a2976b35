"""The benchmark's data set, built on PostgreSQL with bulk inserts.

Shape (defaults): 10 clinics in 10 time zones, 6 departments, 200 doctors with weekly
hours Monday to Friday 09:00-12:00 and 13:00-17:00 clinic time in 30-minute slots (about
one doctor in six has 2 or 3 seats per slot), 2,000 patients, and 100,000 appointments
on the doctors' slot grids from about 18 months ago to 60 days ahead: past ones completed,
no-show or cancelled, future ones confirmed. Every appointment sits on its own slot start
and seat, so the partial unique index and the exclusion constraint both hold, and at most
40% of each doctor's future slots are taken, so there is always something left to book.

Every demo account shares one bcrypt hash of DEMO_PASSWORD (hashing 2,200 passwords at
production cost would take minutes and measure nothing).
"""

import math
import random
import time as clock
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

DEMO_PASSWORD = "bench-demo-password"  # noqa: S105 - demo accounts on a throwaway database
DOCTOR_EMAIL = "doctor{:04d}@bench.example"
PATIENT_EMAIL = "patient{:05d}@bench.example"

PAST_DAYS = 548  # about 18 months
FUTURE_DAYS = 60
FUTURE_SHARE = 0.12  # of the appointments, the ones still to come
MAX_FUTURE_DENSITY = 0.4  # of a doctor's future slot starts, at most this many are taken
SLOT = timedelta(minutes=30)
INTERVALS = ((time(9), time(12)), (time(13), time(17)))  # wall clock, Monday to Friday

CLINICS = [
    ("Clinique du Parc", "Paris", "FR", "Europe/Paris"),
    ("Thames Health Centre", "London", "GB", "Europe/London"),
    ("Hudson Family Clinic", "New York", "US", "America/New_York"),
    ("Lakeshore Medical", "Chicago", "US", "America/Chicago"),
    ("Pacific Care", "Los Angeles", "US", "America/Los_Angeles"),
    ("Clínica Paulista", "São Paulo", "BR", "America/Sao_Paulo"),
    ("Highveld Clinic", "Johannesburg", "ZA", "Africa/Johannesburg"),
    ("Lotus Health", "Kolkata", "IN", "Asia/Kolkata"),
    ("Sakura Clinic", "Tokyo", "JP", "Asia/Tokyo"),
    ("Harbour Medical", "Sydney", "AU", "Australia/Sydney"),
]

DEPARTMENTS = [
    ("cardiology", "Cardiology", "Cardiologie"),
    ("dermatology", "Dermatology", "Dermatologie"),
    ("general", "General practice", "Médecine générale"),
    ("paediatrics", "Paediatrics", "Pédiatrie"),
    ("orthopaedics", "Orthopaedics", "Orthopédie"),
    ("neurology", "Neurology", "Neurologie"),
]

FIRST_NAMES = [
    "Alice",
    "Bruno",
    "Camille",
    "David",
    "Emma",
    "Farid",
    "Grace",
    "Henri",
    "Isabel",
    "Jonas",
    "Keiko",
    "Liam",
    "Maya",
    "Nadia",
    "Oscar",
    "Priya",
    "Quentin",
    "Rosa",
    "Samuel",
    "Tariq",
    "Ursula",
    "Victor",
    "Wen",
    "Yara",
    "Zoé",
]
LAST_NAMES = [
    "Bernard",
    "Chen",
    "Dubois",
    "Garcia",
    "Haddad",
    "Johnson",
    "Kim",
    "Laurent",
    "Martin",
    "Nakamura",
    "Okafor",
    "Petit",
    "Roux",
    "Santos",
    "Singh",
    "Weber",
    "Wilson",
    "Moreau",
]
REASONS = ["Check-up", "Follow-up visit", "Persistent cough", "Back pain", "Skin rash", ""]


def recreate_database(url):
    """Drop and create the database named in the URL (only a *bench* database)."""
    url = make_url(url)
    if "bench" not in (url.database or ""):
        raise SystemExit(
            f"refusing to drop database {url.database!r}: the benchmark only rebuilds a "
            "database whose name contains 'bench' (or pass --skip-build to reuse one)"
        )
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    quoted = server.dialect.identifier_preparer.quote(url.database)
    with server.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {quoted}"))
    server.dispose()


def build(app, *, doctors, patients, appointments, seed=2026):
    """Migrate the empty database and fill it. Returns the build time and row counts."""
    import flask_migrate

    from portal.auth.passwords import hash_password
    from portal.extensions import db

    started = clock.perf_counter()
    rng = random.Random(seed)
    with app.app_context():
        flask_migrate.upgrade()
        migrated = clock.perf_counter()
        password_hash = hash_password(DEMO_PASSWORD)
        now = datetime.now(UTC)
        with db.engine.begin() as connection:
            _fill(connection, rng, now, password_hash, doctors, patients, appointments)
        filled = clock.perf_counter()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        counts = row_counts(db.engine)
        db.engine.dispose()
    finished = clock.perf_counter()
    return {
        "seconds": round(finished - started, 1),
        "migrate_seconds": round(migrated - started, 1),
        "insert_seconds": round(filled - migrated, 1),
        "analyze_seconds": round(finished - filled, 1),
        "rows": counts,
    }


def row_counts(engine):
    from portal.extensions import db

    names = [
        "clinics",
        "departments",
        "users",
        "doctors",
        "doctor_departments",
        "weekly_hours",
        "patients",
        "appointments",
    ]
    tables = db.metadata.tables
    with engine.connect() as connection:
        counts = {
            name: connection.scalar(select(func.count()).select_from(tables[name]))
            for name in names
        }
        appointments = tables["appointments"]
        by_status = connection.execute(
            select(appointments.c.status, func.count()).group_by(appointments.c.status)
        ).all()
    counts["appointments_by_status"] = dict(sorted((status, n) for status, n in by_status))
    return counts


def _fill(connection, rng, now, password_hash, n_doctors, n_patients, n_appointments):
    from portal.auth.models import User
    from portal.booking.models import Appointment
    from portal.directory.models import Clinic, Department, Doctor, Patient, doctor_departments
    from portal.scheduling.models import WeeklyHours

    def insert(model_or_table, rows, returning=False):
        table = getattr(model_or_table, "__table__", model_or_table)
        statement = table.insert()
        if returning:
            statement = statement.returning(table.c.id, sort_by_parameter_order=True)
            return connection.execute(statement, rows).scalars().all()
        for chunk in range(0, len(rows), 20_000):
            connection.execute(statement, rows[chunk : chunk + 20_000])
        return None

    clinic_ids = insert(
        Clinic,
        [
            {
                "name": name,
                "address": f"{10 + index} Main Street",
                "city": city,
                "postal_code": f"{10000 + index}",
                "country": country,
                "phone": f"+1 555 01{index:02d}",
                "timezone": zone,
            }
            for index, (name, city, country, zone) in enumerate(CLINICS)
        ],
        returning=True,
    )
    department_ids = insert(
        Department,
        [
            {"code": code, "name": name, "translations": {"fr": {"name": name_fr}}}
            for code, name, name_fr in DEPARTMENTS
        ],
        returning=True,
    )

    def person(number):
        first = FIRST_NAMES[number % len(FIRST_NAMES)]
        last = LAST_NAMES[(number // len(FIRST_NAMES)) % len(LAST_NAMES)]
        return f"{first} {last}"

    doctor_user_ids = insert(
        User,
        [
            {
                "email": DOCTOR_EMAIL.format(number),
                "full_name": person(number * 7 + 3),
                "role": "doctor",
                "password_hash": password_hash,
            }
            for number in range(1, n_doctors + 1)
        ],
        returning=True,
    )
    patient_user_ids = insert(
        User,
        [
            {
                "email": PATIENT_EMAIL.format(number),
                "full_name": person(number),
                "role": "patient",
                "password_hash": password_hash,
            }
            for number in range(1, n_patients + 1)
        ],
        returning=True,
    )

    doctor_rows = []
    for index, user_id in enumerate(doctor_user_ids):
        clinic = index % len(CLINICS)
        seats = 2 if index % 12 == 5 else 3 if index % 12 == 11 else 1
        doctor_rows.append(
            {
                "user_id": user_id,
                "clinic_id": clinic_ids[clinic],
                "title": "Dr",
                "license_number": f"BENCH-{index + 1:05d}",
                "qualifications": "MD",
                "experience_years": rng.randint(2, 35),
                "consultation_fee": Decimal(rng.choice([30, 45, 60, 80])),
                "currency": "EUR",
                "bio": f"Sees patients at {CLINICS[clinic][0]}.",
                "translations": {"fr": {"bio": f"Reçoit à {CLINICS[clinic][0]}."}},
                "max_appointments_per_day": None,
                "slot_minutes": 30,
                "seats_per_slot": seats,
            }
        )
    doctor_ids = insert(Doctor, doctor_rows, returning=True)
    insert(
        doctor_departments,
        [
            {"doctor_id": doctor_id, "department_id": department_id}
            for doctor_id in doctor_ids
            for department_id in rng.sample(department_ids, rng.choice([1, 1, 2]))
        ],
    )
    insert(
        WeeklyHours,
        [
            {"doctor_id": doctor_id, "weekday": weekday, "start_time": start, "end_time": end}
            for doctor_id in doctor_ids
            for weekday in range(5)
            for start, end in INTERVALS
        ],
    )
    patient_ids = insert(
        Patient,
        [
            {
                "user_id": user_id,
                "phone": f"+33 6 {index:08d}",
                "blood_group": rng.choice(["A+", "O+", "B-", "AB+", None]),
            }
            for index, user_id in enumerate(patient_user_ids)
        ],
        returning=True,
    )
    patients = list(zip(patient_ids, patient_user_ids, strict=True))

    grids = [_slot_grid(ZoneInfo(zone), now) for _name, _city, _country, zone in CLINICS]
    rows = []
    for index, (doctor_id, doctor) in enumerate(zip(doctor_ids, doctor_rows, strict=True)):
        quota = n_appointments // n_doctors + (index < n_appointments % n_doctors)
        past, future = grids[index % len(CLINICS)]
        rows.extend(_appointments_of(rng, now, doctor_id, doctor, quota, past, future, patients))
    insert(Appointment, rows)


def _slot_grid(zone, now):
    """Every slot start (UTC) of the weekly hours, split into past and future."""
    today = now.astimezone(zone).date()
    past, future = [], []
    for offset in range(-PAST_DAYS, FUTURE_DAYS + 1):
        day = today + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for start, end in INTERVALS:
            moment = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
            last = datetime.combine(day, end, tzinfo=zone).astimezone(UTC)
            while moment + SLOT <= last:
                (past if moment < now else future).append(moment)
                moment += SLOT
    return past, future


def _appointments_of(rng, now, doctor_id, doctor, quota, past, future, patients):
    """`quota` appointment rows on distinct (start, seat) pairs of the doctor's grid."""
    seats = doctor["seats_per_slot"]
    wanted_future = round(quota * FUTURE_SHARE)
    future_cap = math.floor(len(future) * MAX_FUTURE_DENSITY)
    future_starts = rng.sample(future, min(wanted_future, future_cap))
    past_needed = quota - len(future_starts)
    if past_needed > len(past) * seats:
        raise SystemExit(
            f"{quota} appointments per doctor do not fit on the slot grid; "
            "use fewer --appointments or more --doctors"
        )
    past_starts = rng.sample(past, min(past_needed, len(past)))
    rows = []
    for starts, upcoming, limit in (
        (future_starts, True, wanted_future),
        (past_starts, False, quota),
    ):
        for start in starts:
            if len(rows) >= limit:
                break
            for seat in range(1, rng.randint(1, seats) + 1):
                if len(rows) >= limit:
                    break
                patient_id, patient_user_id = rng.choice(patients)
                if upcoming:
                    status = "confirmed"
                else:
                    status = rng.choices(["completed", "no_show", "cancelled"], [80, 7, 13])[0]
                cancelled = status == "cancelled"
                created = min(start, now) - timedelta(days=rng.randint(1, 30))
                rows.append(
                    {
                        "patient_id": patient_id,
                        "doctor_id": doctor_id,
                        "clinic_id": doctor["clinic_id"],
                        "starts_at": start,
                        "ends_at": start + SLOT,
                        "seat": seat,
                        "status": status,
                        "reason": rng.choice(REASONS),
                        "notes": "",
                        "cancelled_at": start - timedelta(hours=30) if cancelled else None,
                        "cancelled_by_id": patient_user_id if cancelled else None,
                        "cancel_reason": "Feeling better" if cancelled else "",
                        "created_at": created,
                        "updated_at": created,
                    }
                )
    return rows
