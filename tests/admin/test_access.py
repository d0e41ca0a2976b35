"""Who may open the admin pages: admins only. Anyone else is sent to sign in (anonymous)
or refused with 403 (patients, doctors), and a refused POST changes nothing at all."""

import pytest

from tests.admin.conftest import fingerprint


def department_form(w):
    prefix = f"department{w.department}-"
    return {prefix + "code": "cardio", prefix + "name": "Heart", prefix + "name_fr": "Cœur"}


def doctor_form(w, **extra):
    return {
        "email": "new.doctor@example.org",
        "full_name": "Nadia New",
        "clinic_id": w.clinic,
        "department_ids": [w.department],
        "title": "Dr",
        "license_number": "LIC-NEW-1",
        "experience_years": "4",
        "consultation_fee": "35.00",
        "currency": "EUR",
        "accepting_patients": "y",
        **extra,
    }


def patient_form(**extra):
    return {
        "email": "new.patient@example.org",
        "full_name": "Paul Patient",
        "phone": "+33 1 23 45 67 89",
        "blood_group": "O+",
        **extra,
    }


CLINIC = {
    "name": "Clinique Nord",
    "city": "Lille",
    "country": "FR",
    "timezone": "Europe/Paris",
}

# (method, URL with {placeholders} from the world, form data or a function of the world)
ENDPOINTS = [
    ("get", "/admin/", None),
    ("get", "/admin/departments", None),
    ("post", "/admin/departments", {"code": "neurology", "name": "Neurology"}),
    ("get", "/admin/departments/{department}", None),
    ("get", "/admin/departments/{department}/edit", None),
    ("post", "/admin/departments/{department}", department_form),
    ("post", "/admin/departments/{department}/deactivate", {}),
    ("post", "/admin/departments/{old_department}/reactivate", {}),
    ("get", "/admin/clinics", None),
    ("get", "/admin/clinics/new", None),
    ("post", "/admin/clinics/new", CLINIC),
    ("get", "/admin/clinics/{clinic}/edit", None),
    ("post", "/admin/clinics/{clinic}/edit", {**CLINIC, "name": "Renamed"}),
    ("post", "/admin/clinics/{clinic}/deactivate", {}),
    ("post", "/admin/clinics/{closed_clinic}/reactivate", {}),
    ("get", "/admin/doctors", None),
    ("get", "/admin/doctors/new", None),
    ("post", "/admin/doctors/new", doctor_form),
    ("get", "/admin/doctors/{doctor}/edit", None),
    ("post", "/admin/doctors/{doctor}/edit", lambda w: doctor_form(w, email="renamed@example.org")),
    ("get", "/admin/doctors/{doctor}/deactivate", None),
    ("post", "/admin/doctors/{doctor}/deactivate", {"reason": "Retired"}),
    ("get", "/admin/patients", None),
    ("get", "/admin/patients/new", None),
    ("post", "/admin/patients/new", patient_form()),
    ("get", "/admin/patients/{patient}", None),
    ("post", "/admin/patients/{patient}", patient_form(full_name="Paula Patient")),
    ("post", "/admin/patients/{patient}/doctors", lambda w: {"doctor_id": w.doctor}),
    ("post", "/admin/patients/{patient}/doctors/{carer}/remove", {}),
    ("get", "/admin/appointments", None),
    ("get", "/admin/appointments.csv", None),
    ("get", "/admin/settings", None),
    (
        "post",
        "/admin/settings",
        {
            "min_notice_minutes": "60",
            "horizon_days": "30",
            "cancel_cutoff_hours": "12",
            "max_upcoming_per_patient": "5",
        },
    ),
    ("get", "/admin/audit", None),
]
IDS = [f"{method.upper()} {url}" for method, url, _data in ENDPOINTS]


def call(client, world, method, url, data):
    url = url.format(**vars(world))
    if method == "get":
        return client.get(url)
    return client.post(url, data=data(world) if callable(data) else data)


@pytest.mark.parametrize(("method", "url", "data"), ENDPOINTS, ids=IDS)
def test_anonymous_visitors_are_sent_to_sign_in(client, db, world, method, url, data):
    before = fingerprint(db)
    response = call(client, world, method, url, data)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert fingerprint(db) == before


@pytest.mark.parametrize("role", ["patient", "doctor"])
@pytest.mark.parametrize(("method", "url", "data"), ENDPOINTS, ids=IDS)
def test_patients_and_doctors_are_refused(auth, client, db, world, role, method, url, data):
    auth.login(world.patient_user if role == "patient" else world.doctor_user)
    before = fingerprint(db)
    response = call(client, world, method, url, data)
    assert response.status_code == 403
    assert "Not allowed" in response.text
    assert fingerprint(db) == before


@pytest.mark.parametrize(("method", "url", "data"), ENDPOINTS, ids=IDS)
def test_admins_may(as_admin, db, world, method, url, data):
    before = fingerprint(db)
    response = call(as_admin, world, method, url, data)
    if method == "get":
        assert response.status_code == 200
    else:
        # The same request that changed nothing for the others does change something here.
        assert response.status_code in (200, 303), response.text
        assert fingerprint(db) != before


def test_an_htmx_request_without_a_session_navigates_to_sign_in(client, world):
    response = client.get("/admin/doctors", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login?next=")


UNKNOWN = [
    ("get", "/admin/departments/999999"),
    ("get", "/admin/departments/999999/edit"),
    ("post", "/admin/departments/999999"),
    ("post", "/admin/departments/999999/deactivate"),
    ("post", "/admin/departments/999999/reactivate"),
    ("get", "/admin/clinics/999999/edit"),
    ("post", "/admin/clinics/999999/edit"),
    ("post", "/admin/clinics/999999/deactivate"),
    ("post", "/admin/clinics/999999/reactivate"),
    ("get", "/admin/doctors/999999/edit"),
    ("post", "/admin/doctors/999999/edit"),
    ("get", "/admin/doctors/999999/deactivate"),
    ("post", "/admin/doctors/999999/deactivate"),
    ("get", "/admin/patients/999999"),
    ("post", "/admin/patients/999999"),
    ("post", "/admin/patients/999999/doctors"),
    ("post", "/admin/patients/{patient}/doctors/999999/remove"),
    ("post", "/admin/patients/999999/doctors/{carer}/remove"),
]


@pytest.mark.parametrize(("method", "url"), UNKNOWN, ids=[f"{m.upper()} {u}" for m, u in UNKNOWN])
def test_unknown_records_are_404_for_admins(as_admin, db, world, method, url):
    before = fingerprint(db)
    response = getattr(as_admin, method)(url.format(**vars(world)))
    assert response.status_code == 404
    assert fingerprint(db) == before
