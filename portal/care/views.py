"""The patient's own profile, and a doctor's patients."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.auth.models import Role
from portal.auth.services import require_role, set_reminders
from portal.booking import services as booking
from portal.care import services
from portal.care.forms import PatientSearchForm, ProfileForm, RemindersForm
from portal.db import utcnow
from portal.directory import services as directory
from portal.htmx import render_partial
from portal.web import errors_on

bp = Blueprint("care", __name__)

PER_PAGE = 20
Q_MAX = 100
PROFILE_FIELDS = ("phone", "date_of_birth", "blood_group", "allergies", "emergency_contact")


def _page_number():
    return request.args.get("page", 1, type=int)


# The patient's own profile ------------------------------------------------------------


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
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
    record = services.get_patient(actor=current_user, patient_id=patient_id)
    appointments = booking.list_appointments(
        actor=current_user, patient_id=record.id, page=_page_number(), per_page=PER_PAGE
    )
    return render_partial(
        "care/patient.html",
        "care/_patient_appointments.html",
        patient=record,
        appointments=appointments,
    )
