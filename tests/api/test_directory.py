"""Departments, clinics and doctors over the API."""

from sqlalchemy import select

from portal.booking.models import Appointment, Status
from portal.directory.models import Department, Doctor
from tests.api.conftest import assert_problem

# Departments ----------------------------------------------------------------------------


def test_departments_are_listed_in_the_request_language(api, make_department):
    make_department(
        code="cardiology",
        name="Cardiology",
        description="The heart.",
        translations={"fr": {"name": "Cardiologie", "description": "Le cœur."}},
    )
    make_department(code="zz-old", name="Old", is_active=False)
    english = api.get("/departments").get_json()
    assert english["total"] == 1
    assert (english["page"], english["per_page"]) == (1, 20)
    item = english["items"][0]
    assert (item["name"], item["description"]) == ("Cardiology", "The heart.")
    assert item["translations"] == {"fr": {"name": "Cardiologie", "description": "Le cœur."}}
    french = api.get("/departments?lang=fr").get_json()["items"][0]
    assert (french["name"], french["description"]) == ("Cardiologie", "Le cœur.")
    header = api.get("/departments", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert header.get_json()["items"][0]["name"] == "Cardiologie"


def test_a_missing_translation_falls_back_to_the_default_language(api, make_department):
    department = make_department(name="Dermatology", translations={})
    body = api.get(f"/departments/{department.id}?lang=fr").get_json()
    assert body["name"] == "Dermatology"


def test_departments_are_paginated(api, make_department):
    for _number in range(3):
        make_department()
    body = api.get("/departments?page=2&per_page=2").get_json()
    assert (body["total"], len(body["items"]), body["page"]) == (3, 1, 2)
    # A page past the end has no item, and still the total.
    body = api.get("/departments?page=7&per_page=2").get_json()
    assert (body["total"], body["items"], body["page"]) == (3, [], 7)
    assert_problem(api.get("/departments?per_page=101"), 400, "invalid_request")


def test_an_admin_creates_changes_and_deletes_a_department(api, db, admin):
    response = api.post(
        "/departments",
        user=admin,
        json={
            "code": "neurology",
            "name": "Neurology",
            "translations": {"fr": {"name": "Neurologie"}},
        },
    )
    assert response.status_code == 201
    created = response.get_json()
    assert response.headers["Location"] == f"/api/v1/departments/{created['id']}"
    changed = api.patch(
        f"/departments/{created['id']}", user=admin, json={"description": "Nerves."}
    )
    assert changed.get_json()["description"] == "Nerves."
    assert api.delete(f"/departments/{created['id']}", user=admin).status_code == 204
    assert_problem(api.get(f"/departments/{created['id']}"), 404, "not_found")
    assert db.session.get(Department, created["id"]).is_active is False
    restored = api.patch(f"/departments/{created['id']}", user=admin, json={"is_active": True})
    assert restored.status_code == 200
    assert api.get(f"/departments/{created['id']}").status_code == 200


def test_a_department_code_is_unique(api, admin, make_department):
    make_department(code="cardiology")
    response = api.post("/departments", user=admin, json={"code": "cardiology", "name": "X"})
    body = assert_problem(response, 400, "validation_failed")
    assert list(body["errors"]) == ["code"]


# Clinics --------------------------------------------------------------------------------


CLINIC = {
    "name": "Clinique du Lac",
    "address": "1 quai du Lac",
    "city": "Annecy",
    "postal_code": "74000",
    "country": "FR",
    "phone": "+33 4 00 00 00 00",
    "timezone": "Europe/Paris",
}


def test_an_admin_creates_a_clinic_and_anyone_reads_it(api, admin):
    response = api.post("/clinics", user=admin, json=CLINIC)
    assert response.status_code == 201
    body = response.get_json()
    assert body == {"id": body["id"], **CLINIC}
    assert api.get(f"/clinics/{body['id']}").get_json() == body


def test_a_clinic_time_zone_must_be_an_iana_name(api, admin):
    response = api.post("/clinics", user=admin, json={**CLINIC, "timezone": "Paris/France"})
    body = assert_problem(response, 400, "validation_failed")
    assert list(body["errors"]) == ["timezone"]


def test_clinics_filter_by_city(api, make_clinic):
    make_clinic(city="Paris")
    make_clinic(city="Lyon", name="Centre")
    body = api.get("/clinics?city=lyon").get_json()
    assert [item["city"] for item in body["items"]] == ["Lyon"]


def test_a_deleted_clinic_leaves_the_directory(api, admin, make_clinic):
    clinic = make_clinic()
    assert api.patch(f"/clinics/{clinic.id}", user=admin, json={"phone": "1"}).status_code == 200
    assert api.delete(f"/clinics/{clinic.id}", user=admin).status_code == 204
    assert_problem(api.get(f"/clinics/{clinic.id}"), 404, "not_found")
    assert api.get("/clinics").get_json()["total"] == 0


# Doctors --------------------------------------------------------------------------------


def test_doctors_are_found_by_department_clinic_city_and_name(
    api, make_doctor, make_clinic, make_department
):
    heart = make_department(code="cardiology", name="Cardiology")
    skin = make_department(code="dermatology", name="Dermatology")
    lyon = make_clinic(city="Lyon", name="Centre")
    first = make_doctor(departments=[heart])
    second = make_doctor(clinic=lyon, departments=[skin])

    def ids(query):
        return [item["id"] for item in api.get("/doctors" + query).get_json()["items"]]

    assert sorted(ids("")) == sorted([first.id, second.id])
    assert ids(f"?department={heart.id}") == [first.id]
    assert ids(f"?clinic={lyon.id}") == [second.id]
    assert ids("?city=LYON") == [second.id]
    assert ids("?q=" + second.user.full_name[-3:]) == [second.id]


def test_a_doctor_reads_in_the_request_language_and_shows_email_to_admins(
    api, admin, patient, make_doctor, make_department
):
    department = make_department(translations={"fr": {"name": "Cardiologie"}})
    doctor = make_doctor(
        departments=[department],
        bio="Heart specialist.",
        translations={"fr": {"bio": "Spécialiste du cœur."}},
    )
    public = api.get(f"/doctors/{doctor.id}?lang=fr").get_json()
    assert public["bio"] == "Spécialiste du cœur."
    assert public["departments"] == [
        {"id": department.id, "code": department.code, "name": "Cardiologie"}
    ]
    assert public["translations"] == {"fr": {"bio": "Spécialiste du cœur."}}
    assert public["consultation_fee"] == "40.00"
    assert public["clinic"]["timezone"] == "Europe/Paris"
    assert "email" not in public
    assert "email" not in api.get(f"/doctors/{doctor.id}", user=patient.user).get_json()
    assert api.get(f"/doctors/{doctor.id}", user=admin).get_json()["email"] == doctor.user.email


def test_an_admin_onboards_a_doctor(api, db, admin, make_clinic, make_department):
    clinic, department = make_clinic(), make_department()
    response = api.post(
        "/doctors",
        user=admin,
        json={
            "email": "ines.moreau@example.org",
            "full_name": "Inès Moreau",
            "clinic_id": clinic.id,
            "department_ids": [department.id],
            "title": "Dr",
            "license_number": "FR-12345",
            "experience_years": 12,
            "consultation_fee": "55.5",
            "currency": "EUR",
            "bio": "Children.",
            "translations": {"fr": {"bio": "Enfants."}},
            "max_appointments_per_day": 12,
        },
    )
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/doctors/{body['id']}"
    assert body["email"] == "ines.moreau@example.org"
    assert body["consultation_fee"] == "55.50"
    assert body["activation_token"]
    assert body["activation_url"].startswith("http")
    doctor = db.session.get(Doctor, body["id"])
    assert doctor.user.password_hash is None


def test_onboarding_problems_are_per_field(api, admin, make_clinic):
    clinic = make_clinic()
    response = api.post(
        "/doctors",
        user=admin,
        json={
            "email": "not-an-email",
            "full_name": "X",
            "clinic_id": clinic.id,
            "department_ids": [999],
            "license_number": "L-1",
        },
    )
    body = assert_problem(response, 400, "validation_failed")
    assert {"email", "department_ids"} <= set(body["errors"])


def test_a_doctor_changes_their_own_texts_but_not_the_rest(api, doctor):
    response = api.patch(
        f"/doctors/{doctor.id}",
        user=doctor.user,
        json={"bio": "Sports medicine.", "accepting_patients": False},
    )
    assert response.status_code == 200
    assert response.get_json()["accepting_patients"] is False
    refused = api.patch(f"/doctors/{doctor.id}", user=doctor.user, json={"title": "Prof"})
    assert_problem(refused, 403, "forbidden")


def test_deleting_a_doctor_cancels_their_future_appointments(api, db, admin, open_doctor, patient):
    from tests.api.conftest import first_slot

    start = first_slot(api, open_doctor.id)
    booked = api.post(
        "/appointments", user=patient.user, json={"doctor_id": open_doctor.id, "start": start}
    ).get_json()
    response = api.delete(f"/doctors/{open_doctor.id}?reason=Moved away", user=admin)
    assert response.status_code == 204
    assert_problem(api.get(f"/doctors/{open_doctor.id}"), 404, "not_found")
    assert api.get("/doctors").get_json()["total"] == 0
    assert_problem(api.get(f"/doctors/{open_doctor.id}/slots"), 404, "not_found")
    db.session.expire_all()
    appointment = db.session.scalar(select(Appointment).where(Appointment.id == booked["id"]))
    assert (appointment.status, appointment.cancel_reason) == (Status.CANCELLED, "Moved away")
    seen = api.get(f"/appointments/{booked['id']}", user=patient.user).get_json()
    assert (seen["status"], seen["cancel_reason"]) == ("cancelled", "Moved away")
