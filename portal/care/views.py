"""The patient's own profile, and a doctor's patients."""

import json

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from portal.auth.models import Role
from portal.auth.services import require_role, set_reminders
from portal.booking import services as booking
from portal.care import services
from portal.care.forms import CloseAccountForm, PatientSearchForm, ProfileForm, RemindersForm
from portal.db import utcnow
from portal.directory import services as directory
from portal.htmx import render_partial
from portal.web import errors_on

bp = Blueprint("care", __name__)


@bp.after_request
def _no_store(response):
    # Every page here shows personal and medical data: no cache keeps a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


PER_PAGE = 20
Q_MAX = 100
PROFILE_FIELDS = ("phone", "date_of_birth", "blood_group", "allergies", "emergency_contact")


def _page_number():
    return request.args.get("page", 1, type=int)


# The patient's own profile ------------------------------------------------------------


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    if request.method == "GET":
        patient = services.open_profile(actor=current_user)
    else:
        patient = directory.patient_for_user(current_user)
    form = ProfileForm(obj=patient)
    if form.validate_on_submit():
        with errors_on(form):
            directory.update_patient(
                actor=current_user,
                patient=patient,
                now=utcnow(),
                **{name: getattr(form, name).data for name in PROFILE_FIELDS},
            )
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("care.profile"), 303)
    status = 422 if request.method == "POST" else 200
    doctors = services.doctors_of(patient)
    reminders = RemindersForm(formdata=None, notify_reminders=current_user.notify_reminders)
    return render_template(
        "care/profile.html", form=form, doctors=doctors, reminders=reminders
    ), status


@bp.post("/profile/reminders")
@login_required
def profile_reminders():
    directory.patient_for_user(current_user)  # patients only
    form = RemindersForm()
    if form.validate_on_submit():
        set_reminders(user=current_user, on=form.notify_reminders.data)
        if form.notify_reminders.data:
            flash(_("You will get a reminder before each visit."), "success")
        else:
            flash(_("Reminders are off. You still get confirmations and changes."), "success")
    return redirect(url_for("care.profile"), 303)


# The patient's data: download and account closing -------------------------------------


def data_page(data, *, json_url, back_url, close_url=None):
    """The readable page of a patient's data (their own, or an admin's on their behalf)."""
    return render_template(
        "care/data.html",
        data=data,
        json_url=json_url,
        back_url=back_url,
        close_url=close_url,
    )


def data_download(data, filename="my-data.json"):
    """The patient's data as a JSON file to keep."""
    body = json.dumps(services.export_document(data), ensure_ascii=False, indent=2)
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/profile/data")
@login_required
def my_data():
    data = services.export_patient_data(actor=current_user)
    return data_page(
        data,
        json_url=url_for("care.my_data_json"),
        back_url=url_for("care.profile"),
        close_url=url_for("care.close_account"),
    )


@bp.get("/profile/data.json")
@login_required
def my_data_json():
    return data_download(services.export_patient_data(actor=current_user))


@bp.route("/profile/close", methods=["GET", "POST"])
@login_required
def close_account():
    require_role(current_user, Role.PATIENT)
    form = CloseAccountForm()
    if form.validate_on_submit():
        with errors_on(form):
            services.close_patient_account(
                actor=current_user, password=form.password.data, now=utcnow()
            )
            logout_user()
            flash(_("Your account is closed and your personal details are erased."), "success")
            return redirect(url_for("home.index"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("care/close.html", form=form), status


# The doctor's patients ----------------------------------------------------------------


@bp.get("/my-patients")
@login_required
def my_patients():
    require_role(current_user, Role.DOCTOR)
    form = PatientSearchForm(request.args)
    patients = services.list_patients(
        actor=current_user, q=(form.q.data or "")[:Q_MAX], page=_page_number(), per_page=PER_PAGE
    )
    return render_partial(
        "care/my_patients.html", "care/_patients.html", form=form, patients=patients
    )


@bp.get("/my-patients/<int:patient_id>")
@login_required
def my_patient(patient_id):
    require_role(current_user, Role.DOCTOR)
    record = services.open_record(actor=current_user, patient_id=patient_id)
    appointments = booking.list_appointments(
        actor=current_user, patient_id=record.id, page=_page_number(), per_page=PER_PAGE
    )
    return render_partial(
        "care/patient.html",
        "care/_patient_appointments.html",
        patient=record,
        appointments=appointments,
    )
