"""Reminders before visits, found by a periodic job (messages.delivery's tick).

For each lead in the booking rules, a confirmed visit whose reminder time has come and
that has not started gets one reminder, keyed by (visit, calendar sequence, lead): two
beat processes or workers running this at once queue it once, and a visit moved since
(a new sequence) is reminded of its new time only. A lead whose time had already passed
when the visit got its time (booked or moved within the lead) is skipped: the
confirmation just told them. Reminders still queued when a visit is cancelled or moved
are withdrawn by the booking services (see messages.withdraw)."""

from datetime import timedelta

from sqlalchemy import String, cast, exists, literal, select
from sqlalchemy.orm import joinedload

from portal.auth.models import User
from portal.booking import messages
from portal.booking.models import Appointment, Status
from portal.booking.services import get_booking_settings
from portal.directory.models import Doctor, Patient
from portal.extensions import db
from portal.messages.models import Message

# At most this many reminders are written per lead per run; the next run takes the rest.
BATCH = 500


def reminder_event(appointment):
    """The event key of a visit's reminders at its current time."""
    return f"appointment-{appointment.id}-reminder-{appointment.calendar_sequence}"


_EVENT = (
    literal("appointment-")
    + cast(Appointment.id, String)
    + literal("-reminder-")
    + cast(Appointment.calendar_sequence, String)
)


def due_reminders(*, now, lead_minutes, limit=BATCH):
    """Confirmed visits of patients who want reminders, whose reminder for this lead is
    due (the visit starts within the lead and has not started) and not yet written."""
    lead = timedelta(minutes=lead_minutes)
    already = exists().where(
        Message.appointment_id == Appointment.id,
        Message.kind == "reminder",
        Message.lead_minutes == lead_minutes,
        Message.event == _EVENT,
    )
    statement = (
        select(Appointment)
        .join(Patient, Appointment.patient_id == Patient.id)
        .join(User, User.id == Patient.user_id)
        .where(
            Appointment.status == Status.CONFIRMED,
            Appointment.starts_at > now,
            Appointment.starts_at <= now + lead,
            User.is_active.is_(True),
            User.notify_reminders.is_(True),
            User.email.is_not(None),  # a patient without an email is not reminded
            ~already,
        )
        .options(
            joinedload(Appointment.patient).joinedload(Patient.user),
            joinedload(Appointment.doctor).joinedload(Doctor.user),
            joinedload(Appointment.clinic),
        )
        .order_by(Appointment.starts_at)
        .limit(limit)
    )
    return [
        appointment
        for appointment in db.session.scalars(statement)
        # Skipped: the reminder time had passed when the visit got this time.
        if appointment.starts_at - lead >= appointment.updated_at
    ]


def queue_due_reminders(*, now):
    """Write every reminder that is due into the outbox (the caller commits); returns
    how many were new."""
    written = 0
    for lead_minutes in sorted(set(get_booking_settings().reminder_minutes_before or ())):
        for appointment in due_reminders(now=now, lead_minutes=lead_minutes):
            if messages.tell_reminder(
                appointment, lead_minutes=lead_minutes, event=reminder_event(appointment), now=now
            ):
                written += 1
    return written
