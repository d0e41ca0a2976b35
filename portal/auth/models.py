"""Accounts: one user per person, with a role."""

import enum
import unicodedata
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import true

from portal.db import UTCDateTime, utcnow
from portal.extensions import db


class Role(enum.StrEnum):
    ADMIN = "admin"
    DOCTOR = "doctor"
    PATIENT = "patient"


def fold(text):
    """Text as searches compare it: without accents, case-folded ("Amélie" -> "amelie"),
    the same on every database."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def _folded_name(context):
    return fold(context.get_current_parameters().get("full_name"))


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        # Emails are stored lower-cased, so the unique constraint is case-insensitive.
        CheckConstraint("email = lower(email)", name="email_lower"),
        CheckConstraint("role IN ('admin', 'doctor', 'patient')", name="role_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Empty (None) for a patient recorded without one (a phone or walk-in patient); they
    # cannot sign in until an admin adds it.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(72))
    full_name: Mapped[str] = mapped_column(String(120))
    # full_name folded for searching; kept in step on every insert and name change.
    # (Nullable only so SQLite adds it without rebuilding the table; it is always set.)
    search_name: Mapped[str | None] = mapped_column(String(255), default=_folded_name)
    role: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str | None] = mapped_column(String(8))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A self-registered patient proves the address is theirs before booking; accounts
    # an admin creates (and activated ones) count as verified.
    email_verified: Mapped[bool] = mapped_column(Boolean, default=True)
    # Whether the person is emailed reminders before their visits.
    notify_reminders: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
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

    def __repr__(self):
        return f"<User {self.id} {self.role}>"


class ActivationToken(db.Model):
    """A one-time link for an onboarded doctor (or patient) to set their password."""

    __tablename__ = "activation_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Only a SHA-256 of the token is kept: a leaked table opens no account.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = db.relationship("User", foreign_keys=[user_id])


class AccountToken(db.Model):
    """A one-time link sent to a user's address: a password reset or an email
    verification. Only a SHA-256 of the token is kept."""

    __tablename__ = "account_tokens"
    __table_args__ = (
        CheckConstraint("purpose IN ('password_reset', 'verify_email')", name="purpose_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RefreshToken(db.Model):
    """An API refresh token: single use, rotated on every refresh, stored as a hash."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The user's session version when issued: a password change or deactivation
    # bumps it, and every older token stops working.
    session_version: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyKey(db.Model):
    """The answer given to a request carrying an Idempotency-Key, replayed on retries."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    # A digest of method, path and body: the same key with another request is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


# Two-factor sign-in ----------------------------------------------------------------------


class TwoFactor(db.Model):
    """A staff member's authenticator app: its TOTP secret, in use once confirmed."""

    __tablename__ = "two_factor_secrets"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Base32, as authenticator apps read it from the QR code.
    secret: Mapped[str] = mapped_column(String(64))
    # Set when the first code from the app is entered; until then sign-in ignores it.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The time step of the last code accepted: a code opens one sign-in only.
    last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecoveryCode(db.Model):
    """A one-time code for signing in without the authenticator app, kept as a digest."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignInPolicy(db.Model):
    """How staff sign in: one row, changed by admins."""

    __tablename__ = "sign_in_policies"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    require_staff_otp: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


@event.listens_for(User.full_name, "set")
def _keep_search_name(user, value, _old, _initiator):
    user.search_name = fold(value)
