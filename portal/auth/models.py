"""Accounts: one user per person, with a role."""

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime, utcnow
from portal.extensions import db


class Role(enum.StrEnum):
    ADMIN = "admin"
    DOCTOR = "doctor"
    PATIENT = "patient"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        # Emails are stored lower-cased, so the unique constraint is case-insensitive.
        CheckConstraint("email = lower(email)", name="email_lower"),
        CheckConstraint("role IN ('admin', 'doctor', 'patient')", name="role_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(72))
    full_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str | None] = mapped_column(String(8))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on a password change or deactivation: every session and token issued
    # before it stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    doctor = db.relationship("Doctor", back_populates="user", uselist=False)
    patient = db.relationship("Patient", back_populates="user", uselist=False)

    def get_id(self):
        return f"{self.id}:{self.session_version}"

    def has_role(self, *roles):
        return self.role in roles

    def __repr__(self):
        return f"<User {self.id} {self.role}>"
