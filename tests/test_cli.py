"""The command line: creating an admin and loading the demo data."""

import itertools
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from portal.auth.models import Role, User
from portal.booking.models import Appointment, Status
from portal.cli import DEMO_PASSWORDS
from portal.db import utcnow
from portal.directory.models import Clinic, Department, Doctor, Patient
from portal.scheduling.models import ClinicClosure, WeeklyHours


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_create_admin_with_a_password(runner, db, client):
    result = runner.invoke(
        args=[
            "create-admin",
            "Root@Example.org",
            "--name",
            "Rita Root",
            "--password",
            "granite-window-51",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "root@example.org"))
    assert user.role == Role.ADMIN
    response = client.post(
        "/login", data={"email": "root@example.org", "password": "granite-window-51"}
    )
    assert response.headers["Location"] == "/admin/"


def test_create_admin_prompts_for_the_password(runner, db):
    result = runner.invoke(
        args=["create-admin", "root@example.org", "--name", "Rita Root"],
        input="granite-window-51\ngranite-window-51\n",
    )
    assert result.exit_code == 0, result.output
    assert count(db, User) == 1


def test_create_admin_refuses_a_weak_password(runner, db):
    result = runner.invoke(
        args=["create-admin", "root@example.org", "--name", "Rita Root", "--password", "qwertyuiop"]
    )
    assert result.exit_code == 1
    assert "too easy to guess" in result.output
    assert count(db, User) == 0


def test_create_admin_refuses_an_existing_email(runner, db, make_user):
    make_user(email="root@example.org")
    result = runner.invoke(
        args=[
            "create-admin",
            "ROOT@example.org",
            "--name",
            "Rita Root",
            "--password",
            "granite-window-51",
        ]
    )
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert count(db, User) == 1


def test_seed_loads_the_demo_once_and_prints_the_accounts(runner, db):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert "admin@demo.clinic" in first.output
    figures = {
        model: count(db, model)
        for model in (User, Clinic, Department, Doctor, Patient, Appointment)
    }
    assert figures[Clinic] == 2
    assert figures[Department] == 5
    assert figures[Doctor] == 8
    assert figures[Patient] == 10
    assert figures[Appointment] > 50
    zones = set(db.session.scalars(select(Clinic.timezone)))
    assert len(zones) == 2
    french = db.session.scalars(select(Department)).all()
    assert all(department.translated("name", "fr") != department.name for department in french)
    doctors_with_hours = db.session.scalar(select(func.count(func.distinct(WeeklyHours.doctor_id))))
    assert doctors_with_hours == 8

    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0
    assert "already there" in second.output
    assert "admin@demo.clinic" in second.output
    assert {model: count(db, model) for model in figures} == figures


def test_every_demo_account_signs_in_to_its_own_home(runner, app, db):
    runner.invoke(args=["seed"])
    accounts = [
        ("admin@demo.clinic", "admin", "/admin/"),
        ("amelie.laurent@demo.clinic", "doctor", "/doctor"),
        ("maya.johnson@demo.clinic", "doctor", "/doctor"),
        ("patient@demo.clinic", "patient", "/patient"),
    ]
    for email, role, home in accounts:
        client = app.test_client()
        response = client.post("/login", data={"email": email, "password": DEMO_PASSWORDS[role]})
        assert response.headers["Location"] == home
        assert client.get(home).status_code == 200


def _local_days(db):
    rows = db.session.execute(
        select(Appointment.starts_at, Clinic.timezone).join(
            Clinic, Appointment.clinic_id == Clinic.id
        )
    ).all()
    return [start.astimezone(ZoneInfo(zone)).date() for start, zone in rows]


def test_the_demo_has_visits_to_close_today_and_no_patient_in_two_places(runner, db):
    assert runner.invoke(args=["seed"]).exit_code == 0
    now = utcnow()
    amelie = db.session.scalar(
        select(Doctor).join(User).where(User.email == "amelie.laurent@demo.clinic")
    )
    today = now.astimezone(ZoneInfo("Europe/Paris")).date()
    to_close = [
        visit
        for visit in db.session.scalars(
            select(Appointment).where(Appointment.doctor_id == amelie.id)
        )
        if visit.status == Status.CONFIRMED
        and visit.starts_at <= now
        and visit.starts_at.astimezone(ZoneInfo("Europe/Paris")).date() == today
    ]
    assert to_close, "the demo doctor's day starts with visits to close"
    active = db.session.execute(
        select(Appointment.patient_id, Appointment.starts_at, Appointment.ends_at).where(
            Appointment.status != Status.CANCELLED
        )
    ).all()
    by_patient = {}
    for patient_id, start, end in active:
        by_patient.setdefault(patient_id, []).append((start, end))
    for spans in by_patient.values():
        spans.sort()
        for (_start, end), (next_start, _end) in itertools.pairwise(spans):
            assert next_start >= end, "a patient holds two visits at the same time"


def test_the_demo_has_no_visit_on_christmas_day(runner, db, controlled_clock):
    controlled_clock.move_to(datetime(2026, 12, 20, 10, tzinfo=UTC))
    assert runner.invoke(args=["seed"]).exit_code == 0
    assert date(2026, 12, 25) not in _local_days(db)
    assert date(2026, 12, 24) in _local_days(db) or date(2026, 12, 28) in _local_days(db)
    closed = set(db.session.scalars(select(ClinicClosure.day)))
    assert date(2026, 12, 25) in closed


def test_seed_refuses_to_run_in_production(runner, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 1
    assert "production" in result.output
    assert "--force" in result.output
    assert count(db, User) == 0


def test_seed_in_production_runs_when_forced(runner, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    result = runner.invoke(args=["seed", "--force"])
    assert result.exit_code == 0, result.output
    assert count(db, Clinic) == 2


def test_the_celery_application_loads_in_a_fresh_interpreter(tmp_path):
    # The Celery worker and beat import wsgi with nothing loaded before: the app, its
    # models and the Celery application with its tasks must come up from there.
    environment = {
        **os.environ,
        "PORTAL_ENV": "development",
        "SECRET_KEY": "fresh-interpreter",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite'}",
    }
    environment.pop("CELERY_BROKER_URL", None)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import wsgi; print(sorted(t for t in wsgi.celery_app.tasks if 'portal' in t))",
        ],
        capture_output=True,
        text=True,
        env=environment,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "portal.messages.deliver" in result.stdout
    assert "portal.messages.tick" in result.stdout


def test_the_portal_starts_and_migrates_from_a_fresh_process(tmp_path):
    # A fresh interpreter imports nothing beforehand, as gunicorn and `flask --app wsgi` do.
    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "SECRET_KEY": "a-test-secret-key-long-enough-to-pass",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite'}",
    }
    env.pop("PORTAL_TEST_NOW", None)
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
