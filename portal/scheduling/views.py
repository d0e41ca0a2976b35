"""The signed-in doctor's weekly hours (time off is booking's: portal/booking/time_off.py)."""

from babel.dates import get_day_names
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.htmx import is_htmx, partial_response, render_partial
from portal.scheduling import services
from portal.scheduling.forms import (
    ActionForm,
    IntervalForm,
    SlotSettingsForm,
    StartHoursForm,
)
from portal.web import errors_on

bp = Blueprint("scheduling", __name__)

HOURS_PAGE = "scheduling/hours.html"


def _day_names():
    names = get_day_names("wide", locale=get_locale())
    return [names[weekday][:1].upper() + names[weekday][1:] for weekday in range(7)]


def _add_form(weekday, formdata=None):
    # Seven add forms share the page: the prefix keeps their field names and ids apart.
    return IntervalForm(formdata=formdata, prefix=f"day{weekday}")


def _edit_form(interval, formdata=None):
    return IntervalForm(
        formdata=formdata,
        prefix=f"interval{interval.id}",
        data={"start": interval.start_time, "end": interval.end_time},
    )


def _settings_form(doctor, formdata=None):
    return SlotSettingsForm(
        formdata=formdata,
        data={"slot_minutes": doctor.slot_minutes, "seats": doctor.seats_per_slot},
    )


def _focus(form, default=None):
    """Put the keyboard focus on the first field in error (or `default`) when it is shown."""
    target = next((item for item in form if item.errors), None) or default
    if target is not None:
        target.render_kw = {**(target.render_kw or {}), "autofocus": True}
    return form


def _hours_context(
    doctor, *, settings_form=None, add_forms=None, editing=None, weekday=None, **extra
):
    intervals = services.get_weekly_hours(actor=current_user, doctor=doctor)
    names = _day_names()
    add_forms = add_forms or {}
    days = [
        {
            "weekday": day,
            "name": names[day],
            "intervals": [interval for interval in intervals if interval.weekday == day],
            "add_form": add_forms.get(day) or _add_form(day),
        }
        for day in range(7)
    ]
    return {
        "doctor": doctor,
        "days": days,
        "day": days[weekday] if weekday is not None else None,
        "day_names": names,
        "settings_form": settings_form or _settings_form(doctor),
        "editing": editing or {},
        **extra,
    }


def _back_to_hours(anchor=None):
    return redirect(url_for(".hours", _anchor=anchor), 303)


@bp.get("/hours")
@login_required
def hours():
    doctor = services.doctor_for_user(current_user)
    return render_template(HOURS_PAGE, **_hours_context(doctor))


@bp.route("/hours/start", methods=["GET", "POST"])
@login_required
def start():
    """A new doctor's first step: weekday hours in one form, or day by day."""
    doctor = services.doctor_for_user(current_user)
    form = StartHoursForm()
    if form.validate_on_submit() and form.end.data <= form.start.data:
        form.end.errors.append(_("The end must be after the start."))
    elif form.validate_on_submit():
        with errors_on(form):
            services.replace_weekly_hours(
                actor=current_user,
                doctor=doctor,
                slot_minutes=doctor.slot_minutes,
                seats=doctor.seats_per_slot,
                intervals=[(weekday, form.start.data, form.end.data) for weekday in range(5)],
            )
            flash(_("Your weekly hours are set: patients can find and book you now."), "success")
            return _back_to_hours()
    _focus(form)
    status = 422 if form.errors else 200
    return render_template("scheduling/start.html", doctor=doctor, form=form), status


@bp.post("/hours/settings")
@login_required
def update_settings():
    doctor = services.doctor_for_user(current_user)
    form = SlotSettingsForm()
    if form.validate_on_submit():
        with errors_on(form):
            services.set_slot_settings(
                actor=current_user,
                doctor=doctor,
                slot_minutes=form.slot_minutes.data,
                seats=form.seats.data,
            )
            flash(_("Slot settings saved."), "success")
            if not is_htmx():
                return _back_to_hours("slot-settings")
            return render_partial(
                HOURS_PAGE, "scheduling/_settings.html", flashes=True, **_hours_context(doctor)
            )
    return render_partial(
        HOURS_PAGE,
        "scheduling/_settings.html",
        422,
        flashes=True,
        **_hours_context(doctor, settings_form=_focus(form)),
    )


@bp.post("/hours/days/<int:weekday>/intervals")
@login_required
def add_interval(weekday):
    doctor = services.doctor_for_user(current_user)
    if weekday not in range(7):
        abort(404)
    form = IntervalForm(prefix=f"day{weekday}")
    if form.validate_on_submit():
        with errors_on(form):
            services.add_interval(
                actor=current_user,
                doctor=doctor,
                weekday=weekday,
                start=form.start.data,
                end=form.end.data,
            )
            flash(_("Interval added."), "success")
            if not is_htmx():
                return _back_to_hours(f"day-{weekday}")
            # Ready for the next interval of the same day.
            fresh = _add_form(weekday)
            _focus(fresh, fresh.start)
            return render_partial(
                HOURS_PAGE,
                "scheduling/_day.html",
                flashes=True,
                **_hours_context(doctor, add_forms={weekday: fresh}, weekday=weekday),
            )
    return render_partial(
        HOURS_PAGE,
        "scheduling/_day.html",
        422,
        flashes=True,
        **_hours_context(doctor, add_forms={weekday: _focus(form)}, weekday=weekday),
    )


@bp.post("/hours/copy-monday")
@login_required
def copy_monday():
    doctor = services.doctor_for_user(current_user)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.copy_day_to_weekdays(actor=current_user, doctor=doctor, source=0)
    flash(_("Tuesday to Friday now have Monday's hours."), "success")
    return _back_to_hours("week-heading")


@bp.get("/hours/intervals/<int:interval_id>")
@login_required
def interval(interval_id):
    doctor = services.doctor_for_user(current_user)
    item = services.get_interval(actor=current_user, interval_id=interval_id)
    return render_partial(
        HOURS_PAGE,
        "scheduling/_interval.html",
        flashes=True,
        **_hours_context(doctor, interval=item, focus_row=item.id),
    )


@bp.get("/hours/intervals/<int:interval_id>/edit")
@login_required
def edit_interval(interval_id):
    doctor = services.doctor_for_user(current_user)
    item = services.get_interval(actor=current_user, interval_id=interval_id)
    form = _edit_form(item)
    _focus(form, form.start)
    return render_partial(
        HOURS_PAGE,
        "scheduling/_edit_interval.html",
        flashes=True,
        **_hours_context(doctor, editing={item.id: form}, interval=item, edit_form=form),
    )


@bp.post("/hours/intervals/<int:interval_id>")
@login_required
def update_interval(interval_id):
    doctor = services.doctor_for_user(current_user)
    item = services.get_interval(actor=current_user, interval_id=interval_id)
    form = IntervalForm(prefix=f"interval{item.id}")
    if form.validate_on_submit():
        with errors_on(form):
            services.update_interval(
                actor=current_user,
                interval=item,
                weekday=item.weekday,
                start=form.start.data,
                end=form.end.data,
            )
            flash(_("Interval saved."), "success")
            if not is_htmx():
                return _back_to_hours(f"day-{item.weekday}")
            return render_partial(
                HOURS_PAGE,
                "scheduling/_interval.html",
                flashes=True,
                **_hours_context(doctor, interval=item, focus_row=item.id),
            )
    _focus(form)
    return render_partial(
        HOURS_PAGE,
        "scheduling/_edit_interval.html",
        422,
        flashes=True,
        **_hours_context(doctor, editing={item.id: form}, interval=item, edit_form=form),
    )


@bp.post("/hours/intervals/<int:interval_id>/delete")
@login_required
def delete_interval(interval_id):
    services.doctor_for_user(current_user)
    item = services.get_interval(actor=current_user, interval_id=interval_id)
    weekday = item.weekday
    if not ActionForm().validate_on_submit():
        abort(400)
    services.remove_interval(actor=current_user, interval=item)
    flash(_("Interval removed."), "success")
    if not is_htmx():
        return _back_to_hours(f"day-{weekday}")
    # An empty body swapped over the row removes it; the message rides out of band.
    return partial_response(render_template("_flashes.html", oob=True))
