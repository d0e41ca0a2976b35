"""Doctors: search, onboard with an activation link, edit, deactivate."""

from flask import flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal.admin import services
from portal.admin.forms import (
    DeactivateDoctorForm,
    DoctorForm,
)
from portal.admin.views.common import (
    activation_link,
    bp,
    no_store,
    page_number,
)
from portal.booking import services as booking
from portal.db import utcnow
from portal.directory import services as directory
from portal.htmx import hx_redirect
from portal.web import errors_on


@bp.get("/doctors")
def doctors():
    q = request.args.get("q", "").strip()
    page = directory.list_doctors(
        actor=current_user, q=q, page=page_number(), per_page=services.ADMIN_PAGE_SIZE
    )
    return render_template("admin/doctors.html", page=page, q=q)


def _doctor_form(doctor=None):
    form = DoctorForm(formdata=request.form if request.method == "POST" else None)
    if doctor is not None and request.method != "POST":
        form.fill(doctor)
    clinics = services.clinic_choices(actor=current_user)
    form.clinic_id.choices = [("", _("Choose a clinic"))] + [
        (clinic_id, f"{name} ({city})") for clinic_id, name, city in clinics
    ]
    if doctor is not None and doctor.clinic_id not in {row[0] for row in clinics}:
        form.clinic_id.choices.append((doctor.clinic_id, doctor.clinic.name))
    form.department_ids.choices = [
        (item.id, item.name) for item in services.department_choices(actor=current_user)
    ]
    return form


def _doctor_form_page(form, doctor=None, status=200):
    return render_template("admin/doctor_form.html", form=form, doctor=doctor), status


@bp.route("/doctors/new", methods=["GET", "POST"])
def onboard_doctor():
    form = _doctor_form()
    if form.validate_on_submit():
        now = utcnow()
        with errors_on(form):
            doctor, token = directory.onboard_doctor(
                actor=current_user,
                email=form.email.data,
                full_name=form.full_name.data,
                now=now,
                **form.profile(),
            )
            body = render_template(
                "admin/activation_link.html",
                person=doctor.user,
                kind="doctor",
                link=activation_link(token, now),
                back=url_for(".doctors"),
            )
            return no_store(body)
    return _doctor_form_page(form, status=422 if request.method == "POST" else 200)


@bp.route("/doctors/<int:doctor_id>/edit", methods=["GET", "POST"])
def edit_doctor(doctor_id):
    doctor = services.doctor(actor=current_user, doctor_id=doctor_id)
    form = _doctor_form(doctor)
    if form.validate_on_submit():
        with errors_on(form):
            directory.update_doctor(
                actor=current_user,
                doctor=doctor,
                email=form.email.data,
                full_name=form.full_name.data,
                **form.profile(),
            )
            flash(_("The profile of %(name)s is saved.", name=doctor.full_name), "success")
            return hx_redirect(url_for(".doctors"))
    return _doctor_form_page(form, doctor, status=422 if request.method == "POST" else 200)


@bp.route("/doctors/<int:doctor_id>/deactivate", methods=["GET", "POST"])
def deactivate_doctor(doctor_id):
    doctor = services.doctor(actor=current_user, doctor_id=doctor_id)
    form = DeactivateDoctorForm()
    if doctor.is_active and form.validate_on_submit():
        cancelled = booking.deactivate_doctor(
            actor=current_user, doctor=doctor, reason=form.reason.data, now=utcnow()
        )
        flash(
            ngettext(
                "%(name)s is deactivated; %(num)d future appointment was cancelled.",
                "%(name)s is deactivated; %(num)d future appointments were cancelled.",
                cancelled,
                name=doctor.full_name,
            ),
            "success",
        )
        return hx_redirect(url_for(".doctors"))
    upcoming = services.future_appointments(actor=current_user, doctor=doctor, now=utcnow())
    status = 422 if request.method == "POST" else 200
    return render_template(
        "admin/doctor_deactivate.html", doctor=doctor, form=form, upcoming=upcoming
    ), status
