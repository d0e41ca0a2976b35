"""API test helpers: a JSON client that signs requests with a user's bearer token."""

from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from portal.api.security import issue_access_token
from portal.booking.models import Appointment, Status
from portal.db import utcnow
from portal.scheduling.models import TimeOff, WeeklyHours

PROBLEM = "application/problem+json"

# Filled by test_schemathesis.py: per database, requests sent and (role, operation) tried.
SCHEMATHESIS_STATS = {}


def pytest_terminal_summary(terminalreporter):
    """Say how many requests Schemathesis generated on each database."""
    for backend, stats in sorted(SCHEMATHESIS_STATS.items()):
        failed = [
            report
            for report in terminalreporter.stats.get("failed", [])
            if "answers_match_the_document" in report.nodeid and f"[{backend}]" in report.nodeid
        ]
        terminalreporter.write_line(
            f"Schemathesis on {backend}: {stats['requests']} generated requests over "
            f"{len(stats['operations'])} operation x role runs, {len(failed)} failed"
        )


class Api:
    """Requests to /api/v1 as JSON, optionally as a user (bearer token)."""

    def __init__(self, app, client):
        self.app = app
        self.client = client

    def token(self, user):
        with self.app.app_context():
            return issue_access_token(user, now=utcnow())

    def headers(self, user=None, headers=None):
        result = dict(headers or {})
        if user is not None:
            result["Authorization"] = f"Bearer {self.token(user)}"
        return result

    def call(self, method, path, *, user=None, headers=None, **kwargs):
        url = path if path.startswith("/api") else "/api/v1" + path
        return self.client.open(url, method=method, headers=self.headers(user, headers), **kwargs)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.call("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self.call("PUT", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.call("PATCH", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.call("DELETE", path, **kwargs)


@pytest.fixture
def api(app, client):
    return Api(app, client)


def assert_problem(response, status, code):
    """The response is problem details with this status and code."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == "about:blank"
    assert body["title"]
    assert body["detail"]
    return body


@pytest.fixture
def open_doctor(make_doctor, make_clinic, db):
    """A doctor who works every day round the clock in UTC, so that slots exist at any
    time the tests run."""
    doctor = make_doctor(clinic=make_clinic(timezone="UTC", city="Lyon"), hours=False)
    for weekday in range(7):
        db.session.add(
            WeeklyHours(
                doctor_id=doctor.id, weekday=weekday, start_time=time(0), end_time=time(23, 59)
            )
        )
    db.session.commit()
    return doctor


@pytest.fixture
def past_appointment(db):
    """Factory: an appointment that started an hour ago (so a doctor may close it)."""

    def make(doctor, patient, *, hours_ago=1, status=Status.CONFIRMED):
        start = utcnow().replace(second=0, microsecond=0) - timedelta(hours=hours_ago)
        appointment = Appointment(
            patient_id=patient.id,
            doctor_id=doctor.id,
            clinic_id=doctor.clinic_id,
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            seat=1,
            status=status,
            reason="Back pain",
            notes="",
        )
        db.session.add(appointment)
        db.session.commit()
        return appointment

    return make


def count(db, model):
    """How many rows a table holds."""
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def first_slot(api, doctor_id):
    """The start string of the doctor's first bookable slot, as the API gives it."""
    response = api.get(f"/doctors/{doctor_id}/slots")
    assert response.status_code == 200, response.get_data(as_text=True)
    slots = response.get_json()["slots"]
    assert slots, "the doctor has no bookable slot"
    return slots[0]["start"]


class World:
    """Two doctors, two patients and an admin; the first patient has appointments with
    the first doctor, who also has time off."""

    def __init__(self, **records):
        self.__dict__.update(records)

    def user(self, role):
        """The user acting as `role` in a matrix ("anonymous" is None)."""
        return {
            "anonymous": None,
            "patient": self.patient.user,
            "other_patient": self.other_patient.user,
            "doctor": self.doctor.user,
            "other_doctor": self.other_doctor.user,
            "admin": self.admin,
        }[role]


ROLES = ("anonymous", "patient", "other_patient", "doctor", "other_doctor", "admin")


@pytest.fixture
def world(db, admin, make_doctor, make_patient, make_clinic, make_department, past_appointment):
    clinic = make_clinic(timezone="UTC", city="Lyon")
    department = make_department(code="cardiology", name="Cardiology")
    doctor = make_doctor(clinic=clinic, hours=False, departments=[department])
    for weekday in range(7):
        db.session.add(
            WeeklyHours(
                doctor_id=doctor.id, weekday=weekday, start_time=time(0), end_time=time(23, 59)
            )
        )
    other_doctor = make_doctor()
    patient = make_patient()
    other_patient = make_patient()
    start = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
    appointment = Appointment(
        patient_id=patient.id,
        doctor_id=doctor.id,
        clinic_id=clinic.id,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        seat=1,
        reason="Check-up",
        notes="Private notes",
    )
    db.session.add(appointment)
    time_off = TimeOff(
        doctor_id=doctor.id,
        starts_at=start + timedelta(days=1),
        ends_at=start + timedelta(days=1, hours=2),
        reason="Congress",
    )
    db.session.add(time_off)
    db.session.commit()
    return World(
        admin=admin,
        clinic=clinic,
        department=department,
        doctor=doctor,
        other_doctor=other_doctor,
        patient=patient,
        other_patient=other_patient,
        appointment=appointment,
        past=past_appointment(doctor, patient),
        time_off=time_off,
    )
