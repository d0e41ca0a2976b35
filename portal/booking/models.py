"""Appointments and the booking rules every slot obeys."""

import enum
from datetime import datetime
from types import MappingProxyType

from sqlalchemy import (
    DDL,
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import UTCDateTime, utcnow
from portal.extensions import db


class Status(enum.StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


DEFAULT_SETTINGS = MappingProxyType(
    {
        "min_notice_minutes": 120,
        "horizon_days": 90,
        "cancel_cutoff_hours": 24,
        "max_upcoming_per_patient": 5,
        "reminder_minutes_before": (1440,),
    }
)

# Every status but cancelled holds its seat.
ACTIVE = "status <> 'cancelled'"


class Appointment(db.Model):
    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint(
            "status IN ('confirmed', 'cancelled', 'completed', 'no_show')", name="status_known"
        ),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("seat >= 1", name="seat_positive"),
        # The guarantee against double booking: one active appointment per seat.
        Index(
            "uq_appointments_active_seat",
            "doctor_id",
            "starts_at",
            "seat",
            unique=True,
            sqlite_where=text(ACTIVE),
            postgresql_where=text(ACTIVE),
        ),
        # Seats of one slot share their start; anything else overlapping is a conflict,
        # even after the doctor changed the slot length.
        ExcludeConstraint(
            ("doctor_id", "="),
            (func.tstzrange(text("starts_at"), text("ends_at")), "&&"),
            ("starts_at", "<>"),
            name="ex_appointments_doctor_overlap",
            using="gist",
            where=text(ACTIVE),
        ).ddl_if(dialect="postgresql"),
        Index("ix_appointments_doctor_starts", "doctor_id", "starts_at"),
        Index("ix_appointments_patient_starts", "patient_id", "starts_at"),
        Index("ix_appointments_clinic_starts", "clinic_id", "starts_at"),
        Index("ix_appointments_starts", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"))
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seat: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default=Status.CONFIRMED)
    reason: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    # Who booked the visit: the patient, or staff booking on their behalf.
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # The iCalendar SEQUENCE of the visit: raised on every move and on cancellation, so
    # the patient's calendar replaces its copy of the event (same UID).
    calendar_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    patient = relationship("Patient")
    doctor = relationship("Doctor")
    clinic = relationship("Clinic")
    cancelled_by = relationship("User", foreign_keys=[cancelled_by_id])
    booked_by = relationship("User", foreign_keys=[booked_by_id])

    @property
    def is_active(self):
        return self.status != Status.CANCELLED


class BookingSettings(db.Model):
    """The booking rules: one row, read by every slot computation and booking."""

    __tablename__ = "booking_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("min_notice_minutes >= 0", name="notice_not_negative"),
        CheckConstraint("horizon_days BETWEEN 1 AND 730", name="horizon_range"),
        CheckConstraint("cancel_cutoff_hours >= 0", name="cutoff_not_negative"),
        CheckConstraint("max_upcoming_per_patient BETWEEN 1 AND 50", name="upcoming_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=120)
    horizon_days: Mapped[int] = mapped_column(Integer, default=90)
    cancel_cutoff_hours: Mapped[int] = mapped_column(Integer, default=24)
    # How many confirmed future visits a patient may hold at once (admins booking for a
    # patient are not limited).
    max_upcoming_per_patient: Mapped[int] = mapped_column(Integer, default=5)
    # The leads, in minutes before a visit, at which its patient is reminded (0 to 3).
    reminder_minutes_before: Mapped[list[int]] = mapped_column(
        JSON, default=lambda: [1440], server_default="[1440]"
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


# The exclusion constraint needs btree_gist for the equality on doctor_id.
event.listen(
    Appointment.__table__,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS btree_gist").execute_if(dialect="postgresql"),
)
