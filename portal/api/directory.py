"""The directory: departments, clinics and doctors. Reading needs no token; writing is
for admins (and a doctor's own profile texts)."""

from flask import current_app, url_for

from portal import revalidation
from portal.api import schemas
from portal.api.outputs import (
    clinic_out,
    department_out,
    doctor_out,
    onboarded_doctor_out,
)
from portal.api.problems import api_language
from portal.api.routing import no_content, operation, reply
from portal.auth.models import Role
from portal.booking import services as booking
from portal.db import utcnow
from portal.directory import services as directory
from portal.worker_cache import WorkerCache

# The lists of doctors each worker keeps, by the directory's version (list_doctors).
ANSWERS = "portal.api.doctor_lists"
# What else a list depends on: the language asked, and who asks (admins see emails).
LIST_VARY = ("Accept-Language", "Authorization")


def init_app(app):
    app.extensions[ANSWERS] = WorkerCache(app.config["DIRECTORY_CACHE_SIZE"])


def page_of(items, query):
    """One page of an already complete list."""
    start = (query.page - 1) * query.per_page
    return items[start : start + query.per_page], len(items)


# Departments --------------------------------------------------------------------------


class DepartmentQuery(schemas.Paging, schemas.LanguageQuery):
    pass


class LangQuery(schemas.LanguageQuery):
    pass


@operation(
    "/departments",
    "GET",
    summary="List departments",
    description="Names and descriptions in the request's language (`?lang=` or "
    "Accept-Language), falling back to the default language.",
    tag="Departments",
    auth="optional",
    query=DepartmentQuery,
    response=schemas.DepartmentPage,
    translated=True,
)
def list_departments(caller, query):
    items, total = page_of(directory.list_departments(), query)
    lang = api_language()
    return reply(
        schemas.DepartmentPage(
            items=[department_out(item, lang) for item in items],
            page=query.page,
            per_page=query.per_page,
            total=total,
        )
    )


@operation(
    "/departments",
    "POST",
    summary="Create a department",
    tag="Departments",
    body=schemas.DepartmentIn,
    response=schemas.DepartmentOut,
    status=201,
    location=True,
    errors=(403,),
    translated=True,
)
def create_department(caller, body):
    department = directory.create_department(actor=caller, **body.model_dump())
    location = url_for("api.get_department", department_id=department.id)
    return reply(department_out(department), status=201, location=location)


@operation(
    "/departments/<id:department_id>",
    "GET",
    summary="One department",
    tag="Departments",
    auth="optional",
    query=LangQuery,
    response=schemas.DepartmentOut,
    errors=(404,),
    translated=True,
)
def get_department(caller, department_id, query):
    return reply(department_out(directory.get_department(department_id)))


@operation(
    "/departments/<id:department_id>",
    "PATCH",
    summary="Change a department",
    description="`is_active: true` puts a deleted department back (admin).",
    tag="Departments",
    body=schemas.DepartmentUpdate,
    response=schemas.DepartmentOut,
    errors=(403, 404),
    translated=True,
)
def update_department(caller, department_id, body):
    department = directory.get_department(department_id, include_inactive=True)
    directory.update_department(
        actor=caller, department=department, **body.model_dump(exclude_unset=True)
    )
    return reply(department_out(department))


@operation(
    "/departments/<id:department_id>",
    "DELETE",
    summary="Delete (deactivate) a department",
    description="Soft: the department leaves the directory; its doctors stay (admin).",
    tag="Departments",
    status=204,
    errors=(403, 404),
)
def delete_department(caller, department_id):
    department = directory.get_department(department_id)
    directory.deactivate_department(actor=caller, department=department)
    return no_content()


# Clinics ------------------------------------------------------------------------------


@operation(
    "/clinics",
    "GET",
    summary="List clinics",
    description="Active clinics by city and name; `city` matches whole names, any case.",
    tag="Clinics",
    auth="optional",
    query=schemas.ClinicQuery,
    response=schemas.ClinicPage,
)
def list_clinics(caller, query):
    page = directory.list_clinics(city=query.city, page=query.page, per_page=query.per_page)
    return reply(
        schemas.ClinicPage(
            items=[clinic_out(item) for item in page.items],
            page=page.page,
            per_page=page.per_page,
            total=page.total,
        )
    )


@operation(
    "/clinics",
    "POST",
    summary="Create a clinic",
    description="`timezone` must be an IANA time zone name (admin).",
    tag="Clinics",
    body=schemas.ClinicIn,
    response=schemas.ClinicOut,
    status=201,
    location=True,
    errors=(403,),
)
def create_clinic(caller, body):
    clinic = directory.create_clinic(actor=caller, **body.model_dump())
    location = url_for("api.get_clinic", clinic_id=clinic.id)
    return reply(clinic_out(clinic), status=201, location=location)


@operation(
    "/clinics/<id:clinic_id>",
    "GET",
    summary="One clinic",
    tag="Clinics",
    auth="optional",
    response=schemas.ClinicOut,
    errors=(404,),
)
def get_clinic(caller, clinic_id):
    return reply(clinic_out(directory.get_clinic(clinic_id)))


@operation(
    "/clinics/<id:clinic_id>",
    "PATCH",
    summary="Change a clinic",
    description="`is_active: true` reopens a deleted clinic (admin).",
    tag="Clinics",
    body=schemas.ClinicUpdate,
    response=schemas.ClinicOut,
    errors=(403, 404),
)
def update_clinic(caller, clinic_id, body):
    clinic = directory.get_clinic(clinic_id, include_inactive=True)
    directory.update_clinic(actor=caller, clinic=clinic, **body.model_dump(exclude_unset=True))
    return reply(clinic_out(clinic))


@operation(
    "/clinics/<id:clinic_id>",
    "DELETE",
    summary="Delete (deactivate) a clinic",
    description="Soft: the clinic and its doctors leave the directory (admin).",
    tag="Clinics",
    status=204,
    errors=(403, 404),
)
def delete_clinic(caller, clinic_id):
    clinic = directory.get_clinic(clinic_id)
    directory.deactivate_clinic(actor=caller, clinic=clinic)
    return no_content()


# Doctors ------------------------------------------------------------------------------


class DoctorQuery(schemas.DoctorQuery, schemas.LanguageQuery):
    pass


@operation(
    "/doctors",
    "GET",
    summary="Find doctors",
    description="Active doctors by department, clinic, city and name, in the request's "
    "language. `email` is shown to admins only.",
    tag="Doctors",
    auth="optional",
    query=DoctorQuery,
    response=schemas.DoctorPage,
    translated=True,
    revalidated=True,
)
def list_doctors(caller, query):
    # The directory's version first, read in one cheap query: the same version, query,
    # language and audience are the same answer, which each worker keeps and a client
    # holding its ETag gets as 304.
    lang = api_language()
    admin = caller is not None and caller.role == Role.ADMIN
    key = (
        directory.directory_version(),
        query.department,
        query.clinic,
        query.city,
        query.q,
        query.page,
        query.per_page,
        lang,
        admin,
    )
    # Admins' answers carry email addresses: kept by this worker, never by a client.
    tag = key[0] is not None and not admin
    etag = revalidation.etag_for("doctors", key)
    if tag and revalidation.unchanged(etag):
        return revalidation.not_modified(etag, LIST_VARY)
    kept = current_app.extensions[ANSWERS]
    body = kept.get(key) if key[0] is not None else None
    if body is None:
        page = directory.search_doctors(
            department_id=query.department,
            clinic_id=query.clinic,
            city=query.city,
            q=query.q,
            page=query.page,
            per_page=query.per_page,
        )
        body = reply(
            schemas.DoctorPage(
                items=[doctor_out(item, caller, lang) for item in page.items],
                page=page.page,
                per_page=page.per_page,
                total=page.total,
            )
        ).get_data()
        if key[0] is not None:
            kept.put(key, body)
    response = current_app.response_class(body, mimetype="application/json")
    return revalidation.tagged(response, etag, LIST_VARY) if tag else response


@operation(
    "/doctors",
    "POST",
    summary="Onboard a doctor",
    description=(
        "Creates the doctor's login account and profile in one step (admin). The answer "
        "carries a one-time `activation_url` where the doctor sets a password, and the "
        "same one-time `activation_token` for POST /auth/activate."
    ),
    tag="Doctors",
    body=schemas.DoctorIn,
    response=schemas.OnboardedDoctorOut,
    status=201,
    location=True,
    errors=(403,),
    translated=True,
)
def onboard_doctor(caller, body):
    doctor, token = directory.onboard_doctor(actor=caller, now=utcnow(), **body.model_dump())
    location = url_for("api.get_doctor", doctor_id=doctor.id)
    return reply(onboarded_doctor_out(doctor, caller, token), status=201, location=location)


@operation(
    "/doctors/<id:doctor_id>",
    "GET",
    summary="One doctor",
    tag="Doctors",
    auth="optional",
    query=LangQuery,
    response=schemas.DoctorOut,
    errors=(404,),
    translated=True,
)
def get_doctor(caller, doctor_id, query):
    return reply(doctor_out(directory.get_doctor(doctor_id), caller))


@operation(
    "/doctors/<id:doctor_id>",
    "PATCH",
    summary="Change a doctor's profile",
    description=(
        "An admin may change any field. A doctor may change their own `bio`, "
        "`qualifications`, `accepting_patients` and `translations` only (403 for others)."
    ),
    tag="Doctors",
    body=schemas.DoctorUpdate,
    response=schemas.DoctorOut,
    errors=(403, 404),
    translated=True,
)
def update_doctor(caller, doctor_id, body):
    doctor = directory.get_doctor(doctor_id)
    directory.update_doctor(actor=caller, doctor=doctor, **body.model_dump(exclude_unset=True))
    return reply(doctor_out(doctor, caller))


@operation(
    "/doctors/<id:doctor_id>",
    "DELETE",
    summary="Delete (deactivate) a doctor",
    description=(
        "The doctor leaves listings and slots, their sessions and tokens end, and their "
        "future appointments are cancelled with `reason`, which the patients see and are "
        "sent by email (admin)."
    ),
    tag="Doctors",
    query=schemas.DeactivateQuery,
    status=204,
    errors=(403, 404),
)
def delete_doctor(caller, doctor_id, query):
    doctor = directory.get_doctor(doctor_id)
    booking.deactivate_doctor(actor=caller, doctor=doctor, reason=query.reason, now=utcnow())
    return no_content()
