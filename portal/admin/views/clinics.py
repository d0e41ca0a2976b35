"""Clinics: list, add, edit, deactivate and reactivate."""

from zoneinfo import ZoneInfo

from flask import flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin import services
from portal.admin.forms import (
    ClinicForm,
    ClosureForm,
)
from portal.admin.views.common import (
    bp,
    check_action,
    page_number,
)
from portal.db import utcnow
from portal.directory import services as directory
from portal.htmx import hx_redirect
from portal.scheduling import services as scheduling
from portal.web import errors_on


@bp.get("/clinics")
def clinics():
    page = services.clinics_page(
        actor=current_user, page=page_number(), per_page=services.ADMIN_PAGE_SIZE
    )
    return render_template("admin/clinics.html", page=page)


def _clinic_form_page(form, clinic=None, status=200, closure_form=None):
    closures = []
    if clinic is not None:
        today = utcnow().astimezone(ZoneInfo(clinic.timezone)).date()
        closures = scheduling.list_clinic_closures(
            actor=current_user, clinic=clinic, from_day=today
        )
    body = render_template(
        "admin/clinic_form.html",
        form=form,
        clinic=clinic,
        time_zones=directory.time_zones(),
        closures=closures,
        closure_form=closure_form or ClosureForm(formdata=None),
    )
    return body, status


@bp.route("/clinics/new", methods=["GET", "POST"])
def new_clinic():
    form = ClinicForm()
    if form.validate_on_submit():
        with errors_on(form):
            clinic = directory.create_clinic(actor=current_user, **form.values())
            flash(_("Clinic %(name)s added.", name=clinic.name), "success")
            return hx_redirect(url_for(".clinics"))
    return _clinic_form_page(form, status=422 if request.method == "POST" else 200)


@bp.route("/clinics/<int:clinic_id>/edit", methods=["GET", "POST"])
def edit_clinic(clinic_id):
    clinic = services.clinic(actor=current_user, clinic_id=clinic_id)
    form = ClinicForm(obj=clinic if request.method == "GET" else None)
    if form.validate_on_submit():
        with errors_on(form):
            directory.update_clinic(actor=current_user, clinic=clinic, **form.values())
            flash(_("Clinic %(name)s saved.", name=clinic.name), "success")
            return hx_redirect(url_for(".clinics"))
    return _clinic_form_page(form, clinic, status=422 if request.method == "POST" else 200)


@bp.post("/clinics/<int:clinic_id>/deactivate")
def deactivate_clinic(clinic_id):
    clinic = services.clinic(actor=current_user, clinic_id=clinic_id)
    check_action()
    directory.deactivate_clinic(actor=current_user, clinic=clinic)
    flash(_("Clinic %(name)s is deactivated.", name=clinic.name), "success")
    return hx_redirect(url_for(".clinics"))


@bp.post("/clinics/<int:clinic_id>/reactivate")
def reactivate_clinic(clinic_id):
    clinic = services.clinic(actor=current_user, clinic_id=clinic_id)
    check_action()
    services.reactivate_clinic(actor=current_user, clinic=clinic)
    flash(_("Clinic %(name)s is active again.", name=clinic.name), "success")
    return hx_redirect(url_for(".clinics"))


@bp.post("/clinics/<int:clinic_id>/closures")
def add_clinic_closure(clinic_id):
    clinic = services.clinic(actor=current_user, clinic_id=clinic_id)
    form = ClosureForm()
    if form.validate_on_submit():
        with errors_on(form):
            scheduling.add_clinic_closure(
                actor=current_user, clinic=clinic, day=form.day.data, reason=form.reason.data
            )
            flash(
                _("%(name)s is closed on %(day)s.", name=clinic.name, day=form.day.data),
                "success",
            )
            return hx_redirect(url_for(".edit_clinic", clinic_id=clinic.id, _anchor="closures"))
    return _clinic_form_page(ClinicForm(obj=clinic), clinic, 422, closure_form=form)


@bp.post("/clinics/<int:clinic_id>/closures/<int:closure_id>/remove")
def remove_clinic_closure(clinic_id, closure_id):
    clinic = services.clinic(actor=current_user, clinic_id=clinic_id)
    check_action()
    scheduling.remove_clinic_closure(actor=current_user, clinic=clinic, closure_id=closure_id)
    flash(_("%(name)s is open again on that day.", name=clinic.name), "success")
    return hx_redirect(url_for(".edit_clinic", clinic_id=clinic.id, _anchor="closures"))
