"""Patients book, see, cancel and reschedule their appointments."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    flash,
    get_template_attribute,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from portal import revalidation
from portal.auth.models import Role
from portal.auth.services import require_role
from portal.booking import services
from portal.booking.availability import next_free_slots
from portal.booking.calendar import appointment_ics
from portal.booking.cards import card_for, kept_list, listed, render_cards
from portal.booking.errors import (
    BookingLimitReached,
    EmailNotVerified,
    NotChangeable,
    OverlappingVisit,
    SlotUnavailable,
    TooLateToCancel,
)
from portal.booking.forms import BookForm, CancelForm, FindDoctorForm, RescheduleForm
from portal.booking.models import Status
from portal.booking.picker import DaySlots, build_picker
from portal.db import read_only, utcnow
from portal.directory import services as directory
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.htmx import hx_redirect, is_htmx, partial_response, render_partial
from portal.i18n import format_local
from portal.pagination import Page
from portal.scheduling.services import has_weekly_hours
from portal.web import errors_on, query_date, refused

bp = Blueprint("booking", __name__)

# The partial's words follow the visitor's language (cookie or browser); the full page
# at the same URL is another answer.
DAY_SLOTS_VARY = ("HX-Request", "Accept-Language", "Cookie")


def _parse_start(value):
    try:
        start = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return start if start.tzinfo is not None else None


PER_PAGE = 20
NEXT_TIMES = 3  # a doctor's next free times offered in a list of results
Q_MAX = 100
# A doctor is listed once they have weekly hours: before, nobody could book them.
LISTED = (has_weekly_hours(),)


def _page_number():
    return request.args.get("page", 1, type=int)


def _chosen_id(value, allowed):
    """A filter's id when it is one of the offered choices, else None (no filter)."""
    return int(value) if value and value.isdigit() and int(value) in allowed else None


def _listed_page(locale, **filters):
    """A page of listed doctors (with weekly hours) matching the filters, as plain
    values: what each worker keeps under the directory's version."""
    page = directory.search_doctors(**filters, per_page=PER_PAGE, where=LISTED)
    return Page(
        items=[listed(doctor, locale) for doctor in page.items],
        page=page.page,
        per_page=page.per_page,
        total=page.total,
    )


def _doctor_results(page_template, results, **context):
    """A page of doctors with each one's next free times: the whole page, or for HTMX
    the results plus, out of band, the live region that announces how many were found.
    The free times come from the doctors' schedule versions, read now."""
    now = utcnow()
    next_slots = next_free_slots(
        results.items,
        now=now,
        settings=services.get_booking_settings(),
        count=NEXT_TIMES,
        versions=services.schedule_versions([doctor.id for doctor in results.items]),
    )
    locale = str(get_locale())
    cards = render_cards(
        card_for(doctor, next_slots[doctor.id], now=now, locale=locale) for doctor in results.items
    )
    response = render_partial(
        page_template, "booking/_results.html", results=results, cards=cards, **context
    )
    if is_htmx():
        count = render_template("booking/_result_count.html", results=results, oob=True)
        response.set_data(response.get_data(as_text=True) + count)
    return response


# The public directory -----------------------------------------------------------------
# Each list is kept under the directory's version, read first in the request, with
# whatever else fixes it (the filters, the page, the language).


def _filter_choices(locale):
    departments = directory.list_departments()
    clinics = directory.clinic_choices()
    return (
        tuple((item.id, item.translated("name", locale)) for item in departments),
        tuple((clinic_id, f"{name} ({city})") for clinic_id, name, city in clinics),
        # The clinics come ordered by city: each city once, in that order.
        tuple(dict.fromkeys(city for _id, _name, city in clinics)),
    )


@bp.get("/find")
def find():
    version = directory.directory_version()
    locale = str(get_locale())
    departments, clinics, cities = kept_list(
        ("choices", version, locale), lambda: _filter_choices(locale)
    )
    form = FindDoctorForm(request.args)
    form.department.choices = [
        SelectChoice("", _("Any department")),
        *(SelectChoice(str(key), name) for key, name in departments),
    ]
    form.clinic.choices = [
        SelectChoice("", _("Any clinic")),
        *(SelectChoice(str(key), name) for key, name in clinics),
    ]
    form.city.choices = [
        SelectChoice("", _("Any city")),
        *(SelectChoice(city, city) for city in cities),
    ]
    filters = {
        "department_id": _chosen_id(form.department.data, {key for key, _name in departments}),
        "clinic_id": _chosen_id(form.clinic.data, {key for key, _name in clinics}),
        "city": form.city.data if form.city.data in cities else None,
        "q": (form.q.data or "")[:Q_MAX],
        "page": _page_number(),
    }
    results = kept_list(
        ("find", version, locale, *sorted(filters.items())),
        lambda: _listed_page(locale, **filters),
    )
    # The filters' HTML is fixed by the choices and the values asked: kept with them.
    asked = tuple(request.args.get(name, "") for name in ("department", "clinic", "city", "q"))
    return _doctor_results(
        "booking/find.html",
        results,
        filters=lambda: kept_list(
            ("filters", version, locale, *asked),
            lambda: get_template_attribute("booking/_find_filters.html", "filters")(form),
        ),
    )


@bp.get("/departments/<int:department_id>")
def department(department_id):
    version = directory.directory_version()
    record = directory.get_department(department_id)
    locale, page = str(get_locale()), _page_number()
    results = kept_list(
        ("department", version, locale, record.id, page),
        lambda: _listed_page(locale, department_id=record.id, page=page),
    )
    return _doctor_results("booking/department.html", results, department=record)


@bp.get("/clinics/<int:clinic_id>")
def clinic(clinic_id):
    version = directory.directory_version()
    record = directory.get_clinic(clinic_id)
    locale, page = str(get_locale()), _page_number()
    results = kept_list(
        ("clinic", version, locale, record.id, page),
        lambda: _listed_page(locale, clinic_id=record.id, page=page),
    )
    return _doctor_results("booking/clinic.html", results, clinic=record)


# The doctor page and its slot picker ------------------------------------------------


@bp.get("/doctors/<int:doctor_id>")
def doctor(doctor_id):
    read_only(db.session)
    profile = services.bookable_doctor(doctor_id)
    day = query_date("day")
    strip_start = query_date("from")
    picker = build_picker(
        profile,
        day=day,
        strip_start=strip_start,
        version=profile.schedule_version,
        focus=day is not None or strip_start is not None,
    )
    return render_template("booking/doctor.html", doctor=profile, picker=picker)


@bp.get("/doctors/<int:doctor_id>/slots")
def slots(doctor_id):
    if not is_htmx():
        return doctor(doctor_id)
    # The busiest page of the portal: one query for the doctor's schedule version and
    # the rules; a worker that computed the strip's free slots (booking.availability) or
    # rendered the partial (booking.picker) under the same version reuses them, and a
    # client holding the same answer gets 304.
    read_only(db.session)
    source = services.slot_source(doctor_id)
    partial = DaySlots(
        source,
        day=query_date("day"),
        strip_start=query_date("from"),
    )
    if revalidation.unchanged(partial.etag):
        return revalidation.not_modified(partial.etag, DAY_SLOTS_VARY)
    return revalidation.tagged(partial_response(partial.html()), partial.etag, DAY_SLOTS_VARY)


@bp.get("/doctors/<int:doctor_id>/book")
def confirm(doctor_id):
    profile = services.bookable_doctor(doctor_id)
    start = _parse_start(request.args.get("start"))
    if start is None:
        return redirect(url_for("booking.doctor", doctor_id=doctor_id))
    if not current_user.is_authenticated:
        # The chosen time survives signing in or creating an account: both come back here.
        flash(
            _(
                "Sign in or create an account to book %(when)s with %(doctor)s. "
                "You will come back to this time.",
                when=format_local(start, profile.timezone, relative=True),
                doctor=profile.user.full_name,
            ),
            "info",
        )
        target = url_for("auth.login", next=request.full_path.rstrip("?"))
        return hx_redirect(target) if is_htmx() else redirect(target)
    require_role(current_user, Role.PATIENT)
    form = BookForm(start=start.isoformat(), reason=request.args.get("reason", "")[:500])
    return render_partial(
        "booking/confirm.html",
        "booking/_confirm.html",
        doctor=profile,
        form=form,
        start=start,
        picker=None,
        notes=_before_confirming(profile, start),
    )


@dataclass(frozen=True)
class BeforeConfirming:
    """What the patient is told before confirming a time."""

    cutoff_hours: int
    cancel_until: datetime
    cutoff_passed: bool
    overlaps: list


def _before_confirming(doctor, start, ignore_appointment_id=None):
    hours = services.get_booking_settings().cancel_cutoff_hours
    cancel_until = start - timedelta(hours=hours)
    return BeforeConfirming(
        cutoff_hours=hours,
        cancel_until=cancel_until,
        cutoff_passed=utcnow() > cancel_until,
        overlaps=services.overlapping_visits(
            actor=current_user,
            start=start,
            end=start + timedelta(minutes=doctor.slot_minutes),
            ignore_appointment_id=ignore_appointment_id,
        ),
    )


@bp.post("/doctors/<int:doctor_id>/book")
@login_required
def book(doctor_id):
    require_role(current_user, Role.PATIENT)
    form = BookForm()
    start = _parse_start(form.start.data)
    if not form.validate_on_submit() or start is None:
        if start is None:
            form.form_errors.append(_("Choose a time from the list."))
        return render_partial(
            "booking/confirm.html",
            "booking/_confirm.html",
            status=422,
            doctor=services.bookable_doctor(doctor_id),
            form=form,
            start=start,
            picker=None,
            notes=None,
        )
    refusals = (SlotUnavailable, OverlappingVisit, BookingLimitReached, EmailNotVerified)
    with errors_on(form, *refusals, ValidationFailed) as outcome:
        # The service reads the doctor under its lock, with all the answer shows.
        appointment = services.book(
            actor=current_user,
            patient=services.patient_of(current_user),
            doctor_id=doctor_id,
            start=start,
            reason=form.reason.data,
            now=utcnow(),
        )
        if is_htmx():
            profile = appointment.doctor
            picker = build_picker(profile, day=_local_day(profile, start))
            return _with_fresh_picker(
                "booking/_confirmation.html", picker, 200, appointment=appointment
            )
        flash(_("Your appointment is booked."), "success")
        return redirect(url_for("booking.appointment", appointment_id=appointment.id), 303)
    profile = services.bookable_doctor(doctor_id)
    status = outcome.error.status if isinstance(outcome.error, refusals) else 422
    if status == 403 and is_htmx():
        status = 409  # htmx swaps a 409 into the panel; a 403 it would drop
    picker = build_picker(profile, day=_local_day(profile, start))
    if is_htmx():
        return _with_fresh_picker(
            "booking/_confirm.html",
            picker,
            status,
            doctor=profile,
            form=form,
            start=start,
            notes=None,
        )
    return render_template(
        "booking/confirm.html", doctor=profile, form=form, start=start, picker=picker, notes=None
    ), status


def _local_day(doctor, instant):
    return instant.astimezone(ZoneInfo(doctor.timezone)).date()


def _with_fresh_picker(template, picker, status, **context):
    """The panel, plus the slot picker swapped out-of-band so it shows what is free now."""
    body = render_template(template, picker=picker, **context) + render_template(
        "booking/_slot_picker.html", picker=picker, oob=True
    )
    return body, status


# My appointments --------------------------------------------------------------------


@bp.get("/appointments")
@login_required
def my_appointments():
    past = request.args.get("past") == "1"
    now = utcnow()
    page = services.patient_appointments(
        actor=current_user, now=now, past=past, page=request.args.get("page", 1, type=int)
    )
    cutoff = timedelta(hours=services.get_booking_settings().cancel_cutoff_hours)
    return render_template(
        "booking/appointments.html",
        page=page,
        past=past,
        now=now,
        cutoff=cutoff,
        cancel_form=CancelForm(),
    )


@bp.get("/appointments/<int:appointment_id>")
@login_required
def appointment(appointment_id):
    record = services.get_appointment(actor=current_user, appointment_id=appointment_id)
    cutoff = timedelta(hours=services.get_booking_settings().cancel_cutoff_hours)
    return render_template(
        "booking/appointment.html",
        appointment=record,
        now=utcnow(),
        cutoff=cutoff,
        cancel_form=CancelForm(),
    )


@bp.get("/appointments/<int:appointment_id>/ics")
@login_required
def ics(appointment_id):
    record = services.get_appointment(actor=current_user, appointment_id=appointment_id)
    summary = _("Appointment with %(doctor)s", doctor=record.doctor.user.full_name)
    response = make_response(appointment_ics(record, now=utcnow(), summary=summary))
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="appointment-{record.id}.ics"'
    return response


@bp.post("/appointments/<int:appointment_id>/cancel")
@login_required
def cancel(appointment_id):
    require_role(current_user, Role.PATIENT)
    form = CancelForm()
    now = utcnow()
    record = services.get_appointment(actor=current_user, appointment_id=appointment_id)
    status = 200
    if form.validate_on_submit():
        with errors_on(form, TooLateToCancel, NotChangeable, ValidationFailed) as outcome:
            services.cancel(
                actor=current_user, appointment=record, reason=form.reason.data, now=now
            )
            if not is_htmx():
                flash(_("Your appointment is cancelled."), "success")
                return redirect(url_for("booking.my_appointments"), 303)
        if outcome.error is not None:
            status = outcome.error.status if outcome.error.status != 400 else 422
    else:
        status = 422
    if not is_htmx():
        flash(
            " ".join(str(message) for message in form.form_errors)
            or _("The appointment could not be cancelled."),
            "error",
        )
        return redirect(url_for("booking.my_appointments"), 303)
    cutoff = timedelta(hours=services.get_booking_settings().cancel_cutoff_hours)
    return render_template(
        "booking/_appointment.html",
        appointment=record,
        now=now,
        cutoff=cutoff,
        cancel_form=form,
        focus=True,  # the outcome takes the focus and is announced
    ), status


@bp.get("/appointments/<int:appointment_id>/reschedule")
@login_required
def reschedule_page(appointment_id):
    require_role(current_user, Role.PATIENT)
    record = _movable(appointment_id)
    start = _parse_start(request.args.get("start"))
    day = query_date("day")
    strip_start = query_date("from")
    if start is not None:
        day = _local_day(record.doctor, start)
    picker = build_picker(
        record.doctor,
        day=day,
        strip_start=strip_start,
        reschedule=record,
        focus=start is None and (day is not None or strip_start is not None),
    )
    context = {
        "appointment": record,
        "doctor": record.doctor,
        "picker": picker,
        "form": RescheduleForm(),
        "start": start,
        "notes": start and _before_confirming(record.doctor, start, record.id),
    }
    if start is not None:
        return render_partial("booking/reschedule.html", "booking/_move.html", **context)
    return render_partial("booking/reschedule.html", "booking/_slot_picker.html", **context)


@bp.post("/appointments/<int:appointment_id>/reschedule")
@login_required
def reschedule(appointment_id):
    require_role(current_user, Role.PATIENT)
    form = RescheduleForm()
    start = _parse_start(form.start.data)
    record = _movable(appointment_id)
    error = None
    if not form.validate_on_submit() or start is None:
        error, status = _("Choose a time from the list."), 422
    else:
        with refused(SlotUnavailable, OverlappingVisit, TooLateToCancel, NotChangeable) as outcome:
            services.reschedule(actor=current_user, appointment=record, start=start, now=utcnow())
            flash(_("Your appointment is moved."), "success")
            return hx_redirect(url_for("booking.my_appointments"))
        error, status = str(outcome.error.message), outcome.error.status
    record = _movable(appointment_id)
    day = start.astimezone(ZoneInfo(record.clinic.timezone)).date() if start else None
    picker = build_picker(record.doctor, day=day, reschedule=record)
    context = {
        "appointment": record,
        "doctor": record.doctor,
        "picker": picker,
        "form": form,
        "error": error,
        "start": None,
    }
    if is_htmx():
        # The picker with the reason, and the moving panel closed.
        body = render_template("booking/_slot_picker.html", **context) + render_template(
            "booking/_empty_panel.html", oob=True
        )
        return body, status
    return render_template("booking/reschedule.html", **context), status


def _movable(appointment_id):
    record = services.get_appointment(actor=current_user, appointment_id=appointment_id)
    if record.status != Status.CONFIRMED:
        raise NotFound()
    return record
