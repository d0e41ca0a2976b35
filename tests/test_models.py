"""The database itself refuses data that would corrupt the portal."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.auth.models import Role, User
from portal.booking.models import Appointment, Status
from portal.directory.models import Patient

NINE = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


def appointment(doctor, patient, start=NINE, minutes=30, seat=1, status=Status.CONFIRMED):
    return Appointment(
        doctor=doctor,
        patient=patient,
        clinic=doctor.clinic,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        seat=seat,
        status=status,
    )


def test_emails_are_unique_whatever_the_case(db, make_user):
    make_user(email="nora@example.org")
    db.session.add(User(email="NORA@example.org", full_name="N", role=Role.PATIENT))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(User(email="nora@example.org", full_name="N", role=Role.PATIENT))
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_licence_numbers_are_unique(db, make_doctor):
    make_doctor(license_number="FR-1")
    with pytest.raises(IntegrityError):
        make_doctor(license_number="FR-1")


def test_blood_group_must_be_one_of_the_known_groups(db, make_user):
    db.session.add(Patient(user=make_user(), blood_group="C+"))
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_one_seat_holds_one_active_appointment(db, doctor, make_patient):
    db.session.add(appointment(doctor, make_patient()))
    db.session.commit()
    db.session.add(appointment(doctor, make_patient()))
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_a_cancelled_appointment_frees_its_seat(db, doctor, make_patient):
    db.session.add(appointment(doctor, make_patient(), status=Status.CANCELLED))
    db.session.add(appointment(doctor, make_patient()))
    db.session.add(appointment(doctor, make_patient(), seat=2))
    db.session.commit()
    assert len(db.session.query(Appointment).all()) == 3


def test_times_come_back_as_utc_instants(db, doctor, patient):
    paris = datetime(2030, 3, 4, 10, 0).astimezone(UTC).astimezone()
    db.session.add(appointment(doctor, patient, start=paris))
    db.session.commit()
    db.session.expire_all()
    stored = db.session.query(Appointment).one()
    assert stored.starts_at == paris
    assert stored.starts_at.tzinfo is UTC


def test_overlapping_appointments_of_one_doctor_are_refused_on_postgresql(
    db, backend, doctor, make_patient
):
    if backend != "postgresql":
        pytest.skip("the exclusion constraint exists on PostgreSQL only")
    db.session.add(appointment(doctor, make_patient(), minutes=30))
    db.session.commit()
    db.session.add(appointment(doctor, make_patient(), start=NINE + timedelta(minutes=15), seat=1))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    # Seats of the same slot share their start, so they may overlap.
    db.session.add(appointment(doctor, make_patient(), seat=2))
    db.session.commit()


def test_a_write_under_way_is_never_committed_by_a_read_only_request(db, make_user):
    # read_only must not switch a session that has begun to statement-by-statement
    # commits: the write below would then be saved although it was rolled back.
    from portal.db import read_only

    db.session.add(User(email="draft@example.org", full_name="Draft", role=Role.PATIENT))
    db.session.flush()
    read_only(db.session)
    db.session.add(User(email="draft2@example.org", full_name="Draft", role=Role.PATIENT))
    db.session.flush()
    db.session.rollback()
    emails = db.session.scalars(select(User.email).where(User.email.like("draft%"))).all()
    assert emails == []
