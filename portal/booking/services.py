"""Appointments: booking, cancelling, rescheduling and closing visits, with their rules."""

from dataclasses import dataclass, replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, exists, false, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from portal.audit.services import record_event
from portal.auth.models import Role, User
from portal.auth.services import require_role
from portal.booking import messages
from portal.booking.availability import available_slots
from portal.booking.errors import (
    BookingLimitReached,
    EmailNotVerified,
    NotChangeable,
    OverlappingVisit,
    SlotUnavailable,
    TooLateToCancel,
)
from portal.booking.models import DEFAULT_SETTINGS, Appointment, BookingSettings, Status
from portal.booking.schedule_rows import read_schedule
from portal.db import utcnow
from portal.directory.models import Clinic, Doctor, Patient
from portal.directory.services.common import clean_text, like_pattern
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.i18n import format_local
from portal.pagination import paginate
from portal.scheduling import services as scheduling
from portal.scheduling.slots import day_bounds, day_of, slot_at

REASON_MAX = 500
NOTES_MAX = 5000


# Settings -----------------------------------------------------------------------------


def schedule_versions(doctor_ids):
    """{doctor id: schedule version} of these doctors, read now: one query."""
    if not doctor_ids:
        return {}
    statement = select(Doctor.id, Doctor.schedule_version).where(Doctor.id.in_(list(doctor_ids)))
    return dict(db.session.connection().execute(statement).all())


def get_booking_settings():
    """The booking rules in force; only reads (the row comes from the migrations, and
    without it the defaults apply, in an object that is not saved)."""
    return db.session.get(BookingSettings, 1) or BookingSettings(id=1, **DEFAULT_SETTINGS)


def _reminder_leads(values, errors):
    """0 to 3 distinct leads in minutes, 10 to 10080 each, from numbers or digit strings."""
    leads = []
    for value in values:
        text = str(value).strip()
        if text == "":
            continue
        if not text.isdigit() or not 10 <= int(text) <= 10080:
            errors["reminder_minutes_before"] = [
                _l("Give each reminder in minutes, from 10 to 10080.")
            ]
            return None
        leads.append(int(text))
    if len(set(leads)) != len(leads) or len(leads) > 3:
        errors["reminder_minutes_before"] = [_l("Give at most three different reminders.")]
        return None
    return sorted(leads, reverse=True)


def update_booking_settings(
    *,
    actor,
    min_notice_minutes,
    horizon_days,
    cancel_cutoff_hours,
    reminder_minutes_before=None,
    max_upcoming_per_patient=None,
):
    """Change the booking rules; every change is an audit event. The rules given as None
    (the reminder leads, the upcoming visits per patient) stay as they are."""
    require_role(actor, Role.ADMIN)
    errors = {}
    if not 0 <= min_notice_minutes <= 60 * 24 * 30:
        errors["min_notice_minutes"] = [_l("Enter a number of minutes from 0 to 43200.")]
    if not 1 <= horizon_days <= 730:
        errors["horizon_days"] = [_l("Enter a number of days from 1 to 730.")]
    if not 0 <= cancel_cutoff_hours <= 24 * 30:
        errors["cancel_cutoff_hours"] = [_l("Enter a number of hours from 0 to 720.")]
    if max_upcoming_per_patient is not None and not 1 <= max_upcoming_per_patient <= 50:
        errors["max_upcoming_per_patient"] = [_l("Enter a number of visits from 1 to 50.")]
    leads = None
    if reminder_minutes_before is not None:
        leads = _reminder_leads(reminder_minutes_before, errors)
    if errors:
        raise ValidationFailed(errors=errors)
    settings = get_booking_settings()
    db.session.add(settings)  # saved now, should the row be missing
    new = {
        "min_notice_minutes": min_notice_minutes,
        "horizon_days": horizon_days,
        "cancel_cutoff_hours": cancel_cutoff_hours,
    }
    if max_upcoming_per_patient is not None:
        new["max_upcoming_per_patient"] = max_upcoming_per_patient
    if leads is not None:
        new["reminder_minutes_before"] = leads
    changes = {
        name: [getattr(settings, name), value]
        for name, value in new.items()
        if getattr(settings, name) != value
    }
    for name, value in new.items():
        setattr(settings, name, value)
    settings.updated_by_id = actor.id
    if changes:
        record_event(
            actor=actor,
            action="settings.changed",
            entity_type="settings",
            entity_id=1,
            changes=changes,
        )
    db.session.flush()
    return settings


# Reading ------------------------------------------------------------------------------


def patient_of(user):
    """The patient record of a patient-role user (loaded with the signed-in user)."""
    return user.patient


def doctor_of(user):
    """The doctor profile of a doctor-role user."""
    return db.session.scalar(
        select(Doctor).where(Doctor.user_id == user.id).options(joinedload(Doctor.clinic))
    )


def _visible_to(statement, actor):
    if actor.role == Role.ADMIN:
        return statement
    if actor.role == Role.DOCTOR:
        return statement.join(Doctor, Appointment.doctor_id == Doctor.id).where(
            Doctor.user_id == actor.id
        )
    return statement.join(Patient, Appointment.patient_id == Patient.id).where(
        Patient.user_id == actor.id
    )


def _with_people(statement):
    return statement.options(
        joinedload(Appointment.doctor).joinedload(Doctor.user),
        joinedload(Appointment.patient).joinedload(Patient.user),
        joinedload(Appointment.clinic),
    )


def get_appointment(*, actor, appointment_id):
    """One appointment the actor may see; NotFound for anyone else's."""
    require_role(actor, Role.ADMIN, Role.DOCTOR, Role.PATIENT)
    statement = _visible_to(select(Appointment), actor).where(Appointment.id == appointment_id)
    appointment = db.session.scalar(_with_people(statement))
    if appointment is None:
        raise NotFound()
    return appointment


def upcoming_for_patient(*, actor, now, limit=20):
    """The signed-in patient's next appointments that are still confirmed."""
    require_role(actor, Role.PATIENT)
    statement = _visible_to(select(Appointment), actor).where(
        Appointment.status == Status.CONFIRMED, Appointment.ends_at > now
    )
    return db.session.scalars(
        _with_people(statement).order_by(Appointment.starts_at).limit(limit)
    ).all()


def patient_appointments(*, actor, now, past=False, page=1, per_page=20):
    """The signed-in patient's upcoming confirmed visits, or everything else (past)."""
    require_role(actor, Role.PATIENT)
    statement = _visible_to(select(Appointment), actor)
    upcoming = (Appointment.status == Status.CONFIRMED) & (Appointment.ends_at > now)
    if past:
        statement = statement.where(~upcoming).order_by(Appointment.starts_at.desc())
    else:
        statement = statement.where(upcoming).order_by(Appointment.starts_at)
    return paginate(_with_people(statement), page=page, per_page=per_page)


def overlapping_visits(*, actor, start, end, ignore_appointment_id=None):
    """The signed-in patient's confirmed visits that overlap [start, end): what a patient
    about to book or move a visit is warned of."""
    require_role(actor, Role.PATIENT)
    statement = _visible_to(select(Appointment), actor).where(
        Appointment.status == Status.CONFIRMED,
        Appointment.starts_at < end,
        Appointment.ends_at > start,
    )
    if ignore_appointment_id is not None:
        statement = statement.where(Appointment.id != ignore_appointment_id)
    return db.session.scalars(_with_people(statement).order_by(Appointment.starts_at)).all()


def _filtered_appointments(
    actor,
    *,
    status=None,
    doctor_id=None,
    clinic_id=None,
    patient_id=None,
    starts_from=None,
    starts_before=None,
    patient_q=None,
    first_day=None,
    last_day=None,
    from_today=False,
    now=None,
):
    """The appointments the actor may see, filtered, newest start first; from
    `first_day` on (clinic-local days, each clinic in its own zone), or from each
    clinic's today with `from_today`, soonest first."""
    require_role(actor, Role.ADMIN, Role.DOCTOR, Role.PATIENT)
    statement = _visible_to(select(Appointment), actor)
    if patient_q and patient_q.strip():
        pattern = like_pattern(patient_q)
        matching = (
            select(Patient.id)
            .join(User, User.id == Patient.user_id)
            .where(
                or_(
                    User.full_name.ilike(pattern),
                    User.email.ilike(pattern),
                    Patient.phone.ilike(pattern),
                )
            )
        )
        statement = statement.where(Appointment.patient_id.in_(matching))
    if first_day is not None or last_day is not None or from_today:
        statement = statement.where(
            _on_local_days(first_day, last_day, (now or utcnow()) if from_today else None)
        )
    if status:
        statement = statement.where(Appointment.status == status)
    if doctor_id:
        statement = statement.where(Appointment.doctor_id == doctor_id)
    if clinic_id:
        statement = statement.where(Appointment.clinic_id == clinic_id)
    if patient_id:
        statement = statement.where(Appointment.patient_id == patient_id)
    if starts_from is not None:
        statement = statement.where(Appointment.starts_at >= starts_from)
    if starts_before is not None:
        statement = statement.where(Appointment.starts_at < starts_before)
    if first_day is not None or from_today:
        return _with_people(statement).order_by(Appointment.starts_at, Appointment.id)
    return _with_people(statement).order_by(Appointment.starts_at.desc(), Appointment.id)


def _on_local_days(first_day, last_day, today_at=None):
    """Appointments starting on clinic-local days first_day..last_day (either may be
    None; `today_at`, an instant, starts at that day in each zone), each clinic's days
    in its own time zone: one condition per zone in use."""
    zones = db.session.execute(select(Clinic.timezone, Clinic.id)).all()
    by_zone = {}
    for timezone, clinic_id in zones:
        by_zone.setdefault(timezone, []).append(clinic_id)
    conditions = []
    for timezone, clinic_ids in by_zone.items():
        zone = ZoneInfo(timezone)
        parts = [Appointment.clinic_id.in_(clinic_ids)]
        if today_at is not None:
            parts.append(
                Appointment.starts_at >= day_bounds(today_at.astimezone(zone).date(), zone)[0]
            )
        if first_day is not None:
            parts.append(Appointment.starts_at >= day_bounds(first_day, zone)[0])
        if last_day is not None:
            parts.append(Appointment.starts_at < day_bounds(last_day, zone)[1])
        conditions.append(and_(*parts))
    return or_(*conditions) if conditions else false()


def list_appointments(*, actor, page=1, per_page=20, **filters):
    """Appointments the actor may see (a patient theirs, a doctor theirs, an admin all),
    filtered by status, doctor_id, clinic_id, patient_id, starts_from and starts_before
    (instants), a page at a time, newest start first."""
    return paginate(_filtered_appointments(actor, **filters), page=page, per_page=per_page)


def patient_visits(*, actor, patient, now, limit=50):
    """A patient's visits for staff: upcoming confirmed ones (soonest first) and the
    rest (most recent first), at most `limit` of each (admin)."""
    require_role(actor, Role.ADMIN)
    statement = _with_people(select(Appointment).where(Appointment.patient_id == patient.id))
    upcoming = (Appointment.status == Status.CONFIRMED) & (Appointment.ends_at > now)
    return (
        db.session.scalars(
            statement.where(upcoming).order_by(Appointment.starts_at).limit(limit)
        ).all(),
        db.session.scalars(
            statement.where(~upcoming).order_by(Appointment.starts_at.desc()).limit(limit)
        ).all(),
    )


def export_appointments(*, actor, limit, **filters):
    """All appointments matching the filters for an admin's export, at most `limit`;
    returns (appointments, truncated). One query."""
    require_role(actor, Role.ADMIN)
    statement = (
        _filtered_appointments(actor, **filters)
        .options(joinedload(Appointment.booked_by))
        .limit(limit + 1)
    )
    rows = db.session.scalars(statement).unique().all()
    return rows[:limit], len(rows) > limit


def doctor_schedule(*, actor, first_day, last_day):
    """The signed-in doctor's appointments on clinic-local days first_day..last_day."""
    require_role(actor, Role.DOCTOR)
    doctor = doctor_of(actor)
    zone = ZoneInfo(doctor.clinic.timezone)
    start, end = day_bounds(first_day, zone)[0], day_bounds(last_day, zone)[1]
    statement = (
        select(Appointment)
        .where(
            Appointment.doctor_id == doctor.id,
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
        )
        .order_by(Appointment.starts_at, Appointment.seat)
    )
    return doctor, db.session.scalars(_with_people(statement)).all()


def bookable_doctor(doctor_id):
    """An active doctor taking patients at an active clinic, or NotFound."""
    doctor = db.session.scalar(
        select(Doctor)
        .join(Clinic, Doctor.clinic_id == Clinic.id)
        .where(Doctor.id == doctor_id, Doctor.is_active.is_(True), Clinic.is_active.is_(True))
        .options(joinedload(Doctor.clinic), joinedload(Doctor.user))
    )
    if doctor is None or not doctor.user.is_active:
        raise NotFound()
    return doctor


@dataclass(frozen=True)
class SlotSource:
    """What slot arithmetic needs of a bookable doctor and the booking rules, read in one
    query: the day-slots partial is the portal's busiest page."""

    id: int
    timezone: str
    slot_minutes: int
    seats_per_slot: int
    max_appointments_per_day: int | None
    accepting_patients: bool
    schedule_version: int
    min_notice_minutes: int
    horizon_days: int
    is_active: bool = True


# Built once, run on the connection: the ORM would add nothing to a row of plain values.
# One table scanned by its key, the rest in scalar subqueries: PostgreSQL plans this in a
# third of the time a four-table join takes, and it runs on every request of the page.
def _setting(column):
    return select(column).where(BookingSettings.id == 1).scalar_subquery()


_SLOT_SOURCE = select(
    Doctor.id,
    select(Clinic.timezone)
    .where(Clinic.id == Doctor.clinic_id, Clinic.is_active.is_(True))
    .scalar_subquery(),
    Doctor.slot_minutes,
    Doctor.seats_per_slot,
    Doctor.max_appointments_per_day,
    Doctor.accepting_patients,
    Doctor.schedule_version,
    _setting(BookingSettings.min_notice_minutes),
    _setting(BookingSettings.horizon_days),
).where(
    Doctor.id == bindparam("doctor_id"),
    Doctor.is_active.is_(True),
    exists().where(User.id == Doctor.user_id, User.is_active.is_(True)),
)


def slot_source(doctor_id):
    """The scheduling fields of a bookable doctor with the booking rules, or NotFound:
    one query, in every request, that holds all the kept slots and pages depend on."""
    row = db.session.connection().execute(_SLOT_SOURCE, {"doctor_id": doctor_id}).first()
    if row is None or row[1] is None:  # no such active doctor, or their clinic is closed
        raise NotFound()
    source = SlotSource(*row)
    if source.min_notice_minutes is None:  # the rules were never saved: the defaults
        source = replace(
            source,
            min_notice_minutes=DEFAULT_SETTINGS["min_notice_minutes"],
            horizon_days=DEFAULT_SETTINGS["horizon_days"],
        )
    return source


def slots_for(
    *, doctor, first_day, last_day, now, ignore_appointment_id=None, settings=None, version=None
):
    """Bookable slots of a doctor under the booking rules in force. With `version` (the
    doctor's schedule version, read in this request) a worker may reuse slots it computed
    before: for pages that show slots, never for booking."""
    return available_slots(
        doctor=doctor,
        first_day=first_day,
        last_day=last_day,
        now=now,
        settings=settings or get_booking_settings(),
        ignore_appointment_id=ignore_appointment_id,
        version=version,
    )


# Changing -----------------------------------------------------------------------------


def _lock_doctor(doctor_id, patient_id=None):
    """The doctor with their clinic and account, and the booking rules, read again under
    the doctor's row lock, in one query; NotFound when there is no such doctor.

    Bookings of one doctor take turns, so the daily maximum and the overlap checks see
    every booking committed before them (a row lock on PostgreSQL; on SQLite this locking
    read takes the database's write lock, see db.begin_write). The rows are
    read again once the lock is held, replacing what the session read before: a doctor
    deactivated or rescheduled meanwhile is seen as they are now.

    With `patient_id` the patient's row is locked in the same statement, after the
    doctor's: one patient's bookings (with any doctor) take turns too, and the checks of
    _check_patient_limits, in a later statement, see the others committed."""
    statement = (
        select(Doctor, BookingSettings)
        .join(Doctor.clinic)
        .join(Doctor.user)
        .outerjoin(BookingSettings, BookingSettings.id == 1)
        .where(Doctor.id == doctor_id)
        .options(contains_eager(Doctor.clinic), contains_eager(Doctor.user))
        .execution_options(populate_existing=True)
    )
    if patient_id is None:
        statement = statement.with_for_update(of=Doctor)
    else:
        statement = statement.join(Patient, Patient.id == patient_id).with_for_update(
            of=[Doctor, Patient]
        )
    row = db.session.execute(statement).first()
    if row is None:
        raise NotFound()
    doctor, settings = row
    return doctor, settings or get_booking_settings()


def _is_bookable(doctor):
    return doctor.is_active and doctor.user.is_active and doctor.clinic.is_active


def _slot_at(doctor, settings, start, now, ignore_appointment_id=None):
    """The slot starting at `start` and the seats taken in it, or SlotUnavailable: the
    one start is checked (scheduling.slots.slot_at), against the rows of its day only."""
    if start.tzinfo is None:
        raise ValidationFailed.on("start", _l("Give the time with its UTC offset."))
    if not doctor.accepting_patients:
        raise SlotUnavailable()
    zone = ZoneInfo(doctor.clinic.timezone)
    day_start, day_end = day_bounds(day_of(start, zone), zone)
    schedule = read_schedule(
        doctor.id, day_start, day_end, ignore_appointment_id=ignore_appointment_id
    )
    slot = slot_at(
        start,
        hours=schedule.hours,
        time_off=schedule.blocked(zone),
        busy=schedule.busy,
        tz=zone,
        slot_minutes=doctor.slot_minutes,
        seats=doctor.seats_per_slot,
        min_notice=timedelta(minutes=settings.min_notice_minutes),
        horizon=timedelta(days=settings.horizon_days),
        max_per_day=doctor.max_appointments_per_day,
        now=now,
    )
    if slot is None:
        raise SlotUnavailable()
    return slot, schedule.taken_seats(slot.start)


def _take_a_seat(appointment, doctor, slot, taken):
    """Give the appointment the lowest free seat of the slot. The database has the last
    word (the unique seat index, and on PostgreSQL the overlap exclusion): with several
    seats, one taken at the same moment moves on to the next, each try in a savepoint;
    with one seat a refusal is SlotUnavailable at once, and the caller rolls back."""
    appointment.starts_at, appointment.ends_at = slot.start, slot.end
    free = [seat for seat in range(1, doctor.seats_per_slot + 1) if seat not in taken]
    if doctor.seats_per_slot == 1:
        appointment.seat = 1
        db.session.add(appointment)
        try:
            db.session.flush()
        except IntegrityError:
            raise SlotUnavailable() from None
        return appointment
    for seat in free:
        appointment.seat = seat
        try:
            with db.session.begin_nested():
                db.session.add(appointment)
                db.session.flush()
        except IntegrityError:
            continue
        return appointment
    raise SlotUnavailable()


def _clean_reason(reason):
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ValidationFailed.on(
            "reason", _l("Use at most %(count)d characters.", count=REASON_MAX)
        )
    return reason


def _check_patient_limits(actor, patient, slot, settings, now, moving=None):
    """The rules against one account hoarding visits, checked under the patient's row
    lock (taken with the doctor's by _lock_doctor), so two bookings of one patient, even
    with two doctors, take turns: no two
    visits that overlap in time (OverlappingVisit, naming the other one), and, for a
    patient booking for themself, at most `max_upcoming_per_patient` confirmed future
    visits (BookingLimitReached). `moving` is the appointment being rescheduled."""
    mine = (Appointment.patient_id == Patient.id) & (Appointment.status == Status.CONFIRMED)
    overlapping = select(Appointment.id).where(
        mine, Appointment.starts_at < slot.end, Appointment.ends_at > slot.start
    )
    if moving is not None:
        overlapping = overlapping.where(Appointment.id != moving.id)
    upcoming = (
        select(func.count()).select_from(Appointment).where(mine, Appointment.starts_at > now)
    )
    # One statement for the overlap and the count (booking is the busiest write). Not
    # the one that takes the lock: on PostgreSQL a statement that waited for a lock still
    # reads with the snapshot it started with, and would miss the booking it waited for.
    other_id, count = db.session.execute(
        select(
            overlapping.order_by(Appointment.starts_at).limit(1).scalar_subquery(),
            upcoming.scalar_subquery(),
        ).where(Patient.id == patient.id)
    ).one()
    if other_id is not None:
        other = db.session.scalar(
            select(Appointment)
            .where(Appointment.id == other_id)
            .options(joinedload(Appointment.doctor).joinedload(Doctor.user))
            .options(joinedload(Appointment.clinic))
        )
        raise OverlappingVisit(
            _l(
                "You already have a visit at that time: %(doctor)s, %(when)s.",
                doctor=f"{other.doctor.title} {other.doctor.user.full_name}".strip(),
                when=format_local(other.starts_at, other.clinic.timezone, "full"),
            )
        )
    if moving is not None or actor.role != Role.PATIENT:
        return
    limit = settings.max_upcoming_per_patient or DEFAULT_SETTINGS["max_upcoming_per_patient"]
    if count >= limit:
        raise BookingLimitReached(
            _l(
                "You already have %(count)d upcoming visits, the most one patient may hold. "
                "Cancel one you no longer need, or ask the clinic.",
                count=count,
            )
        )


def book(*, actor, patient, doctor_id, start, reason, now):
    """Book the slot starting at `start` for the patient: a patient for themself, or an
    admin for anyone. NotFound when the doctor is not in the directory; SlotUnavailable
    when the slot is not bookable (taken, full, too soon...); EmailNotVerified for a
    patient who has not confirmed their address; OverlappingVisit and
    BookingLimitReached (patients only) against hoarding. The appointment comes with its
    doctor, clinic and patient loaded, for the answer to show."""
    require_role(actor, Role.PATIENT, Role.ADMIN)
    if actor.role == Role.PATIENT and patient.user_id != actor.id:
        raise NotFound()
    if actor.role == Role.PATIENT and not actor.email_verified:
        raise EmailNotVerified()
    reason = _clean_reason(reason)
    doctor, settings = _lock_doctor(doctor_id, patient_id=patient.id)
    if not _is_bookable(doctor):
        raise NotFound()
    slot, taken = _slot_at(doctor, settings, start, now)
    _check_patient_limits(actor, patient, slot, settings, now)
    appointment = Appointment(
        patient=patient,
        doctor=doctor,
        clinic=doctor.clinic,
        reason=reason,
        status=Status.CONFIRMED,
        booked_by_id=actor.id,
    )
    _take_a_seat(appointment, doctor, slot, taken)
    record_event(
        actor=actor,
        action="appointment.booked",
        entity_type="appointment",
        entity_id=appointment.id,
        changes={
            "doctor_id": doctor.id,
            "patient_id": patient.id,
            "start": slot.start.isoformat(),
        },
    )
    messages.tell_booked(appointment, actor=actor, now=now)
    return appointment


_ROW_STATE = (
    "status",
    "starts_at",
    "ends_at",
    "seat",
    "notes",
    "cancelled_at",
    "cancelled_by_id",
    "cancel_reason",
    "calendar_sequence",
)


def _lock_appointment(appointment):
    # Re-read the row under a lock, so a doctor closing a visit and a patient cancelling
    # it at the same moment take turns and the second sees the first one's change.
    db.session.refresh(appointment, attribute_names=_ROW_STATE, with_for_update=True)


def _check_patient_may_change(actor, appointment, now, settings):
    if appointment.status != Status.CONFIRMED:
        raise NotChangeable()
    if actor.role == Role.PATIENT:
        cutoff = timedelta(hours=settings.cancel_cutoff_hours)
        if now > appointment.starts_at - cutoff:
            raise TooLateToCancel()


def cancel(*, actor, appointment, reason, now):
    """Cancel a confirmed appointment: its patient until the cutoff, its doctor, an admin.
    The seat is free again at once."""
    # The doctor first, then the appointment, in the order booking and rescheduling take
    # them: cancelling gives the doctor a new schedule version (a trigger), so it locks
    # the doctor's row too.
    _doctor, settings = _lock_doctor(appointment.doctor_id)
    _lock_appointment(appointment)
    _check_patient_may_change(actor, appointment, now, settings)
    appointment.status = Status.CANCELLED
    appointment.cancelled_at = now
    appointment.cancelled_by_id = actor.id
    appointment.cancel_reason = _clean_reason(reason)
    appointment.calendar_sequence += 1
    record_event(
        actor=actor,
        action="appointment.cancelled",
        entity_type="appointment",
        entity_id=appointment.id,
        changes={"reason": appointment.cancel_reason},
    )
    db.session.flush()
    messages.withdraw_reminders(appointment)
    messages.tell_cancelled(appointment, actor=actor, now=now)
    return appointment


def reschedule(*, actor, appointment, start, now):
    """Move a confirmed appointment to another slot of the same doctor, atomically: when
    the new slot is not bookable, the appointment stays exactly as it was (the caller
    rolls back on SlotUnavailable)."""
    if actor.role == Role.DOCTOR:
        raise NotChangeable()
    doctor, settings = _lock_doctor(appointment.doctor_id, patient_id=appointment.patient_id)
    _lock_appointment(appointment)
    _check_patient_may_change(actor, appointment, now, settings)
    if not _is_bookable(doctor):
        raise SlotUnavailable()
    old_start = appointment.starts_at
    slot, taken = _slot_at(doctor, settings, start, now, ignore_appointment_id=appointment.id)
    _check_patient_limits(actor, appointment.patient, slot, settings, now, moving=appointment)
    previous = (appointment.starts_at, appointment.ends_at, appointment.seat)
    # Raised before the move is written, so both go in one UPDATE.
    appointment.calendar_sequence += 1
    try:
        _take_a_seat(appointment, doctor, slot, taken)
    except SlotUnavailable:
        appointment.starts_at, appointment.ends_at, appointment.seat = previous
        appointment.calendar_sequence -= 1
        raise
    record_event(
        actor=actor,
        action="appointment.rescheduled",
        entity_type="appointment",
        entity_id=appointment.id,
        changes={"start": [old_start.isoformat(), slot.start.isoformat()]},
    )
    messages.withdraw_reminders(appointment)
    messages.tell_moved(appointment, actor=actor, previous_start=old_start, now=now)
    return appointment


def _close_visit(actor, appointment, status, notes, now):
    if actor.role not in (Role.DOCTOR, Role.ADMIN):
        raise NotFound()
    # The doctor first, as cancel does: any change to an appointment gives the doctor a
    # new schedule version (a trigger), so it locks the doctor's row too.
    _lock_doctor(appointment.doctor_id)
    _lock_appointment(appointment)
    if appointment.status == Status.CANCELLED:
        raise NotChangeable()
    if now < appointment.starts_at:
        raise NotChangeable(_l("A visit can be closed only once it has started."))
    notes = (notes or "").strip()
    if len(notes) > NOTES_MAX:
        raise ValidationFailed.on("notes", _l("Use at most %(count)d characters.", count=NOTES_MAX))
    appointment.status = status
    appointment.notes = notes
    record_event(
        actor=actor,
        action=f"appointment.{status}",
        entity_type="appointment",
        entity_id=appointment.id,
    )
    db.session.flush()
    return appointment


def mark_completed(*, actor, appointment, notes, now):
    """The doctor (or an admin) records that the visit took place, with notes."""
    return _close_visit(actor, appointment, Status.COMPLETED, notes, now)


def mark_no_show(*, actor, appointment, notes, now):
    """The doctor (or an admin) records that the patient did not come."""
    return _close_visit(actor, appointment, Status.NO_SHOW, notes, now)


# Days off ------------------------------------------------------------------------------

DAYS_OFF_MAX = 366


def _days_off_window(doctor, first_day, last_day):
    errors = {}
    if last_day is None:
        last_day = first_day
    if last_day < first_day:
        errors["last_day"] = [_l("The last day must not be before the first.")]
    elif (last_day - first_day).days >= DAYS_OFF_MAX:
        errors["last_day"] = [_l("Take at most %(count)d days at once.", count=DAYS_OFF_MAX)]
    if errors:
        raise ValidationFailed(errors=errors)
    zone = ZoneInfo(doctor.clinic.timezone)
    return day_bounds(first_day, zone)[0], day_bounds(last_day, zone)[1]


def visits_in_days_off(*, actor, doctor, first_day, last_day, now):
    """The confirmed visits still to come of a doctor on clinic-local days
    first_day..last_day, which whole days off would hold (the doctor themself, or an
    admin)."""
    _check_schedule_owner(actor, doctor)
    start, end = _days_off_window(doctor, first_day, last_day)
    return visits_in_time_off(actor=actor, doctor=doctor, starts_at=start, ends_at=end, now=now)


def take_days_off(*, actor, doctor, first_day, last_day, reason, cancel_visits, now):
    """Whole days off, from the first local day to the last (included): time off from
    the clinic's midnight to midnight, and its visits as take_time_off leaves them.
    Returns (time off, cancelled visits)."""
    _check_schedule_owner(actor, doctor)
    start, end = _days_off_window(doctor, first_day, last_day)
    return _take_time_off(
        actor,
        doctor,
        start,
        end,
        reason,
        cancel_visits,
        now,
        fallback=_l("The doctor is not available on that day."),
    )


# Time off over booked visits -----------------------------------------------------------


def _visits_between(doctor, start, end, now):
    # Overlapping, not touching: a visit ending when the time off starts is outside it.
    # Only visits still to come; one that has started is the doctor's to close.
    statement = select(Appointment).where(
        Appointment.doctor_id == doctor.id,
        Appointment.status == Status.CONFIRMED,
        Appointment.starts_at < end,
        Appointment.ends_at > start,
        Appointment.starts_at > now,
    )
    return db.session.scalars(
        _with_people(statement).order_by(Appointment.starts_at, Appointment.id)
    ).all()


def visits_in_time_off(*, actor, doctor, starts_at, ends_at, now):
    """The confirmed visits still to come of a doctor that time off from `starts_at` to
    `ends_at` (aware datetimes) would hold, by start (the doctor themself, or an admin).
    The span is checked as take_time_off would check it (ValidationFailed)."""
    _check_schedule_owner(actor, doctor)
    starts_at, ends_at, _reason = scheduling.check_time_off(
        starts_at=starts_at, ends_at=ends_at, reason="", now=now
    )
    return _visits_between(doctor, starts_at, ends_at, now)


def take_time_off(*, actor, doctor, starts_at, ends_at, reason, cancel_visits, now):
    """Time off from `starts_at` to `ends_at`. With `cancel_visits` the confirmed visits
    still to come in it are cancelled with the reason, which their patients read (each is
    told); otherwise they stay booked. Returns (time off, cancelled visits)."""
    _check_schedule_owner(actor, doctor)
    return _take_time_off(
        actor,
        doctor,
        starts_at,
        ends_at,
        reason,
        cancel_visits,
        now,
        fallback=_l("The doctor is not available at that time."),
    )


def _take_time_off(actor, doctor, starts_at, ends_at, reason, cancel_visits, now, *, fallback):
    if cancel_visits:
        # The doctor's row lock first, as booking takes it: a booking in progress commits
        # before the visits are read, and one that follows sees the time off.
        _lock_doctor(doctor.id)
    time_off = scheduling.add_time_off(
        actor=actor, doctor=doctor, starts_at=starts_at, ends_at=ends_at, reason=reason, now=now
    )
    cancelled = []
    if cancel_visits:
        message = time_off.reason or str(fallback)
        for appointment in _visits_between(doctor, time_off.starts_at, time_off.ends_at, now):
            cancelled.append(cancel(actor=actor, appointment=appointment, reason=message, now=now))
    return time_off, cancelled


def _check_schedule_owner(actor, doctor):
    require_role(actor, Role.DOCTOR, Role.ADMIN)
    if actor.role == Role.DOCTOR and doctor.user_id != actor.id:
        raise NotFound()


def deactivate_doctor(*, actor, doctor, reason, now):
    """Take a doctor out of the directory and the slots; their future appointments are
    cancelled with the reason, and each patient is told (admin). Returns how many."""
    require_role(actor, Role.ADMIN)
    reason = clean_text({}, "reason", reason, limit=500) or str(
        _l("The doctor is no longer available.")
    )
    # The doctor's row lock first, as booking takes it: a booking in progress commits
    # before the future visits are read, and one that follows sees the doctor gone.
    db.session.execute(
        select(Doctor)
        .where(Doctor.id == doctor.id)
        .options(joinedload(Doctor.user), joinedload(Doctor.clinic))
        .with_for_update(of=Doctor)
        .execution_options(populate_existing=True)
    )
    doctor.is_active = False
    doctor.user.is_active = False
    doctor.user.session_version += 1
    future = db.session.scalars(
        select(Appointment)
        .where(
            Appointment.doctor_id == doctor.id,
            Appointment.status == Status.CONFIRMED,
            Appointment.starts_at > now,
        )
        .options(joinedload(Appointment.patient).joinedload(Patient.user))
    ).all()
    for appointment in future:
        appointment.status = Status.CANCELLED
        appointment.cancelled_at = now
        appointment.cancelled_by_id = actor.id
        appointment.cancel_reason = reason
        appointment.calendar_sequence += 1
    record_event(
        actor=actor,
        action="doctor.deactivated",
        entity_type="doctor",
        entity_id=doctor.id,
        changes={"reason": reason, "cancelled_appointments": len(future)},
    )
    db.session.flush()
    for appointment in future:
        messages.withdraw_reminders(appointment)
        messages.tell_cancelled(appointment, actor=actor, now=now)
    return len(future)


def every_visit_of(*, patient_id):
    """Every visit of one patient, oldest first, with their doctors and clinics: for the
    patient's data export (the caller checks who may ask)."""
    statement = select(Appointment).where(Appointment.patient_id == patient_id)
    return db.session.scalars(
        _with_people(statement).order_by(Appointment.starts_at, Appointment.id)
    ).all()


def cancel_future_visits(*, actor, patient_id, reason, now):
    """Cancel every confirmed visit of a patient still to come, whatever the cutoff (the
    account is closing); each doctor's seat is free again at once. Returns them."""
    visits = db.session.scalars(
        select(Appointment)
        .where(
            Appointment.patient_id == patient_id,
            Appointment.status == Status.CONFIRMED,
            Appointment.starts_at > now,
        )
        .order_by(Appointment.doctor_id, Appointment.id)
    ).all()
    for visit in visits:
        _lock_doctor(visit.doctor_id)
        _lock_appointment(visit)
        if visit.status != Status.CONFIRMED:
            continue
        visit.status = Status.CANCELLED
        visit.cancelled_at = now
        visit.cancelled_by_id = actor.id
        visit.cancel_reason = reason
        record_event(
            actor=actor,
            action="appointment.cancelled",
            entity_type="appointment",
            entity_id=visit.id,
            changes={"reason": reason},
        )
        # The doctor hears of it; the patient, whose account is closing, gets nothing.
        messages.withdraw_reminders(visit)
        messages.tell_cancelled(visit, actor=actor, now=now, tell_patient=False)
    db.session.flush()
    return visits


def forget_patient_words(*, patient_id):
    """Blank what a patient wrote on their visits (the reason for each, a cancellation
    reason): the clinic keeps the visits, not the patient's words."""
    db.session.execute(
        update(Appointment)
        .where(Appointment.patient_id == patient_id)
        .values(reason="", cancel_reason="")
    )
    db.session.flush()


def read_booking_settings(*, actor):
    """The booking rules in force, for an admin."""
    require_role(actor, Role.ADMIN)
    return get_booking_settings()
