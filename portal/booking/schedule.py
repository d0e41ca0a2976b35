"""The doctor's schedule: a day or a week of visits, closing and cancelling them."""

from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.auth.models import Role
from portal.auth.services import require_role
from portal.booking import services as booking
from portal.booking.models import Appointment, Status
from portal.booking.schedule_forms import (
    CancelVisitForm,
    CloseVisitForm,
    DaysOffForm,
    forms_for,
)
from portal.booking.time_off import tell_what_became_of
from portal.booking.week_grid import build_week
from portal.db import utcnow
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.htmx import is_htmx, render_partial
from portal.scheduling import services as scheduling
from portal.scheduling.slots import day_bounds
from portal.web import attach_errors, errors_on, query_date, refused

bp = Blueprint("schedule", __name__)


@dataclass
class Visit:
    """One row of the schedule and what the doctor may do with it now."""

    appointment: Appointment
    close_form: CloseVisitForm
    cancel_form: CancelVisitForm
    may_close: bool
    may_cancel: bool
    alert: str | None = None  # why the last change was refused
    done: str | None = None  # what the last change did


def doctors_only(view):
    """Sign in first, then doctors only (403 for anyone else, before anything is loaded):
    the services let admins and patients act on appointments too, but these pages are the
    doctor's own."""

    @wraps(view)
    @login_required
    def guarded(*args, **kwargs):
        require_role(current_user, Role.DOCTOR)
        return view(*args, **kwargs)

    return guarded


@bp.get("")
@doctors_only
def show():
    """The schedule page; also the doctor's home (home.doctor answers with it)."""
    now = utcnow()
    day = query_date("day")
    notice = None
    if request.args.get("day") and day is None:
        notice = _("That date could not be read, so today is shown.")
    week = request.args.get("view") == "week"
    return _schedule_response(day=day, week=week, now=now, notice=notice)


@bp.post("/appointments/<int:appointment_id>/close")
@doctors_only
def close(appointment_id):
    appointment = booking.get_appointment(actor=current_user, appointment_id=appointment_id)
    now = utcnow()
    form = CloseVisitForm()
    if not form.validate():
        return _refused(appointment, now, ValidationFailed(), close_form=form)
    if form.outcome.data == Status.COMPLETED:
        mark, done = booking.mark_completed, _("The visit is marked completed.")
    else:
        mark, done = booking.mark_no_show, _("The visit is marked as a no-show.")
    with refused(Conflict, ValidationFailed) as outcome:
        mark(actor=current_user, appointment=appointment, notes=form.notes.data, now=now)
        return _changed(appointment, now, done)
    return _refused(appointment, now, outcome.error, close_form=form)


@bp.post("/appointments/<int:appointment_id>/cancel")
@doctors_only
def cancel(appointment_id):
    appointment = booking.get_appointment(actor=current_user, appointment_id=appointment_id)
    now = utcnow()
    form = CancelVisitForm()
    if not form.validate():
        return _refused(appointment, now, ValidationFailed(), cancel_form=form)
    with refused(Conflict, ValidationFailed) as outcome:
        booking.cancel(
            actor=current_user, appointment=appointment, reason=form.reason.data, now=now
        )
        return _changed(
            appointment, now, _("The visit is cancelled. The patient sees your reason.")
        )
    return _refused(appointment, now, outcome.error, cancel_form=form)


@bp.route("/days-off", methods=["GET", "POST"])
@doctors_only
def days_off():
    """Whole days off in one step; visits already booked on them are listed first, and
    the doctor chooses to cancel them (with the reason) or keep them."""
    doctor = booking.doctor_of(current_user)
    if doctor is None:
        raise NotFound()
    form = DaysOffForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "GET":
        day = query_date("day")
        if day is not None:
            form.first_day.data = day
        return render_template("booking/days_off.html", form=form, doctor=doctor, visits=None)
    visits = None
    if form.validate_on_submit():
        first, last = form.first_day.data, form.last_day.data
        now = utcnow()
        with errors_on(form, ValidationFailed):
            visits = booking.visits_in_days_off(
                actor=current_user, doctor=doctor, first_day=first, last_day=last, now=now
            )
            if not visits or form.visits.data in ("cancel", "keep"):
                _time_off, cancelled = booking.take_days_off(
                    actor=current_user,
                    doctor=doctor,
                    first_day=first,
                    last_day=last,
                    reason=form.reason.data,
                    cancel_visits=form.visits.data == "cancel",
                    now=now,
                )
                flash(_("Your days off are saved."), "success")
                tell_what_became_of(visits, cancelled)
                return redirect(url_for(".show", day=first.isoformat(), view="week"), 303)
        if visits:
            # The visits those days hold, before anything is saved.
            return render_template("booking/days_off.html", form=form, doctor=doctor, visits=visits)
    return render_template("booking/days_off.html", form=form, doctor=doctor, visits=None), 422


# Rendering ----------------------------------------------------------------------------


def _zone_of(appointment):
    return appointment.doctor.clinic.timezone


def _local_day(appointment):
    return appointment.starts_at.astimezone(ZoneInfo(_zone_of(appointment))).date()


def _visit(appointment, now, *, close_form=None, cancel_form=None, alert=None, done=None):
    close_form, cancel_form = forms_for(appointment, close_form, cancel_form)
    # The same rules as the services, only to offer the actions that can succeed.
    return Visit(
        appointment=appointment,
        close_form=close_form,
        cancel_form=cancel_form,
        may_close=appointment.status != Status.CANCELLED and now >= appointment.starts_at,
        may_cancel=appointment.status == Status.CONFIRMED,
        alert=alert,
        done=done,
    )


def _schedule_response(*, day, week, now, notice=None, visit=None, status=200):
    """The schedule around `day` (today when None): the page, or its container for htmx.
    `visit` replaces its own row, to show a refused change in place."""
    profile = booking.doctor_of(current_user)
    if profile is None:
        raise NotFound()
    zone = ZoneInfo(profile.clinic.timezone)
    today = now.astimezone(zone).date()
    day = day or today
    first = day - timedelta(days=day.weekday()) if week else day
    last = first + timedelta(days=6) if week else day
    doctor, appointments = booking.doctor_schedule(
        actor=current_user, first_day=first, last_day=last
    )
    days = {first + timedelta(days=offset): [] for offset in range((last - first).days + 1)}
    for appointment in appointments:
        row = visit if visit and visit.appointment.id == appointment.id else None
        local_day = appointment.starts_at.astimezone(zone).date()
        days.setdefault(local_day, []).append(row or _visit(appointment, now))
    step = timedelta(days=7 if week else 1)
    view = "week" if week else None
    grid = None
    if week:
        time_off, closed = scheduling.blocked_in(
            actor=current_user,
            doctor=doctor,
            window_start=day_bounds(first, zone)[0],
            window_end=day_bounds(last, zone)[1],
        )
        hours = [
            (item.weekday, item.start_time, item.end_time)
            for item in scheduling.get_weekly_hours(actor=current_user, doctor=doctor)
        ]
        grid = build_week(sorted(days), appointments, time_off, closed, zone, hours)
    return render_partial(
        "booking/schedule.html",
        "booking/_schedule.html",
        status=status,
        doctor=doctor,
        timezone=doctor.clinic.timezone,
        day=day,
        today=today,
        week=week,
        days=sorted(days.items()),
        grid=grid,
        notice=notice,
        urls={
            "previous": url_for("schedule.show", day=(day - step).isoformat(), view=view),
            "today": url_for("schedule.show", view=view),
            "next": url_for("schedule.show", day=(day + step).isoformat(), view=view),
            "day": url_for("schedule.show", day=day.isoformat()),
            "week": url_for("schedule.show", day=day.isoformat(), view="week"),
            "week_day": lambda other: url_for("schedule.show", day=other.isoformat(), view="week"),
            "on_day": lambda other: url_for("schedule.show", day=other.isoformat()),
        },
    )


def _row(visit, status=200):
    body = render_template("booking/_visit.html", visit=visit, timezone=_zone_of(visit.appointment))
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def _refused(appointment, now, error, **forms):
    """The row again with the reason inline: alone for htmx, else on its day's page."""
    if isinstance(error, ValidationFailed):
        status, message = 422, error.message
        if error.errors:
            for form in forms.values():
                attach_errors(form, error)
            # The details sit beside their fields; the row says where to look.
            message = ValidationFailed.default_message
    else:
        status, message = error.status, error.message
    visit = _visit(appointment, now, alert=str(message), **forms)
    if is_htmx():
        return _row(visit, status)
    return _schedule_response(
        day=_local_day(appointment), week=False, now=now, visit=visit, status=status
    )


def _changed(appointment, now, done):
    """After a change: the updated row for htmx, else back to that day's schedule."""
    if is_htmx():
        return _row(_visit(appointment, now, done=done))
    flash(done, "success")
    response = redirect(url_for("schedule.show", day=_local_day(appointment).isoformat()), 303)
    response.vary.add("HX-Request")
    return response
