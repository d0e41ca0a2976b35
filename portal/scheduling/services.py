"""A doctor's weekly hours, slot settings and time off: reading and changing them."""

from datetime import UTC, date, datetime, time, timedelta

from flask_babel import format_time
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload

from portal.audit.services import record_event
from portal.auth.models import Role
from portal.auth.services import require_role
from portal.directory.models import Doctor
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.scheduling.models import ClinicClosure, TimeOff, WeeklyHours

SLOT_MINUTES = (5, 480)
SEATS = (1, 50)
REASON_MAX = 255


def has_weekly_hours():
    """A condition on Doctor: they have set some weekly hours (else nobody can book them,
    and patients are not shown them)."""
    return exists().where(WeeklyHours.doctor_id == Doctor.id)


def doctor_for_user(user):
    """The doctor profile of a signed-in doctor; NotAllowed for anyone else."""
    require_role(user, Role.DOCTOR)
    doctor = db.session.scalar(
        select(Doctor).where(Doctor.user_id == user.id).options(joinedload(Doctor.clinic))
    )
    if doctor is None:
        raise NotAllowed()
    return doctor


def _check_access(actor, doctor):
    # Other people's schedules are answered as missing, not as forbidden: 404, not 403.
    require_role(actor, Role.ADMIN, Role.DOCTOR, Role.PATIENT)
    if actor.role == Role.ADMIN:
        return
    if actor.role == Role.DOCTOR and doctor is not None and doctor.user_id == actor.id:
        return
    raise NotFound()


def _lock(doctor):
    # Serialises concurrent schedule changes of one doctor (PostgreSQL row lock), so two
    # requests cannot each pass the overlap check and together store overlapping intervals.
    db.session.execute(select(Doctor.id).where(Doctor.id == doctor.id).with_for_update())


def _clock(value):
    return value.strftime("%H:%M")


def _interval_dict(weekday, start, end):
    return {"weekday": weekday, "start": _clock(start), "end": _clock(end)}


def _interval_errors(weekday, start, end):
    """Problems of one interval on its own, by field."""
    errors = {}
    if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
        errors["weekday"] = [_l("Choose a day from Monday to Sunday.")]
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, time) or value.tzinfo is not None:
            errors[name] = [_l("Enter a time as hours and minutes.")]
    if "start" not in errors and "end" not in errors and end <= start:
        errors["end"] = [_l("The end must be after the start.")]
    return errors


def _overlap_message(other_start, other_end):
    return _l(
        "This overlaps the interval from %(start)s to %(end)s on the same day.",
        start=format_time(other_start, "short", rebase=False),
        end=format_time(other_end, "short", rebase=False),
    )


def _check_interval(doctor, weekday, start, end, *, ignore_id=None):
    errors = _interval_errors(weekday, start, end)
    if not errors:
        others = db.session.scalars(
            select(WeeklyHours).where(
                WeeklyHours.doctor_id == doctor.id, WeeklyHours.weekday == weekday
            )
        ).all()
        for other in others:
            # Half-open intervals: 09:00-12:00 and 12:00-17:00 touch but do not overlap.
            if other.id != ignore_id and start < other.end_time and other.start_time < end:
                errors["start"] = [_overlap_message(other.start_time, other.end_time)]
                break
    if errors:
        raise ValidationFailed(errors=errors)


def _settings_errors(slot_minutes, seats):
    errors = {}
    low, high = SLOT_MINUTES
    if isinstance(slot_minutes, bool) or not isinstance(slot_minutes, int):
        errors["slot_minutes"] = [_l("Enter a whole number of minutes.")]
    elif not low <= slot_minutes <= high:
        errors["slot_minutes"] = [
            _l("Use a slot length from %(low)d to %(high)d minutes.", low=low, high=high)
        ]
    low, high = SEATS
    if isinstance(seats, bool) or not isinstance(seats, int) or not low <= seats <= high:
        errors["seats"] = [_l("Use from %(low)d to %(high)d seats per slot.", low=low, high=high)]
    return errors


def _schedule_snapshot(doctor, intervals):
    return {
        "slot_minutes": doctor.slot_minutes,
        "seats": doctor.seats_per_slot,
        "intervals": [
            _interval_dict(row.weekday, row.start_time, row.end_time) for row in intervals
        ],
    }


def _ordered_hours(doctor):
    return db.session.scalars(
        select(WeeklyHours)
        .where(WeeklyHours.doctor_id == doctor.id)
        .order_by(WeeklyHours.weekday, WeeklyHours.start_time, WeeklyHours.id)
    ).all()


def get_weekly_hours(*, actor, doctor):
    """The doctor's intervals ordered by weekday and start; for the doctor or an admin."""
    _check_access(actor, doctor)
    return _ordered_hours(doctor)


def get_interval(*, actor, interval_id):
    """One interval the actor may see and change, else NotFound."""
    interval = db.session.get(WeeklyHours, interval_id)
    if interval is None:
        raise NotFound()
    _check_access(actor, interval.doctor)
    return interval


def add_interval(*, actor, doctor, weekday, start, end):
    """Add a working interval on a weekday; it may touch but not overlap another."""
    _check_access(actor, doctor)
    _lock(doctor)
    _check_interval(doctor, weekday, start, end)
    interval = WeeklyHours(doctor_id=doctor.id, weekday=weekday, start_time=start, end_time=end)
    db.session.add(interval)
    db.session.flush()
    record_event(
        actor=actor,
        action="weekly_hours.changed",
        entity_type="doctor",
        entity_id=doctor.id,
        changes={"interval_id": interval.id, "added": _interval_dict(weekday, start, end)},
    )
    db.session.flush()
    return interval


def update_interval(*, actor, interval, weekday, start, end):
    """Change one interval's day and times, with the same checks as adding one."""
    doctor = interval.doctor
    _check_access(actor, doctor)
    _lock(doctor)
    _check_interval(doctor, weekday, start, end, ignore_id=interval.id)
    before = _interval_dict(interval.weekday, interval.start_time, interval.end_time)
    after = _interval_dict(weekday, start, end)
    if before == after:
        return interval
    interval.weekday, interval.start_time, interval.end_time = weekday, start, end
    record_event(
        actor=actor,
        action="weekly_hours.changed",
        entity_type="doctor",
        entity_id=doctor.id,
        changes={"interval_id": interval.id, "before": before, "after": after},
    )
    db.session.flush()
    return interval


def remove_interval(*, actor, interval):
    """Delete one interval; booked appointments stay as they are."""
    doctor = interval.doctor
    _check_access(actor, doctor)
    removed = _interval_dict(interval.weekday, interval.start_time, interval.end_time)
    record_event(
        actor=actor,
        action="weekly_hours.changed",
        entity_type="doctor",
        entity_id=doctor.id,
        changes={"interval_id": interval.id, "removed": removed},
    )
    db.session.delete(interval)
    db.session.flush()


def set_slot_settings(*, actor, doctor, slot_minutes, seats):
    """Set the slot length (5..480 minutes) and seats per slot (1..50)."""
    _check_access(actor, doctor)
    errors = _settings_errors(slot_minutes, seats)
    if errors:
        raise ValidationFailed(errors=errors)
    before = {"slot_minutes": doctor.slot_minutes, "seats": doctor.seats_per_slot}
    after = {"slot_minutes": slot_minutes, "seats": seats}
    if before == after:
        return doctor
    doctor.slot_minutes, doctor.seats_per_slot = slot_minutes, seats
    record_event(
        actor=actor,
        action="slot_settings.changed",
        entity_type="doctor",
        entity_id=doctor.id,
        changes={"before": before, "after": after},
    )
    db.session.flush()
    return doctor


def replace_weekly_hours(*, actor, doctor, slot_minutes, seats, intervals):
    """Replace slot settings and every interval at once; intervals are (weekday, start, end)."""
    _check_access(actor, doctor)
    _lock(doctor)
    errors = _settings_errors(slot_minutes, seats)
    intervals = [tuple(item) for item in intervals]
    valid = []
    for index, (weekday, start, end) in enumerate(intervals):
        problems = _interval_errors(weekday, start, end)
        for name, messages in problems.items():
            errors[f"intervals[{index}].{name}"] = messages
        if not problems:
            valid.append((weekday, start, end, index))
    valid.sort()
    reach = None  # the interval reaching latest so far on the current weekday
    for weekday, start, end, index in valid:
        if reach is not None and reach[0] == weekday and start < reach[2]:
            key = f"intervals[{index}].start"
            errors.setdefault(key, []).append(_overlap_message(reach[1], reach[2]))
        if reach is None or reach[0] != weekday or end > reach[2]:
            reach = (weekday, start, end)
    if errors:
        raise ValidationFailed(errors=errors)

    existing = _ordered_hours(doctor)
    before = _schedule_snapshot(doctor, existing)
    for row in existing:
        db.session.delete(row)
    db.session.flush()
    doctor.slot_minutes, doctor.seats_per_slot = slot_minutes, seats
    rows = [
        WeeklyHours(doctor_id=doctor.id, weekday=weekday, start_time=start, end_time=end)
        for weekday, start, end, _index in valid
    ]
    db.session.add_all(rows)
    db.session.flush()
    record_event(
        actor=actor,
        action="weekly_hours.changed",
        entity_type="doctor",
        entity_id=doctor.id,
        changes={"before": before, "after": _schedule_snapshot(doctor, rows)},
    )
    db.session.flush()
    return rows


def copy_day_to_weekdays(*, actor, doctor, source=0):
    """Give Monday to Friday the intervals of `source` (Monday), keeping the weekend;
    one change, audited as any replacement of the week."""
    _check_access(actor, doctor)
    intervals = _ordered_hours(doctor)
    template = [(item.start_time, item.end_time) for item in intervals if item.weekday == source]
    kept = [
        (item.weekday, item.start_time, item.end_time)
        for item in intervals
        if item.weekday not in range(5)
    ]
    copied = [(weekday, start, end) for weekday in range(5) for start, end in template]
    return replace_weekly_hours(
        actor=actor,
        doctor=doctor,
        slot_minutes=doctor.slot_minutes,
        seats=doctor.seats_per_slot,
        intervals=copied + kept,
    )


def list_time_off(*, actor, doctor, now):
    """Time off that is current or still to come, ordered by start."""
    _check_access(actor, doctor)
    return db.session.scalars(
        select(TimeOff)
        .where(TimeOff.doctor_id == doctor.id, TimeOff.ends_at > now)
        .order_by(TimeOff.starts_at, TimeOff.id)
    ).all()


def get_time_off(*, actor, time_off_id):
    """One period of time off the actor may see and remove, else NotFound."""
    time_off = db.session.get(TimeOff, time_off_id)
    if time_off is None:
        raise NotFound()
    _check_access(actor, time_off.doctor)
    return time_off


def _is_aware(value):
    return isinstance(value, datetime) and value.utcoffset() is not None


def check_time_off(*, starts_at, ends_at, reason, now=None):
    """The span and reason add_time_off would store: (start in UTC, end in UTC, reason),
    or ValidationFailed naming the fields. Aware datetimes, the end after the start and,
    with `now`, not over already."""
    reason = (reason or "").strip()
    errors = {}
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not _is_aware(value):
            errors[name] = [_l("Enter a date and time with its time zone.")]
    if not errors:
        starts_at, ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
        if ends_at <= starts_at:
            errors["ends_at"] = [_l("The end must be after the start.")]
        elif now is not None and ends_at <= now:
            errors["ends_at"] = [_l("The time off must end in the future.")]
    if len(reason) > REASON_MAX:
        errors["reason"] = [_l("Use at most %(count)d characters.", count=REASON_MAX)]
    if errors:
        raise ValidationFailed(errors=errors)
    return starts_at, ends_at, reason


def add_time_off(*, actor, doctor, starts_at, ends_at, reason, now=None):
    """Block a span of instants (aware datetimes); with `now`, it must not be over already."""
    _check_access(actor, doctor)
    starts_at, ends_at, reason = check_time_off(
        starts_at=starts_at, ends_at=ends_at, reason=reason, now=now
    )
    time_off = TimeOff(doctor_id=doctor.id, starts_at=starts_at, ends_at=ends_at, reason=reason)
    db.session.add(time_off)
    db.session.flush()
    record_event(
        actor=actor,
        action="time_off.added",
        entity_type="doctor",
        entity_id=doctor.id,
        changes={
            "time_off_id": time_off.id,
            "starts_at": time_off.starts_at.isoformat(),
            "ends_at": time_off.ends_at.isoformat(),
            "reason": reason,
        },
    )
    db.session.flush()
    return time_off


def remove_time_off(*, actor, time_off):
    """Delete a period of time off."""
    doctor = time_off.doctor
    _check_access(actor, doctor)
    record_event(
        actor=actor,
        action="time_off.removed",
        entity_type="doctor",
        entity_id=doctor.id,
        changes={
            "time_off_id": time_off.id,
            "starts_at": time_off.starts_at.isoformat(),
            "ends_at": time_off.ends_at.isoformat(),
            "reason": time_off.reason,
        },
    )
    db.session.delete(time_off)
    db.session.flush()


# Clinic closures -----------------------------------------------------------------------


def list_clinic_closures(*, actor, clinic, from_day):
    """A clinic's closed days from `from_day` on, earliest first (admin)."""
    require_role(actor, Role.ADMIN)
    return db.session.scalars(
        select(ClinicClosure)
        .where(ClinicClosure.clinic_id == clinic.id, ClinicClosure.day >= from_day)
        .order_by(ClinicClosure.day)
    ).all()


def add_clinic_closure(*, actor, clinic, day, reason):
    """Close a clinic for a whole local day (a public holiday): none of its doctors is
    offered then. Visits already booked that day stay; the admin is told how many."""
    require_role(actor, Role.ADMIN)
    errors = {}
    if not isinstance(day, date):
        errors["day"] = [_l("Enter a date.")]
    reason = (reason or "").strip()
    if len(reason) > 120:
        errors["reason"] = [_l("Use at most %(count)d characters.", count=120)]
    if errors:
        raise ValidationFailed(errors=errors)
    exists_already = db.session.scalar(
        select(ClinicClosure.id).where(
            ClinicClosure.clinic_id == clinic.id, ClinicClosure.day == day
        )
    )
    if exists_already is not None:
        raise ValidationFailed.on("day", _l("The clinic is already closed on this day."))
    closure = ClinicClosure(clinic_id=clinic.id, day=day, reason=reason)
    db.session.add(closure)
    db.session.flush()
    record_event(
        actor=actor,
        action="clinic.closed_day_added",
        entity_type="clinic",
        entity_id=clinic.id,
        changes={"day": day.isoformat(), "reason": reason},
    )
    return closure


def remove_clinic_closure(*, actor, clinic, closure_id):
    """Open a clinic again on a day it was closed (admin); NotFound for another clinic's."""
    require_role(actor, Role.ADMIN)
    closure = db.session.get(ClinicClosure, closure_id)
    if closure is None or closure.clinic_id != clinic.id:
        raise NotFound()
    record_event(
        actor=actor,
        action="clinic.closed_day_removed",
        entity_type="clinic",
        entity_id=clinic.id,
        changes={"day": closure.day.isoformat()},
    )
    db.session.delete(closure)
    db.session.flush()


def blocked_in(*, actor, doctor, window_start, window_end):
    """What keeps a doctor from seeing patients in [window_start, window_end), for their
    own schedule: their time off as (start, end, reason), and their clinic's closed days
    as {day: reason} (local days within a day of the window's UTC dates)."""
    _check_access(actor, doctor)
    time_off = db.session.execute(
        select(TimeOff.starts_at, TimeOff.ends_at, TimeOff.reason)
        .where(
            TimeOff.doctor_id == doctor.id,
            TimeOff.starts_at < window_end,
            TimeOff.ends_at > window_start,
        )
        .order_by(TimeOff.starts_at)
    ).all()
    closed = db.session.execute(
        select(ClinicClosure.day, ClinicClosure.reason).where(
            ClinicClosure.clinic_id == doctor.clinic_id,
            ClinicClosure.day >= window_start.date() - timedelta(days=1),
            ClinicClosure.day <= window_end.date() + timedelta(days=1),
        )
    ).all()
    return [tuple(row) for row in time_off], dict(closed)
