"""The signed-in doctor's time off by the hour: visits already booked in it are listed
before anything is saved, and the doctor cancels them (patients read the reason) or keeps
them. It lives in booking because it reads and cancels appointments."""

from datetime import UTC
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import format_time, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.booking import services as booking
from portal.booking.schedule_forms import TimeOffForm
from portal.db import utcnow
from portal.i18n import zone_label
from portal.scheduling import services as scheduling
from portal.scheduling.forms import ActionForm
from portal.web import errors_on

bp = Blueprint("time_off", __name__)

PAGE = "booking/time_off.html"
CHOICES = ("cancel", "keep")


def _instant(field, zone, *, latest):
    """The UTC instant a clinic-local reading names, or None with a message on the field.

    A reading that happens twice (the clocks go back) gives the earlier instant for a start
    and the later one for an end, so the time off covers both; the second value says so.
    """
    naive = field.data
    candidates = {naive.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)}
    real = sorted(
        moment
        for moment in candidates
        if moment.astimezone(zone).replace(tzinfo=None, fold=0) == naive
    )
    if not real:
        field.errors.append(
            _(
                "%(time)s does not exist on that day in %(zone)s: the clocks go forward. "
                "Choose another time.",
                time=format_time(naive.time(), "short", rebase=False),
                zone=zone_label(zone.key),
            )
        )
        return None, False
    return (real[-1] if latest else real[0]), len(real) > 1


def _focus_first_error(form):
    """Put the keyboard focus on the first field in error when the form is shown again."""
    target = next((item for item in form if item.errors), None)
    if target is not None:
        target.render_kw = {**(target.render_kw or {}), "autofocus": True}
    return form


def _page(doctor, form, status=200, *, visits=None, span=None):
    periods = scheduling.list_time_off(actor=current_user, doctor=doctor, now=utcnow())
    body = render_template(
        PAGE,
        doctor=doctor,
        form=form,
        periods=periods,
        visits=visits,
        span=span,
        timezone=doctor.clinic.timezone,
    )
    return body, status


@bp.get("/time-off")
@login_required
def page():
    doctor = scheduling.doctor_for_user(current_user)
    return _page(doctor, TimeOffForm(formdata=None))


@bp.post("/time-off")
@login_required
def add():
    """Time off in two steps when it holds booked visits: first the list of them, then
    the doctor's choice (cancel them with the reason, or keep them); nothing is saved
    before the choice. Without such visits, in one step."""
    doctor = scheduling.doctor_for_user(current_user)
    form = TimeOffForm()
    if form.validate_on_submit():
        zone = ZoneInfo(doctor.clinic.timezone)
        starts_at, start_twice = _instant(form.starts_at, zone, latest=False)
        ends_at, end_twice = _instant(form.ends_at, zone, latest=True)
        if starts_at is not None and ends_at is not None:
            now = utcnow()
            choice = form.visits.data if form.visits.data in CHOICES else None
            with errors_on(form):
                # All of what would be saved is checked before the visits are shown.
                scheduling.check_time_off(
                    starts_at=starts_at, ends_at=ends_at, reason=form.reason.data, now=now
                )
                visits = booking.visits_in_time_off(
                    actor=current_user, doctor=doctor, starts_at=starts_at, ends_at=ends_at, now=now
                )
                if visits and choice is None:
                    return _page(doctor, form, visits=visits, span=(starts_at, ends_at))
                _time_off, cancelled = booking.take_time_off(
                    actor=current_user,
                    doctor=doctor,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    reason=form.reason.data,
                    cancel_visits=choice == "cancel",
                    now=now,
                )
                flash(_("Time off added."), "success")
                tell_what_became_of(visits, cancelled)
                twice = [form.starts_at.data] * start_twice + [form.ends_at.data] * end_twice
                for reading in dict.fromkeys(value.time() for value in twice):
                    flash(
                        _(
                            "The clocks go back that night in %(zone)s, so %(time)s happens "
                            "twice; your time off includes both.",
                            zone=zone_label(zone.key),
                            time=format_time(reading, "short", rebase=False),
                        ),
                        "info",
                    )
                return redirect(url_for(".page"), 303)
    _focus_first_error(form)
    return _page(doctor, form, 422)


def tell_what_became_of(visits, cancelled):
    """Say what became of the visits booked in new time off: cancelled, or kept."""
    if cancelled:
        flash(
            ngettext(
                "%(num)d visit is cancelled; the patient sees your reason.",
                "%(num)d visits are cancelled; the patients see your reason.",
                len(cancelled),
            ),
            "success",
        )
    elif visits:
        flash(
            ngettext(
                "%(num)d visit stays booked during this time off.",
                "%(num)d visits stay booked during this time off.",
                len(visits),
            ),
            "info",
        )


@bp.post("/time-off/<int:time_off_id>/delete")
@login_required
def delete(time_off_id):
    scheduling.doctor_for_user(current_user)
    period = scheduling.get_time_off(actor=current_user, time_off_id=time_off_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    scheduling.remove_time_off(actor=current_user, time_off=period)
    flash(_("Time off removed."), "success")
    return redirect(url_for(".page"), 303)
