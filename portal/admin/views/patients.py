"""Patients: search, add with an activation link, edit, and their care team."""

from flask import flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin import services
from portal.admin.forms import (
    AssignDoctorForm,
    PatientForm,
)
from portal.admin.views.common import (
    activation_link,
    bp,
    check_action,
    no_store,
    page_number,
)
from portal.booking import services as booking
from portal.booking.forms import CancelForm
from portal.care import services as care
from portal.care.views import data_download, data_page
from portal.db import utcnow
from portal.directory import services as directory
from portal.directory.models import BLOOD_GROUPS
from portal.errors import NotFound
from portal.htmx import hx_redirect, is_htmx, render_partial
from portal.web import errors_on


@bp.get("/patients")
def patients():
    q = request.args.get("q", "").strip()
    page = care.list_patients(
        actor=current_user, q=q, page=page_number(), per_page=services.ADMIN_PAGE_SIZE
    )
    return render_template("admin/patients.html", page=page, q=q)


def _patient_form(patient=None):
    form = PatientForm(formdata=request.form if request.method == "POST" else None)
    if patient is not None and request.method != "POST":
        form.fill(patient)
    form.blood_group.choices = [("", _("Unknown"))] + [(group, group) for group in BLOOD_GROUPS]
    return form


@bp.route("/patients/new", methods=["GET", "POST"])
def new_patient():
    form = _patient_form()
    if form.validate_on_submit():
        now = utcnow()
        with errors_on(form):
            patient, token = directory.create_patient(
                actor=current_user,
                email=form.email.data,
                full_name=form.full_name.data,
                now=now,
                **form.values(),
            )
            if token is None:  # no email: no link, and no sign-in until one is added
                flash(
                    _(
                        "The record of %(name)s is created. Without an email they cannot "
                        "sign in until one is added here.",
                        name=patient.full_name,
                    ),
                    "success",
                )
                return hx_redirect(url_for(".patient", patient_id=patient.id))
            body = render_template(
                "admin/activation_link.html",
                person=patient.user,
                kind="patient",
                link=activation_link(token, now),
                back=url_for(".patient", patient_id=patient.id),
            )
            return no_store(body)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/patient_new.html", form=form), status


def _care_context(patient, assign_form=None):
    upcoming, past = booking.patient_visits(actor=current_user, patient=patient, now=utcnow())
    doctor_q = request.args.get("doctor_q", "").strip()
    choices = services.doctor_choices(actor=current_user, q=doctor_q)
    assign_form = assign_form or AssignDoctorForm(formdata=None)
    assign_form.doctor_id.choices = [("", _("Choose a doctor"))] + [
        (doctor_id, f"{name} ({licence})") for doctor_id, name, licence, _active in choices
    ]
    return {
        "patient": patient,
        "care_doctors": care.doctors_of(patient),
        "assign_form": assign_form,
        "doctor_q": doctor_q,
        "choices_limited": len(choices) >= services.CHOICES_LIMIT,
        "upcoming": upcoming,
        "past": past,
        "cancel_form": CancelForm(formdata=None),
    }


@bp.route("/patients/<int:patient_id>", methods=["GET", "POST"])
def patient(patient_id):
    # Opening the record is a read of its medical fields, audited; saving it is a change.
    read = services.open_patient if request.method == "GET" else services.patient
    item = read(actor=current_user, patient_id=patient_id)
    form = _patient_form(item)
    if form.validate_on_submit():
        with errors_on(form):
            before = item.user.email
            # The email is changed only when the form sent it (the record's form does).
            email = {"email": form.email.data} if "email" in request.form else {}
            directory.update_patient(
                actor=current_user,
                patient=item,
                now=utcnow(),
                full_name=form.full_name.data,
                **email,
                **form.values(),
            )
            flash(_("The record of %(name)s is saved.", name=item.full_name), "success")
            if (
                item.user.email != before
                and item.user.password_hash is None
                and item.user.is_active
            ):
                # update_patient sent a new one-time link to the new address.
                flash(
                    _(
                        "A one-time link to set a password is on its way to %(email)s.",
                        email=item.user.email,
                    ),
                    "success",
                )
            return hx_redirect(url_for(".patient", patient_id=item.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/patient.html", form=form, **_care_context(item)), status


def _care_response(patient, status=200, assign_form=None):
    if not is_htmx() and status == 200:
        return hx_redirect(url_for(".patient", patient_id=patient.id, _anchor="care-team"))
    context = _care_context(patient, assign_form)
    if is_htmx():
        return render_partial(
            "admin/patient.html", "admin/_care.html", status, flashes=True, **context
        )
    return render_template("admin/patient.html", form=_patient_form(patient), **context), status


@bp.post("/patients/<int:patient_id>/doctors")
def assign_doctor(patient_id):
    item = services.patient(actor=current_user, patient_id=patient_id)
    form = AssignDoctorForm()
    form.doctor_id.choices = []
    if form.validate_on_submit() and form.doctor_id.data:
        try:
            doctor = directory.get_doctor(form.doctor_id.data)
        except NotFound:
            doctor = None  # unknown or inactive: a form error, not a missing page
        if doctor is not None:
            directory.assign_patient(actor=current_user, doctor=doctor, patient=item)
            flash(
                _(
                    "%(patient)s is in the care of %(doctor)s.",
                    patient=item.full_name,
                    doctor=doctor.full_name,
                ),
                "success",
            )
            return _care_response(item)
    form.doctor_id.errors = [*form.doctor_id.errors, _("Choose a doctor from the list.")]
    return _care_response(item, 422, assign_form=form)


@bp.post("/patients/<int:patient_id>/doctors/<int:doctor_id>/remove")
def unassign_doctor(patient_id, doctor_id):
    item = services.patient(actor=current_user, patient_id=patient_id)
    doctor = services.doctor(actor=current_user, doctor_id=doctor_id)
    check_action()
    directory.unassign_patient(actor=current_user, doctor=doctor, patient=item)
    flash(
        _(
            "%(patient)s is no longer in the care of %(doctor)s.",
            patient=item.full_name,
            doctor=doctor.full_name,
        ),
        "success",
    )
    return _care_response(item)


@bp.get("/patients/<int:patient_id>/data")
def patient_data(patient_id):
    data = care.export_patient_data(actor=current_user, patient_id=patient_id)
    return data_page(
        data,
        json_url=url_for(".patient_data_json", patient_id=patient_id),
        back_url=url_for(".patient", patient_id=patient_id),
    )


@bp.get("/patients/<int:patient_id>/data.json")
def patient_data_json(patient_id):
    data = care.export_patient_data(actor=current_user, patient_id=patient_id)
    return data_download(data, filename=f"patient-{patient_id}.json")


@bp.post("/patients/<int:patient_id>/close")
def close_patient(patient_id):
    check_action()
    care.close_patient_account(actor=current_user, patient_id=patient_id, now=utcnow())
    flash(_("The account is closed and the patient's personal details are erased."), "success")
    return hx_redirect(url_for(".patient", patient_id=patient_id))
