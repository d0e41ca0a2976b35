"""The public directory (find a doctor, departments, clinics), the patient's own profile
and the doctor's list of their patients."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from portal.auth.models import Role
from portal.auth.services import require_role, set_reminders
from portal.booking import services as booking
from portal.booking.schedule_rows import next_free_slots
from portal.db import utcnow
from portal.directory import services
from portal.directory.forms import FindDoctorForm, PatientSearchForm, ProfileForm, RemindersForm
from portal.htmx import is_htmx, render_partial
from portal.web import errors_on

bp = Blueprint("directory", __name__)

PER_PAGE = 20
Q_MAX = 100
PROFILE_FIELDS = ("phone", "date_of_birth", "blood_group", "allergies", "emergency_contact")


def _page_number():
    return request.args.get("page", 1, type=int)


def _chosen_id(value, allowed):
    """A filter's id when it is one of the offered choices, else None (no filter)."""
    return int(value) if value and value.isdigit() and int(value) in allowed else None


def _doctor_results(page_template, **context):
    """A page of doctors with each one's next free time: the whole page, or for HTMX the
    results plus, out of band, the live region that announces how many were found."""
    results = context["results"]
    context["next_slots"] = next_free_slots(
        results.items, now=utcnow(), settings=booking.get_booking_settings()
    )
    response = render_partial(page_template, "directory/_results.html", **context)
    if is_htmx():
        count = render_template("directory/_result_count.html", results=results, oob=True)
        response.set_data(response.get_data(as_text=True) + count)
    return response


# The public directory -----------------------------------------------------------------


@bp.get("/find")
def find():
    form = FindDoctorForm(request.args)
    lang = str(get_locale())
    departments = services.list_departments()
    clinics = services.clinic_choices()
    cities = services.list_cities()
    form.department.choices = [
        SelectChoice("", _("Any department")),
        *(SelectChoice(str(item.id), item.translated("name", lang)) for item in departments),
    ]
    form.clinic.choices = [
        SelectChoice("", _("Any clinic")),
        *(SelectChoice(str(clinic_id), f"{name} ({city})") for clinic_id, name, city in clinics),
    ]
    form.city.choices = [
        SelectChoice("", _("Any city")),
        *(SelectChoice(city, city) for city in cities),
    ]
    results = services.search_doctors(
        department_id=_chosen_id(form.department.data, {item.id for item in departments}),
        clinic_id=_chosen_id(form.clinic.data, {clinic_id for clinic_id, _name, _city in clinics}),
        city=form.city.data if form.city.data in cities else None,
        q=(form.q.data or "")[:Q_MAX],
        page=_page_number(),
        per_page=PER_PAGE,
    )
    return _doctor_results("directory/find.html", form=form, results=results)


@bp.get("/departments/<int:department_id>")
def department(department_id):
    record = services.get_department(department_id)
    results = services.search_doctors(
        department_id=record.id, page=_page_number(), per_page=PER_PAGE
    )
    return _doctor_results("directory/department.html", department=record, results=results)


@bp.get("/clinics/<int:clinic_id>")
def clinic(clinic_id):
    record = services.get_clinic(clinic_id)
    results = services.search_doctors(clinic_id=record.id, page=_page_number(), per_page=PER_PAGE)
    return _doctor_results("directory/clinic.html", clinic=record, results=results)


# The patient's own profile ------------------------------------------------------------


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    patient = services.patient_for_user(current_user)
    form = ProfileForm(obj=patient)
    if form.validate_on_submit():
        with errors_on(form):
            services.update_patient(
                actor=current_user,
                patient=patient,
                now=utcnow(),
                **{name: getattr(form, name).data for name in PROFILE_FIELDS},
            )
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("directory.profile"), 303)
    status = 422 if request.method == "POST" else 200
    doctors = services.doctors_of(patient)
    reminders = RemindersForm(formdata=None, notify_reminders=current_user.notify_reminders)
    return render_template(
        "directory/profile.html", form=form, doctors=doctors, reminders=reminders
    ), status


@bp.post("/profile/reminders")
@login_required
def profile_reminders():
    services.patient_for_user(current_user)  # patients only
    form = RemindersForm()
    if form.validate_on_submit():
        set_reminders(user=current_user, on=form.notify_reminders.data)
        if form.notify_reminders.data:
            flash(_("You will get a reminder before each visit."), "success")
        else:
            flash(_("Reminders are off. You still get confirmations and changes."), "success")
    return redirect(url_for("directory.profile"), 303)


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
        "directory/my_patients.html", "directory/_patients.html", form=form, patients=patients
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
        "directory/patient.html",
        "directory/_patient_appointments.html",
        patient=record,
        appointments=appointments,
    )
