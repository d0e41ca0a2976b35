"""Admin pages: dashboard, departments, clinics, doctors, patients, appointments,
booking settings and the audit trail. Admins only: every other user gets 403."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal.admin import services
from portal.admin.forms import (
    ActionForm,
    AssignDoctorForm,
    BookingSettingsForm,
    ClinicForm,
    DeactivateDoctorForm,
    DepartmentForm,
    DoctorForm,
    PatientForm,
)
from portal.audit.services import list_events
from portal.auth.models import Role
from portal.auth.services import ACTIVATION_VALID_FOR, require_role
from portal.booking import services as booking
from portal.booking.models import Status
from portal.db import utcnow
from portal.directory import services as directory
from portal.directory.models import BLOOD_GROUPS
from portal.errors import NotFound
from portal.htmx import hx_redirect, is_htmx
from portal.web import errors_on, status_label

bp = Blueprint("admin", __name__)

PAGE_SIZE = 20


@bp.before_request
def _admins_only():
    # Defence in depth: every service called below checks the role again.
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    require_role(current_user, Role.ADMIN)
    return None


def _page():
    return request.args.get("page", 1, type=int)


def _respond(page, partial, status=200, **context):
    """The partial for HTMX, with the flash messages swapped out of band; else the page."""
    if is_htmx():
        body = render_template(partial, **context) + render_template("admin/_flashes_oob.html")
    else:
        body = render_template(page, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def _check_action():
    if not ActionForm().validate_on_submit():
        abort(400)


def _activation_link(token, now):
    return {
        "url": url_for("auth.activate", token=token, _external=True),
        "expires_at": now + ACTIVATION_VALID_FOR,
    }


def _no_store(body, status=200):
    # The page shows a one-time link: keep it out of every cache.
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


# Dashboard ----------------------------------------------------------------------------


@bp.get("/")
def dashboard():
    now = utcnow()
    counts = services.dashboard_counts(actor=current_user, now=now)
    fill = services.schedule_fill(actor=current_user, now=now)
    return render_template("admin/dashboard.html", counts=counts, fill=fill, chart=_chart(fill))


CHART_BAR = 22
CHART_GAP = 10
CHART_LABEL = 190
CHART_WIDTH = 420


def _chart(fill):
    """Geometry of the horizontal bar chart, so the template only draws."""
    bars = []
    for index, row in enumerate(fill):
        ratio = row.ratio
        width = 0 if ratio is None else round(min(ratio, 1) * CHART_WIDTH, 1)
        bars.append(
            {
                "row": row,
                "y": index * (CHART_BAR + CHART_GAP),
                "width": width,
                "level": "none" if ratio is None else "high" if ratio >= 0.85 else "normal",
            }
        )
    return {
        "bars": bars,
        "bar": CHART_BAR,
        "label": CHART_LABEL,
        "plot": CHART_WIDTH,
        "width": CHART_LABEL + CHART_WIDTH + 70,
        "height": max(1, len(bars)) * (CHART_BAR + CHART_GAP),
    }


# Departments --------------------------------------------------------------------------


def _edit_department_form(department, formdata=None):
    form = DepartmentForm(formdata=formdata, prefix=f"department{department.id}")
    if formdata is None:
        form.fill(department)
    return form


def _departments_page(form, status=200):
    page = services.departments_page(actor=current_user, page=_page())
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
    return _respond("admin/department.html", "admin/_department.html", department=item)


@bp.get("/departments/<int:department_id>/edit")
def edit_department(department_id):
    item = services.department(actor=current_user, department_id=department_id)
    form = _edit_department_form(item)
    return _respond(
        "admin/department_edit.html", "admin/_department_form.html", department=item, form=form
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
            return _respond("admin/department.html", "admin/_department.html", department=item)
    return _respond(
        "admin/department_edit.html",
        "admin/_department_form.html",
        422,
        department=item,
        form=form,
    )


def _set_department_active(department_id, active):
    item = services.department(actor=current_user, department_id=department_id)
    _check_action()
    if active:
        services.reactivate_department(actor=current_user, department=item)
        flash(_("Department %(name)s is active again.", name=item.name), "success")
    else:
        directory.deactivate_department(actor=current_user, department=item)
        flash(_("Department %(name)s is deactivated.", name=item.name), "success")
    if not is_htmx():
        return hx_redirect(url_for(".departments"))
    return _respond("admin/department.html", "admin/_department.html", department=item)


@bp.post("/departments/<int:department_id>/deactivate")
def deactivate_department(department_id):
    return _set_department_active(department_id, False)


@bp.post("/departments/<int:department_id>/reactivate")
def reactivate_department(department_id):
    return _set_department_active(department_id, True)


# Clinics ------------------------------------------------------------------------------


@bp.get("/clinics")
def clinics():
    page = services.clinics_page(actor=current_user, page=_page(), per_page=PAGE_SIZE)
    return render_template("admin/clinics.html", page=page)


def _clinic_form_page(form, clinic=None, status=200):
    body = render_template(
        "admin/clinic_form.html", form=form, clinic=clinic, time_zones=directory.time_zones()
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
    _check_action()
    directory.deactivate_clinic(actor=current_user, clinic=clinic)
    flash(_("Clinic %(name)s is deactivated.", name=clinic.name), "success")
    return hx_redirect(url_for(".clinics"))


@bp.post("/clinics/<int:clinic_id>/reactivate")
def reactivate_clinic(clinic_id):
    clinic = services.clinic(actor=current_user, clinic_id=clinic_id)
    _check_action()
    services.reactivate_clinic(actor=current_user, clinic=clinic)
    flash(_("Clinic %(name)s is active again.", name=clinic.name), "success")
    return hx_redirect(url_for(".clinics"))


# Doctors ------------------------------------------------------------------------------


@bp.get("/doctors")
def doctors():
    q = request.args.get("q", "").strip()
    page = directory.list_doctors(actor=current_user, q=q, page=_page(), per_page=PAGE_SIZE)
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
                link=_activation_link(token, now),
                back=url_for(".doctors"),
            )
            return _no_store(body)
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
        cancelled = directory.deactivate_doctor(
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


# Patients -----------------------------------------------------------------------------


@bp.get("/patients")
def patients():
    q = request.args.get("q", "").strip()
    page = directory.list_patients(actor=current_user, q=q, page=_page(), per_page=PAGE_SIZE)
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
            body = render_template(
                "admin/activation_link.html",
                person=patient.user,
                kind="patient",
                link=_activation_link(token, now),
                back=url_for(".patient", patient_id=patient.id),
            )
            return _no_store(body)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/patient_new.html", form=form), status


def _care_context(patient, assign_form=None):
    doctor_q = request.args.get("doctor_q", "").strip()
    choices = services.doctor_choices(actor=current_user, q=doctor_q)
    assign_form = assign_form or AssignDoctorForm(formdata=None)
    assign_form.doctor_id.choices = [("", _("Choose a doctor"))] + [
        (doctor_id, f"{name} ({licence})") for doctor_id, name, licence, _active in choices
    ]
    return {
        "patient": patient,
        "care_doctors": directory.doctors_of(patient),
        "assign_form": assign_form,
        "doctor_q": doctor_q,
        "choices_limited": len(choices) >= services.CHOICES_LIMIT,
    }


@bp.route("/patients/<int:patient_id>", methods=["GET", "POST"])
def patient(patient_id):
    item = services.patient(actor=current_user, patient_id=patient_id)
    form = _patient_form(item)
    if form.validate_on_submit():
        with errors_on(form):
            directory.update_patient(
                actor=current_user,
                patient=item,
                now=utcnow(),
                full_name=form.full_name.data,
                **form.values(),
            )
            flash(_("The record of %(name)s is saved.", name=item.full_name), "success")
            return hx_redirect(url_for(".patient", patient_id=item.id))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/patient.html", form=form, **_care_context(item)), status


def _care_response(patient, status=200, assign_form=None):
    if not is_htmx() and status == 200:
        return hx_redirect(url_for(".patient", patient_id=patient.id, _anchor="care-team"))
    context = _care_context(patient, assign_form)
    if is_htmx():
        return _respond("admin/patient.html", "admin/_care.html", status, **context)
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
    _check_action()
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


# Appointments -------------------------------------------------------------------------


def _day(value):
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _appointment_filters():
    """The filters from the query string; dates are whole UTC days, `to` included."""
    args = request.args
    status = args.get("status") or None
    if status not in {*Status, None}:
        status = None
    first, last = _day(args.get("from")), _day(args.get("to"))
    return {
        "status": status,
        "doctor_id": args.get("doctor_id", type=int),
        "clinic_id": args.get("clinic_id", type=int),
        "starts_from": datetime.combine(first, datetime.min.time(), UTC) if first else None,
        "starts_before": (
            datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC) if last else None
        ),
    }, {"from": first, "to": last}


@bp.get("/appointments")
def appointments():
    filters, days = _appointment_filters()
    page = booking.list_appointments(
        actor=current_user, **filters, page=_page(), per_page=PAGE_SIZE
    )
    return render_template(
        "admin/appointments.html",
        page=page,
        filters=filters,
        days=days,
        statuses=list(Status),
        doctors=services.doctor_choices(actor=current_user, active_only=False),
        clinics=services.clinic_choices(actor=current_user, active_only=False),
        export_url=url_for(".appointments_csv", **request.args.to_dict(flat=True)),
        export_limit=services.EXPORT_LIMIT,
    )


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _iso(instant):
    return instant.isoformat() if instant is not None else ""


@bp.get("/appointments.csv")
def appointments_csv():
    filters, _days = _appointment_filters()
    rows, truncated = services.export_appointments(actor=current_user, **filters)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            _("ID"),
            _("Start (UTC)"),
            _("End (UTC)"),
            _("Status"),
            _("Doctor"),
            _("Patient"),
            _("Patient email"),
            _("Clinic"),
            _("City"),
            _("Time zone"),
            _("Reason"),
            _("Cancelled at (UTC)"),
            _("Cancellation reason"),
        ]
    )
    for item in rows:
        writer.writerow(
            [
                _cell(value)
                for value in (
                    item.id,
                    _iso(item.starts_at),
                    _iso(item.ends_at),
                    item.status,
                    item.doctor.user.full_name,
                    item.patient.user.full_name,
                    item.patient.user.email,
                    item.clinic.name,
                    item.clinic.city,
                    item.clinic.timezone,
                    item.reason,
                    _iso(item.cancelled_at),
                    item.cancel_reason,
                )
            ]
        )
    response = make_response(buffer.getvalue())
    response.content_type = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="appointments.csv"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Export-Truncated"] = "true" if truncated else "false"
    return response


# Booking settings ---------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    current = services.booking_settings(actor=current_user)
    form = BookingSettingsForm(obj=current if request.method == "GET" else None)
    if form.validate_on_submit():
        with errors_on(form):
            booking.update_booking_settings(
                actor=current_user,
                min_notice_minutes=form.min_notice_minutes.data,
                horizon_days=form.horizon_days.data,
                cancel_cutoff_hours=form.cancel_cutoff_hours.data,
            )
            flash(_("Booking settings saved."), "success")
            return hx_redirect(url_for(".settings"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/settings.html", form=form), status


# Audit trail --------------------------------------------------------------------------


@bp.get("/audit")
def audit():
    filters = {
        "entity_type": request.args.get("entity_type") or None,
        "action": (request.args.get("action") or "").strip() or None,
        "actor_id": request.args.get("actor_id", type=int),
    }
    page = list_events(actor=current_user, **filters, page=_page(), per_page=50)
    return render_template(
        "admin/audit.html",
        page=page,
        filters=filters,
        entity_types=services.AUDIT_ENTITY_TYPES,
        admins=services.admin_choices(actor=current_user),
        status_label=status_label,
    )
