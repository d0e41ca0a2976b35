"""Command-line tasks: create an admin, load demo data."""

import random
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import click
from flask import current_app
from sqlalchemy import select

from portal.auth import services as auth
from portal.auth.models import Role, User
from portal.booking.models import DEFAULT_SETTINGS, Appointment, BookingSettings, Status
from portal.db import utcnow
from portal.directory.models import CareAssignment, Clinic, Department, Doctor, Patient
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.scheduling.models import ClinicClosure, WeeklyHours

DEMO_PASSWORDS = {
    "admin": "clinic-demo-admin",
    "doctor": "clinic-demo-doctor",
    "patient": "clinic-demo-patient",
}
DEMO_ADMIN = "admin@demo.clinic"


def init_app(app):
    """Register the portal's commands on the flask CLI."""
    app.cli.add_command(create_admin)
    app.cli.add_command(seed)


@click.command("create-admin")
@click.argument("email")
@click.option("--name", required=True, help="The admin's full name.")
@click.option("--password", help="Prompted for (hidden) when not given.")
def create_admin(email, name, password):
    """Create an admin account."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = auth.create_user(email=email, full_name=name, password=password, role=Role.ADMIN)
    except ValidationFailed as error:
        db.session.rollback()
        for field, messages in error.errors.items():
            for message in messages:
                click.echo(f"{field}: {message}", err=True)
        raise SystemExit(1) from None
    db.session.commit()
    click.echo(f"Admin {user.email} created.")


CLINICS = [
    {
        "name": "Clinique du Parc",
        "address": "12 rue des Lilas",
        "city": "Paris",
        "postal_code": "75011",
        "country": "FR",
        "phone": "+33 1 40 00 00 00",
        "timezone": "Europe/Paris",
    },
    {
        "name": "Hudson Family Clinic",
        "address": "250 West 57th Street",
        "city": "New York",
        "postal_code": "10107",
        "country": "US",
        "phone": "+1 212 555 0100",
        "timezone": "America/New_York",
    },
]

DEPARTMENTS = [
    (
        "cardiology",
        "Cardiology",
        "Heart and blood vessels.",
        "Cardiologie",
        "Le cœur et les vaisseaux sanguins.",
    ),
    (
        "dermatology",
        "Dermatology",
        "Skin, hair and nails.",
        "Dermatologie",
        "La peau, les cheveux et les ongles.",
    ),
    (
        "general",
        "General practice",
        "Everyday care for the whole family.",
        "Médecine générale",
        "Les soins de tous les jours pour toute la famille.",
    ),
    (
        "paediatrics",
        "Paediatrics",
        "Care for babies, children and teenagers.",
        "Pédiatrie",
        "Les soins des bébés, des enfants et des adolescents.",
    ),
    (
        "orthopaedics",
        "Orthopaedics",
        "Bones, joints and muscles.",
        "Orthopédie",
        "Les os, les articulations et les muscles.",
    ),
]

DOCTORS = [
    ("amelie.laurent", "Amélie Laurent", 0, ["cardiology"], "FR-10001"),
    ("hugo.bernard", "Hugo Bernard", 0, ["general"], "FR-10002"),
    ("chloe.martin", "Chloé Martin", 0, ["dermatology"], "FR-10003"),
    ("lucas.petit", "Lucas Petit", 0, ["paediatrics", "general"], "FR-10004"),
    ("maya.johnson", "Maya Johnson", 1, ["cardiology"], "NY-20001"),
    ("daniel.kim", "Daniel Kim", 1, ["orthopaedics"], "NY-20002"),
    ("olivia.garcia", "Olivia Garcia", 1, ["general", "paediatrics"], "NY-20003"),
    ("samuel.okafor", "Samuel Okafor", 1, ["dermatology"], "NY-20004"),
]

PATIENTS = [
    "Alice Moreau",
    "Bruno Lefèvre",
    "Camille Roux",
    "David Chen",
    "Emma Wilson",
    "Farid Haddad",
    "Grace Lee",
    "Henri Dubois",
    "Isabel Santos",
    "Jonas Weber",
]

REASONS = [
    "Check-up",
    "Follow-up visit",
    "Persistent cough",
    "Back pain",
    "Skin rash",
    "Vaccination",
    "Blood pressure review",
    "Knee pain",
]


@click.command("seed")
@click.option("--force", is_flag=True, help="Load the demo data even in production.")
def seed(force):
    """Load demo data once (clinics, departments, doctors, patients, appointments)."""
    if current_app.config["ENV_NAME"] == "production" and not force:
        # Demo accounts with published passwords have no place in a real clinic.
        click.echo(
            "This portal runs in production (PORTAL_ENV=production): the demo data, with "
            "its well-known passwords, is not loaded. Use --force to load it anyway.",
            err=True,
        )
        raise SystemExit(1)
    if db.session.scalar(select(User).where(User.email == DEMO_ADMIN)) is None:
        _load_demo_data(now=utcnow())
        db.session.commit()
        click.echo("Demo data loaded.")
    else:
        click.echo("Demo data is already there.")
    _print_accounts()


def _load_demo_data(*, now):
    rng = random.Random(2026)  # noqa: S311 - demo data only needs to look plausible
    if db.session.get(BookingSettings, 1) is None:
        db.session.add(BookingSettings(id=1, **DEFAULT_SETTINGS))
    admin = auth.create_user(
        email=DEMO_ADMIN,
        full_name="Ada Admin",
        password=DEMO_PASSWORDS["admin"],
        role=Role.ADMIN,
    )
    clinics = [Clinic(**data) for data in CLINICS]
    departments = {}
    for code, name, description, name_fr, description_fr in DEPARTMENTS:
        departments[code] = Department(
            code=code,
            name=name,
            description=description,
            translations={"fr": {"name": name_fr, "description": description_fr}},
        )
    db.session.add_all([*clinics, *departments.values()])
    db.session.flush()

    doctors = []
    for handle, name, clinic_index, codes, licence in DOCTORS:
        user = auth.create_user(
            email=f"{handle}@demo.clinic",
            full_name=name,
            password=DEMO_PASSWORDS["doctor"],
            role=Role.DOCTOR,
            actor=admin,
        )
        clinic = clinics[clinic_index]
        doctor = Doctor(
            user=user,
            clinic=clinic,
            title="Dr",
            license_number=licence,
            departments=[departments[code] for code in codes],
            qualifications="MD",
            experience_years=rng.randint(3, 30),
            consultation_fee=Decimal(rng.choice([30, 45, 60, 80])),
            currency="EUR" if clinic.country == "FR" else "USD",
            bio=f"{name} sees patients at {clinic.name}.",
            translations={"fr": {"bio": f"{name} reçoit ses patients à {clinic.name}."}},
            max_appointments_per_day=16,
            slot_minutes=30,
            seats_per_slot=1,
        )
        db.session.add(doctor)
        for weekday in range(5):
            db.session.add(
                WeeklyHours(doctor=doctor, weekday=weekday, start_time=time(9), end_time=time(12))
            )
            db.session.add(
                WeeklyHours(doctor=doctor, weekday=weekday, start_time=time(13), end_time=time(17))
            )
        doctors.append(doctor)

    patients = []
    for index, name in enumerate(PATIENTS, start=1):
        email = "patient@demo.clinic" if index == 1 else f"patient{index}@demo.clinic"
        user = auth.create_user(
            email=email,
            full_name=name,
            password=DEMO_PASSWORDS["patient"],
            role=Role.PATIENT,
            actor=admin,
        )
        patient = Patient(
            user=user,
            phone=f"+33 6 00 00 00 {index:02d}",
            blood_group=rng.choice(["A+", "O+", "B-", "AB+", None]),
        )
        db.session.add(patient)
        patients.append(patient)
    db.session.flush()
    for patient, doctor in zip(patients, doctors + doctors, strict=False):
        db.session.add(CareAssignment(doctor_id=doctor.id, patient_id=patient.id))

    _demo_closures(clinics, now)
    _demo_appointments(rng, doctors, patients, now)


# Closed in every demo clinic, and never a visit on them.
HOLIDAYS = {(12, 25), (1, 1)}


def _is_holiday(day):
    return (day.month, day.day) in HOLIDAYS


DEMO_STARTS = [
    time(9, 0),
    time(9, 30),
    time(10, 30),
    time(11, 0),
    time(14, 0),
    time(15, 30),
    time(16, 0),
]


def _demo_closures(clinics, now):
    """The holidays within the demo's six weeks, as closed days of every clinic."""
    for clinic in clinics:
        today = now.astimezone(ZoneInfo(clinic.timezone)).date()
        for offset in range(-21, 91):
            day = today + timedelta(days=offset)
            if _is_holiday(day):
                db.session.add(ClinicClosure(clinic=clinic, day=day, reason="Public holiday"))


def _demo_appointments(rng, doctors, patients, now):
    """Three weeks back and three weeks ahead, a few visits a day per doctor; visits
    that began earlier today wait for the first doctor to close them. No patient is in
    two places at once, and nobody works on a holiday."""
    busy = set()  # (patient id, start): every visit lasts 30 minutes on the half hour

    def free_patient(start):
        for patient in rng.sample(patients, len(patients)):
            if (patient.id, start) not in busy:
                busy.add((patient.id, start))
                return patient
        return None

    for index, doctor in enumerate(doctors):
        zone = ZoneInfo(doctor.clinic.timezone)
        local_now = now.astimezone(zone)
        today = local_now.date()
        taken = set()  # the doctor's starts, in UTC: two wall clocks may name one instant
        to_close = set()
        if index == 0:
            # Earlier today, on the half hour: the visits the doctor's day starts with.
            latest = local_now.replace(minute=local_now.minute // 30 * 30, second=0, microsecond=0)
            for back in (90, 60, 30):
                start = latest - timedelta(minutes=back)
                if start.date() == today and start + timedelta(minutes=30) <= local_now:
                    to_close.add(start.replace(tzinfo=None).time())
        for offset in range(-21, 22):
            day = today + timedelta(days=offset)
            if _is_holiday(day):
                continue
            walls = set() if day.weekday() >= 5 else set(rng.sample(DEMO_STARTS, rng.randint(1, 4)))
            if offset == 0:
                walls |= to_close
            for wall in sorted(walls):
                # In UTC from here: wall-clock arithmetic goes wrong when the clocks change.
                start = datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)
                closing = offset == 0 and wall in to_close
                if offset >= 0 and not closing and start < now + timedelta(hours=3):
                    continue
                if start in taken:
                    continue
                patient = free_patient(start)
                if patient is None:
                    continue
                taken.add(start)
                status = Status.CONFIRMED
                if start < now and not closing:
                    status = rng.choice([Status.COMPLETED] * 5 + [Status.NO_SHOW])
                appointment = Appointment(
                    patient=patient,
                    doctor=doctor,
                    clinic=doctor.clinic,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=30),
                    seat=1,
                    status=status,
                    reason=rng.choice(REASONS),
                    booked_by=patient.user,
                )
                if not closing and rng.random() < 0.1:
                    appointment.status = Status.CANCELLED
                    appointment.cancelled_at = min(now, start) - timedelta(days=1)
                    appointment.cancel_reason = "Patient unavailable"
                db.session.add(appointment)


def _print_accounts():
    click.echo("")
    click.echo("Demo accounts (email / password):")
    click.echo(f"  admin    {DEMO_ADMIN} / {DEMO_PASSWORDS['admin']}")
    click.echo(
        f"  doctor   amelie.laurent@demo.clinic / {DEMO_PASSWORDS['doctor']}"
        "  (all eight doctors: FIRST.LAST@demo.clinic)"
    )
    click.echo(
        f"  patient  patient@demo.clinic / {DEMO_PASSWORDS['patient']}"
        "  (also patient2..patient10@demo.clinic)"
    )
