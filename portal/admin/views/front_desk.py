"""The front desk: staff book, move and cancel visits on a patient's behalf, from the
patient's record or from a doctor's free times, with the patients' own picker and rules
(the cancellation cutoff does not bind staff), and record a phone or walk-in patient in
the same flow."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin import services
from portal.admin.forms import WalkInForm
from portal.admin.views.common import bp
from portal.booking import services as booking
from portal.booking.errors import NotChangeable, SlotUnavailable
from portal.booking.forms import BookForm, CancelForm, RescheduleForm
from portal.booking.models import Status
from portal.booking.picker import build_picker
from portal.care import services as care
from portal.db import utcnow
from portal.directory import services as directory
from portal.errors import NotFound, ValidationFailed
from portal.htmx import hx_redirect, render_partial
from portal.web import errors_on, query_date, refused


def _parse_start(value):
    try:
        start = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return start if start.tzinfo is not None else None


def _local_day(doctor, instant):
    return instant.astimezone(ZoneInfo(doctor.timezone)).date() if instant else None


# From the patient's record ------------------------------------------------------------


@bp.get("/patients/<int:patient_id>/book")
def book_for_patient(patient_id):
    patient = services.patient(actor=current_user, patient_id=patient_id)
    q = request.args.get("q", "").strip()[:100]
    doctors = services.doctor_choices(actor=current_user, q=q)
    return render_template("admin/book_choose_doctor.html", patient=patient, doctors=doctors, q=q)


def _patient_picker(patient, doctor, day=None):
    return build_picker(
        doctor,
        day=day,
        strip_start=query_date("from"),
        urls=(
            url_for(".book_with_doctor", patient_id=patient.id, doctor_id=doctor.id),
            url_for(".confirm_for_patient", patient_id=patient.id, doctor_id=doctor.id),
        ),
    )


@bp.get("/patients/<int:patient_id>/book/<int:doctor_id>")
def book_with_doctor(patient_id, doctor_id):
    patient = services.patient(actor=current_user, patient_id=patient_id)
    doctor = booking.bookable_doctor(doctor_id)
    picker = _patient_picker(patient, doctor, query_date("day"))
    return render_partial(
        "admin/book_for_patient.html",
        "booking/_slot_picker.html",
        patient=patient,
        doctor=doctor,
        picker=picker,
    )


def _confirm_panel(patient, doctor, form, start, status=200, error=None):
    return render_partial(
        "admin/book_for_patient.html",
        "admin/_book_panel.html",
        status,
        patient=patient,
        doctor=doctor,
        form=form,
        start=start,
        error=error,
        picker=_patient_picker(patient, doctor, _local_day(doctor, start)),
    )


@bp.route("/patients/<int:patient_id>/book/<int:doctor_id>/confirm", methods=["GET", "POST"])
def confirm_for_patient(patient_id, doctor_id):
    patient = services.patient(actor=current_user, patient_id=patient_id)
    doctor = booking.bookable_doctor(doctor_id)
    if request.method == "GET":
        start = _parse_start(request.args.get("start"))
        form = BookForm(formdata=None, start=start.isoformat() if start else "")
        return _confirm_panel(patient, doctor, form, start)
    form = BookForm()
    start = _parse_start(form.start.data)
    if not form.validate_on_submit() or start is None:
        form.form_errors.append(_("Choose a time from the list."))
        return _confirm_panel(patient, doctor, form, start, 422)
    with errors_on(form, SlotUnavailable, ValidationFailed) as outcome:
        appointment = booking.book(
            actor=current_user,
            patient=patient,
            doctor_id=doctor.id,
            start=start,
            reason=form.reason.data,
            now=utcnow(),
        )
        flash(
            _(
                "%(patient)s is booked with %(doctor)s.",
                patient=patient.full_name,
                doctor=appointment.doctor.user.full_name,
            ),
            "success",
        )
        return hx_redirect(url_for(".patient", patient_id=patient.id, _anchor="visits"))
    status = 409 if isinstance(outcome.error, SlotUnavailable) else 422
    return _confirm_panel(patient, booking.bookable_doctor(doctor_id), form, start, status)


# From a doctor's free times -----------------------------------------------------------


def _doctor_picker(doctor, day=None):
    return build_picker(
        doctor,
        day=day,
        strip_start=query_date("from"),
        urls=(
            url_for(".book_at_doctor", doctor_id=doctor.id),
            url_for(".choose_patient", doctor_id=doctor.id),
        ),
    )


@bp.get("/doctors/<int:doctor_id>/book")
def book_at_doctor(doctor_id):
    doctor = booking.bookable_doctor(doctor_id)
    return render_partial(
        "admin/book_at_doctor.html",
        "booking/_slot_picker.html",
        doctor=doctor,
        picker=_doctor_picker(doctor, query_date("day")),
    )


def _choose_patient_page(doctor, start, walk_in, status=200):
    q = request.args.get("q", "").strip()[:100]
    found = care.list_patients(actor=current_user, q=q, page=1, per_page=10).items if q else []
    return render_partial(
        "admin/book_at_doctor.html",
        "admin/_choose_patient.html",
        status,
        doctor=doctor,
        start=start,
        q=q,
        found=found,
        walk_in=walk_in,
        book_form=BookForm(formdata=None, start=start.isoformat() if start else ""),
        picker=_doctor_picker(doctor, _local_day(doctor, start)),
    )


@bp.get("/doctors/<int:doctor_id>/book/patient")
def choose_patient(doctor_id):
    doctor = booking.bookable_doctor(doctor_id)
    start = _parse_start(request.args.get("start"))
    walk_in = WalkInForm(formdata=None, start=start.isoformat() if start else "")
    return _choose_patient_page(doctor, start, walk_in)


@bp.post("/doctors/<int:doctor_id>/book/walk-in")
def book_walk_in(doctor_id):
    doctor = booking.bookable_doctor(doctor_id)
    form = WalkInForm()
    start = _parse_start(form.start.data)
    if not form.validate_on_submit() or start is None:
        form.form_errors.append(_("Choose a time from the list."))
        return _choose_patient_page(doctor, start, form, 422)
    now = utcnow()
    with errors_on(form, SlotUnavailable, ValidationFailed) as outcome:
        patient, _token = directory.create_walk_in_patient(
            actor=current_user,
            full_name=form.full_name.data,
            phone=form.phone.data,
            email=form.email.data,
            now=now,
        )
        booking.book(
            actor=current_user,
            patient=patient,
            doctor_id=doctor.id,
            start=start,
            reason=form.reason.data,
            now=now,
        )
        flash(
            _(
                "%(patient)s is recorded and booked with %(doctor)s.",
                patient=patient.full_name,
                doctor=doctor.user.full_name,
            ),
            "success",
        )
        return hx_redirect(url_for(".patient", patient_id=patient.id, _anchor="visits"))
    status = 409 if isinstance(outcome.error, SlotUnavailable) else 422
    return _choose_patient_page(booking.bookable_doctor(doctor_id), start, form, status)


# One visit, moving and cancelling -----------------------------------------------------


@bp.get("/appointments/<int:appointment_id>")
def appointment(appointment_id):
    record = booking.get_appointment(actor=current_user, appointment_id=appointment_id)
    return render_template(
        "admin/appointment.html",
        appointment=record,
        now=utcnow(),
        cancel_form=CancelForm(formdata=None),
    )


# Moving and cancelling ----------------------------------------------------------------


def _staff_movable(appointment_id):
    record = booking.get_appointment(actor=current_user, appointment_id=appointment_id)
    if record.status != Status.CONFIRMED:
        raise NotFound()
    return record


def _move_picker(record, day=None):
    return build_picker(
        record.doctor,
        day=day,
        strip_start=query_date("from"),
        reschedule=record,
        urls=(
            url_for(".move_appointment", appointment_id=record.id),
            url_for(".move_appointment", appointment_id=record.id),
        ),
    )


@bp.route("/appointments/<int:appointment_id>/move", methods=["GET", "POST"])
def move_appointment(appointment_id):
    record = _staff_movable(appointment_id)
    status, error = 200, None
    if request.method == "POST":
        form = RescheduleForm()
        start = _parse_start(form.start.data)
        if not form.validate_on_submit() or start is None:
            error, status = _("Choose a time from the list."), 422
        else:
            with refused(SlotUnavailable, NotChangeable) as outcome:
                booking.reschedule(
                    actor=current_user, appointment=record, start=start, now=utcnow()
                )
                flash(_("The appointment is moved."), "success")
                return hx_redirect(
                    url_for(".patient", patient_id=record.patient_id, _anchor="visits")
                )
            error, status = str(outcome.error.message), outcome.error.status
            record = _staff_movable(appointment_id)
        picker = _move_picker(record, _local_day(record.doctor, start))
        start = None
    else:
        # A chosen time (`start`) opens the question "Move from ... to ...?" first.
        start = _parse_start(request.args.get("start"))
        day = _local_day(record.doctor, start) if start else query_date("day")
        picker = _move_picker(record, day)
    return render_partial(
        "admin/move_appointment.html",
        "booking/_move.html" if start else "booking/_slot_picker.html",
        status,
        appointment=record,
        doctor=record.doctor,
        picker=picker,
        error=error,
        start=start,
        move_url=url_for(".move_appointment", appointment_id=record.id),
    )


@bp.post("/appointments/<int:appointment_id>/cancel")
def cancel_appointment(appointment_id):
    record = booking.get_appointment(actor=current_user, appointment_id=appointment_id)
    form = CancelForm()
    if form.validate_on_submit():
        with refused(NotChangeable, ValidationFailed) as outcome:
            booking.cancel(
                actor=current_user, appointment=record, reason=form.reason.data, now=utcnow()
            )
            flash(_("The appointment is cancelled."), "success")
            return hx_redirect(url_for(".patient", patient_id=record.patient_id, _anchor="visits"))
        flash(str(outcome.error.message), "error")
    else:
        flash(_("The appointment could not be cancelled."), "error")
    return hx_redirect(url_for(".patient", patient_id=record.patient_id, _anchor="visits"))
