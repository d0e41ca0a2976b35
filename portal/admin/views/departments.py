"""Departments: list, add, edit in place, deactivate and reactivate."""

from flask import flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin import services
from portal.admin.forms import (
    DepartmentForm,
)
from portal.admin.views.common import (
    bp,
    check_action,
    page_number,
)
from portal.directory import services as directory
from portal.htmx import hx_redirect, is_htmx, render_partial
from portal.web import errors_on


def _edit_department_form(department, formdata=None):
    form = DepartmentForm(formdata=formdata, prefix=f"department{department.id}")
    if formdata is None:
        form.fill(department)
    return form


def _departments_page(form, status=200):
    page = services.departments_page(actor=current_user, page=page_number())
    body = render_template("admin/departments.html", page=page, form=form, editing={})
    return body, status


@bp.get("/departments")
def departments():
    return _departments_page(DepartmentForm(formdata=None))


@bp.post("/departments")
def create_department():
    form = DepartmentForm()
    if form.validate_on_submit():
        with errors_on(form):
            department = directory.create_department(actor=current_user, **form.values())
            flash(_("Department %(name)s added.", name=department.name), "success")
            return hx_redirect(url_for(".departments"))
    return _departments_page(form, 422)


@bp.get("/departments/<int:department_id>")
def department(department_id):
    item = services.department(actor=current_user, department_id=department_id)
    return render_partial(
        "admin/department.html", "admin/_department.html", flashes=True, department=item
    )


@bp.get("/departments/<int:department_id>/edit")
def edit_department(department_id):
    item = services.department(actor=current_user, department_id=department_id)
    form = _edit_department_form(item)
    return render_partial(
        "admin/department_edit.html",
        "admin/_department_form.html",
        flashes=True,
        department=item,
        form=form,
    )


@bp.post("/departments/<int:department_id>")
def update_department(department_id):
    item = services.department(actor=current_user, department_id=department_id)
    form = _edit_department_form(item, formdata=request.form)
    if form.validate_on_submit():
        with errors_on(form):
            directory.update_department(actor=current_user, department=item, **form.values())
            flash(_("Department %(name)s saved.", name=item.name), "success")
            if not is_htmx():
                return hx_redirect(url_for(".departments"))
            return render_partial(
                "admin/department.html", "admin/_department.html", flashes=True, department=item
            )
    return render_partial(
        "admin/department_edit.html",
        "admin/_department_form.html",
        422,
        flashes=True,
        department=item,
        form=form,
    )


def _set_department_active(department_id, active):
    item = services.department(actor=current_user, department_id=department_id)
    check_action()
    if active:
        services.reactivate_department(actor=current_user, department=item)
        flash(_("Department %(name)s is active again.", name=item.name), "success")
    else:
        directory.deactivate_department(actor=current_user, department=item)
        flash(_("Department %(name)s is deactivated.", name=item.name), "success")
    if not is_htmx():
        return hx_redirect(url_for(".departments"))
    return render_partial(
        "admin/department.html", "admin/_department.html", flashes=True, department=item
    )


@bp.post("/departments/<int:department_id>/deactivate")
def deactivate_department(department_id):
    return _set_department_active(department_id, False)


@bp.post("/departments/<int:department_id>/reactivate")
def reactivate_department(department_id):
    return _set_department_active(department_id, True)
