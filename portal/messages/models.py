"""The outbox: one row per message, written in the transaction of its cause."""

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import UTCDateTime, utcnow
from portal.extensions import db


class MessageStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        # The key that makes every message at most once: the event that caused it, its
        # recipient, and the lead (minutes before a visit) for reminders, else 0.
        UniqueConstraint("event", "to_address", "lead_minutes", name="uq_messages_key"),
        CheckConstraint("status IN ('queued', 'sent', 'failed')", name="status_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_messages_due", "status", "next_attempt_at"),
        Index("ix_messages_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(String(120))
    lead_minutes: Mapped[int] = mapped_column(Integer, default=0)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    to_address: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8), default="en")
    subject: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text, default="")
    attachment_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    attachment_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When a deliverer may next take it: its creation, the end of a delivery in
    # progress (a lease, so a crashed one is taken again), or the next retry.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self):
        return f"<Message {self.id} {self.kind} {self.status}>"
