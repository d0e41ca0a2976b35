"""Fixtures of the admin pages: a signed-in admin client and a small directory."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.booking.models import Appointment, Status
from portal.db import utcnow
from portal.directory.models import CareAssignment


@pytest.fixture
def as_admin(auth, admin):
    """The test client, signed in as the admin."""
    auth.login(admin)
    return auth.client


def future_start(days=3, hour=10):
    """A whole hour some days ahead, in UTC."""
    return (utcnow() + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


def add_appointment(db, doctor, patient, start, status=Status.CONFIRMED, **extra):
    appointment = Appointment(
        doctor_id=doctor.id,
        patient_id=patient.id,
        clinic_id=doctor.clinic_id,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        status=status,
        **extra,
    )
    db.session.add(appointment)
    db.session.commit()
    return appointment


def fingerprint(db):
    """Every row of every table: equal fingerprints mean nothing changed."""
    db.session.rollback()
    return {
        table.name: sorted(tuple(map(str, row)) for row in db.session.execute(select(table)))
        for table in db.metadata.sorted_tables
    }


@dataclass
class World:
    clinic: int
    closed_clinic: int
    department: int
    old_department: int
    doctor: int
    carer: int
    patient: int
    doctor_user: object
    patient_user: object


@pytest.fixture
def world(db, make_clinic, make_department, make_doctor, make_patient):
    """One of each record the admin pages manage, with ids to put in URLs."""
    clinic = make_clinic(name="Clinique du Parc", city="Paris")
    closed = make_clinic(name="Old Clinic", city="Lyon", is_active=False)
    department = make_department(code="cardiology", name="Cardiology")
    old = make_department(code="old-dept", name="Old department", is_active=False)
    doctor = make_doctor(clinic=clinic, departments=[department])
    carer = make_doctor(clinic=clinic, departments=[department])
    patient = make_patient()
    db.session.add(CareAssignment(doctor_id=carer.id, patient_id=patient.id))
    db.session.commit()
    add_appointment(db, doctor, patient, future_start())
    return World(
        clinic=clinic.id,
        closed_clinic=closed.id,
        department=department.id,
        old_department=old.id,
        doctor=doctor.id,
        carer=carer.id,
        patient=patient.id,
        doctor_user=doctor.user,
        patient_user=patient.user,
    )
