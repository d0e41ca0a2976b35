"""The directory: clinics, departments, doctors, patients and who cares for whom."""

import secrets
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.schema import FetchedValue

from portal.db import TranslatedMixin, Translations, UTCDateTime, utcnow
from portal.directory import directory_version
from portal.directory import schedule_version as version_triggers
from portal.extensions import db


def new_schedule_version():
    """A fresh schedule version: random, so no earlier state of any doctor has it."""
    return secrets.randbits(62)


BLOOD_GROUPS = ("A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-")

doctor_departments = Table(
    "doctor_departments",
    db.Model.metadata,
    Column("doctor_id", ForeignKey("doctors.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "department_id",
        ForeignKey("departments.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class CareAssignment(db.Model):
    """A patient placed in a doctor's care by an admin."""

    __tablename__ = "care_assignments"

    doctor_id: Mapped[int] = mapped_column(
        ForeignKey("doctors.id", ondelete="CASCADE"), primary_key=True
    )
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Clinic(db.Model):
    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(255), default="")
    city: Mapped[str] = mapped_column(String(120), index=True)
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2))
    phone: Mapped[str] = mapped_column(String(40), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    doctors = relationship("Doctor", back_populates="clinic", lazy="raise")


class Department(TranslatedMixin, db.Model):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    translations: Mapped[dict] = mapped_column(Translations, default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Doctor(TranslatedMixin, db.Model):
    __tablename__ = "doctors"
    __table_args__ = (
        CheckConstraint("slot_minutes BETWEEN 5 AND 480", name="slot_minutes_range"),
        CheckConstraint("seats_per_slot >= 1", name="seats_positive"),
        CheckConstraint(
            "max_appointments_per_day IS NULL OR max_appointments_per_day >= 1",
            name="daily_max_positive",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    title: Mapped[str] = mapped_column(String(40), default="")
    license_number: Mapped[str] = mapped_column(String(40), unique=True)
    qualifications: Mapped[str] = mapped_column(Text, default="")
    experience_years: Mapped[int] = mapped_column(Integer, default=0)
    consultation_fee: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    bio: Mapped[str] = mapped_column(Text, default="")
    translations: Mapped[dict] = mapped_column(Translations, default=dict)
    max_appointments_per_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    accepting_patients: Mapped[bool] = mapped_column(Boolean, default=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The weekly schedule's shape; the intervals themselves are WeeklyHours rows.
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30)
    seats_per_slot: Mapped[int] = mapped_column(Integer, default=1)
    # Takes a new random value whenever the doctor's free times may change: database
    # triggers set it on every write to this row, the doctor's hours, time off and
    # appointments (schedule_version.py), so pages can reuse computed slots.
    schedule_version: Mapped[int] = mapped_column(
        BigInteger,
        default=new_schedule_version,
        server_default="0",
        server_onupdate=FetchedValue(),
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User", back_populates="doctor")
    clinic = relationship("Clinic", back_populates="doctors")
    # Loaded where a page shows them (selectinload in the listing services), not every
    # time a doctor is read.
    departments = relationship("Department", secondary=doctor_departments)

    @property
    def full_name(self):
        return self.user.full_name

    @property
    def timezone(self):
        return self.clinic.timezone


version_triggers.install(db.Model.metadata)


class Patient(db.Model):
    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint(
            "blood_group IS NULL OR blood_group IN ("
            + ", ".join(f"'{group}'" for group in BLOOD_GROUPS)
            + ")",
            name="blood_group_known",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    date_of_birth: Mapped[date | None] = mapped_column(Date, nullable=True)
    blood_group: Mapped[str | None] = mapped_column(String(3), nullable=True)
    allergies: Mapped[str] = mapped_column(Text, default="")
    emergency_contact: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User", back_populates="patient")
    doctors = relationship("Doctor", secondary="care_assignments", lazy="raise", viewonly=True)

    @property
    def full_name(self):
        return self.user.full_name


class DirectoryState(db.Model):
    """One row: the directory's version, which database triggers change whenever a list
    of doctors may change (directory_version.py)."""

    __tablename__ = "directory_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


directory_version.install(DirectoryState.__table__)
