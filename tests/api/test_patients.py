"""Patients, care assignments, settings and the health check over the API."""

from sqlalchemy import select

from portal.directory.models import CareAssignment
from portal.messages.models import Message
from tests.api.conftest import assert_problem

# Patients -------------------------------------------------------------------------------


def test_an_admin_creates_a_patient_with_an_activation_link(api, admin):
    response = api.post(
        "/patients",
        user=admin,
        json={
            "email": "leo@example.org",
            "full_name": "Léo Martin",
            "phone": "0600000000",
            "date_of_birth": "1985-02-03",
            "blood_group": "AB-",
            "allergies": "Pollen",
            "emergency_contact": "Ana, 0611111111",
        },
    )
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/patients/{body['id']}"
    assert (body["blood_group"], body["date_of_birth"]) == ("AB-", "1985-02-03")
    assert body["activation_url"].endswith("/activate/" + body["activation_token"])


def test_a_blood_group_must_be_one_of_the_eight(api, admin):
    response = api.post(
        "/patients",
        user=admin,
        json={"email": "x@example.org", "full_name": "X", "blood_group": "C+"},
    )
    assert list(assert_problem(response, 400, "invalid_request")["errors"]) == ["blood_group"]


def test_a_patient_reads_and_edits_their_own_record(api, patient):
    path = f"/patients/{patient.id}"
    body = api.get(path, user=patient.user).get_json()
    assert body == {
        "id": patient.id,
        "full_name": patient.user.full_name,
        "email": patient.user.email,
        "phone": "",
        "date_of_birth": None,
        "blood_group": None,
        "allergies": "",
        "emergency_contact": "",
    }
    changed = api.patch(
        path, user=patient.user, json={"blood_group": "O+", "date_of_birth": "1990-01-31"}
    )
    assert changed.status_code == 200
    assert (changed.get_json()["blood_group"], changed.get_json()["date_of_birth"]) == (
        "O+",
        "1990-01-31",
    )
    cleared = api.patch(path, user=patient.user, json={"blood_group": None}).get_json()
    assert cleared["blood_group"] is None
    future = api.patch(path, user=patient.user, json={"date_of_birth": "2999-01-01"})
    assert list(assert_problem(future, 400, "validation_failed")["errors"]) == ["date_of_birth"]


def test_doctors_see_the_patients_in_their_care(api, world):
    mine = api.get("/patients", user=world.doctor.user).get_json()
    assert [item["id"] for item in mine["items"]] == [world.patient.id]
    assert mine["items"][0]["allergies"] == ""
    assert api.get("/patients", user=world.other_doctor.user).get_json()["total"] == 0
    everyone = api.get("/patients", user=world.admin).get_json()
    assert everyone["total"] == 2
    found = api.get("/patients?q=" + world.other_patient.user.email, user=world.admin).get_json()
    assert [item["id"] for item in found["items"]] == [world.other_patient.id]


def test_an_admin_assigns_and_unassigns_care(api, db, world):
    path = f"/doctors/{world.other_doctor.id}/patients/{world.other_patient.id}"
    assert_problem(
        api.get(f"/patients/{world.other_patient.id}", user=world.other_doctor.user),
        404,
        "not_found",
    )
    assert api.put(path, user=world.admin).status_code == 204
    assert api.put(path, user=world.admin).status_code == 204  # twice changes nothing
    assert db.session.scalar(select(CareAssignment)) is not None
    seen = api.get(f"/patients/{world.other_patient.id}", user=world.other_doctor.user)
    assert seen.status_code == 200
    assert api.delete(path, user=world.admin).status_code == 204
    db.session.expire_all()
    assert db.session.scalar(select(CareAssignment)) is None


def test_unknown_doctors_or_patients_are_404(api, world):
    assert_problem(
        api.put(f"/doctors/999999/patients/{world.patient.id}", user=world.admin), 404, "not_found"
    )
    assert_problem(
        api.put(f"/doctors/{world.doctor.id}/patients/999999", user=world.admin), 404, "not_found"
    )
    assert_problem(api.get("/patients/99999999999", user=world.admin), 404, "not_found")


# Settings -------------------------------------------------------------------------------


def test_an_admin_reads_and_changes_the_booking_rules(api, admin):
    assert api.get("/settings", user=admin).get_json() == {
        "min_notice_minutes": 120,
        "horizon_days": 90,
        "cancel_cutoff_hours": 24,
        "max_upcoming_per_patient": 5,
        "reminder_minutes_before": [1440],
        "require_staff_otp": False,
    }
    response = api.patch(
        "/settings", user=admin, json={"horizon_days": 730, "max_upcoming_per_patient": 12}
    )
    assert response.get_json() == {
        "min_notice_minutes": 120,
        "horizon_days": 730,
        "cancel_cutoff_hours": 24,
        "max_upcoming_per_patient": 12,
        "reminder_minutes_before": [1440],
        "require_staff_otp": False,
    }
    for wrong in (0, 51):
        refused = api.patch("/settings", user=admin, json={"max_upcoming_per_patient": wrong})
        errors = assert_problem(refused, 400, "invalid_request")["errors"]
        assert list(errors) == ["max_upcoming_per_patient"]
    too_far = api.patch("/settings", user=admin, json={"horizon_days": 731})
    assert list(assert_problem(too_far, 400, "invalid_request")["errors"]) == ["horizon_days"]


def test_an_admin_sets_the_reminder_leads(api, admin):
    response = api.patch("/settings", user=admin, json={"reminder_minutes_before": [60, 2880]})
    assert response.get_json()["reminder_minutes_before"] == [2880, 60]
    none = api.patch("/settings", user=admin, json={"reminder_minutes_before": []})
    assert none.get_json()["reminder_minutes_before"] == []
    for wrong in ([5], [60, 60], [60, 120, 180, 240], [10081]):
        refused = api.patch("/settings", user=admin, json={"reminder_minutes_before": wrong})
        assert refused.status_code == 400, wrong
        [field] = refused.get_json()["errors"]
        assert field.startswith("reminder_minutes_before")
    assert api.get("/settings", user=admin).get_json()["reminder_minutes_before"] == []


def test_the_booking_rules_shape_the_slots(api, admin, open_doctor):
    before = api.get(f"/doctors/{open_doctor.id}/slots").get_json()["slots"]
    api.patch("/settings", user=admin, json={"min_notice_minutes": 60 * 24})
    after = api.get(f"/doctors/{open_doctor.id}/slots").get_json()["slots"]
    assert after[0]["start"] > before[0]["start"]


# Health ---------------------------------------------------------------------------------


def test_health_says_ok(api):
    response = api.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_health_is_503_when_the_database_is_down(api, monkeypatch):
    from portal import db

    monkeypatch.setattr(db, "database_ok", lambda session: False)
    body = assert_problem(api.get("/health"), 503, "unavailable")
    assert body["database"] == "unreachable"


def test_health_is_limited_to_30_a_minute_per_client(api):
    for _request in range(30):
        assert api.get("/health").status_code == 200
    response = api.get("/health")
    assert_problem(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0
    other_client = api.get("/health", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other_client.status_code == 200


# Patients without an email --------------------------------------------------------------


def test_an_admin_creates_a_patient_without_an_email_and_adds_it_later(api, admin, db):
    response = api.post(
        "/patients", user=admin, json={"full_name": "Noé Caller", "phone": "+33 6 12 34 56 78"}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert (body["email"], body["activation_url"], body["activation_token"]) == (None, None, None)
    other = api.post("/patients", user=admin, json={"full_name": "Inès Caller", "email": ""})
    assert other.status_code == 201
    assert other.get_json()["email"] is None
    path = f"/patients/{body['id']}"
    assert api.get(path, user=admin).get_json()["email"] is None
    assert api.get("/patients?q=12 34", user=admin).get_json()["items"][0]["email"] is None
    assert api.get(f"{path}/export", user=admin).get_json()["profile"]["email"] is None
    assert db.session.scalar(select(Message)) is None
    added = api.patch(path, user=admin, json={"email": "Noe@Example.org"})
    assert added.status_code == 200
    assert added.get_json()["email"] == "noe@example.org"
    [message] = db.session.scalars(select(Message)).all()
    assert (message.kind, message.to_address) == ("activation", "noe@example.org")
    removed = api.patch(path, user=admin, json={"email": ""})
    assert list(assert_problem(removed, 400, "validation_failed")["errors"]) == ["email"]


def test_a_patient_cannot_change_their_email_over_the_api(api, patient):
    response = api.patch(
        f"/patients/{patient.id}", user=patient.user, json={"email": "new@example.org"}
    )
    assert response.status_code == 403


def test_the_openapi_document_allows_patients_without_an_email(api):
    schemas = api.get("/openapi.json").get_json()["components"]["schemas"]

    def allows_null(prop):
        return any(option.get("type") == "null" for option in prop.get("anyOf", []))

    assert allows_null(schemas["PatientOut"]["properties"]["email"])
    assert allows_null(schemas["CreatedPatientOut"]["properties"]["activation_url"])
    assert "email" not in schemas["PatientIn"].get("required", [])
    assert allows_null(schemas["PatientIn"]["properties"]["email"])
    assert "email" in schemas["PatientUpdate"]["properties"]
