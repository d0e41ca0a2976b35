"""What browsers and proxies may keep: nothing of an answer to a signed-in person or to
an API token (their health data, appointments, profile), and a Vary header that names
everything a shared answer depends on."""

from datetime import timedelta

import pytest

from portal.auth.models import Role
from portal.booking.models import Appointment
from portal.db import utcnow
from tests.api.conftest import Api


@pytest.fixture
def api(app, client):
    return Api(app, client)


@pytest.fixture
def visit(db, doctor, patient):
    start = (utcnow() + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
    appointment = Appointment(
        patient_id=patient.id,
        doctor_id=doctor.id,
        clinic_id=doctor.clinic_id,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        seat=1,
        reason="Back pain",
    )
    db.session.add(appointment)
    db.session.commit()
    return appointment


def _not_stored(response):
    assert response.status_code == 200, response.status_code
    assert "no-store" in response.headers.get("Cache-Control", ""), response.headers
    assert "Cookie" in response.headers.get("Vary", "")


def test_a_patients_pages_are_not_stored(client, auth, patient, visit):
    auth.login(patient.user)
    for path in ("/patient", "/profile", "/appointments", f"/appointments/{visit.id}", "/find"):
        _not_stored(client.get(path))


def test_a_doctors_pages_are_not_stored(client, auth, doctor, patient, visit):
    auth.login(doctor.user)
    for path in ("/doctor/schedule", "/my-patients", f"/my-patients/{patient.id}"):
        _not_stored(client.get(path))


def test_an_admins_pages_and_exports_are_not_stored(client, auth, admin, patient, visit):
    auth.login(admin)
    for path in (f"/admin/patients/{patient.id}", "/admin/appointments.csv", "/admin/audit"):
        _not_stored(client.get(path))


def test_api_answers_to_a_token_are_not_stored(api, patient, admin, visit):
    for user, path in (
        (patient.user, "/me"),
        (patient.user, "/appointments"),
        (patient.user, f"/patients/{patient.id}"),
        (admin, "/patients"),
        (admin, "/doctors"),  # admins see the doctors' email addresses
    ):
        response = api.get(path, user=user)
        assert response.status_code == 200, path
        assert "no-store" in response.headers["Cache-Control"], path
        assert "Authorization" in response.headers["Vary"], path


def test_public_pages_stay_cacheable_and_vary_on_language(client, doctor):
    for path in ("/", "/find", f"/doctors/{doctor.id}"):
        response = client.get(path)
        assert "no-store" not in response.headers.get("Cache-Control", ""), path
        assert "Accept-Language" in response.headers["Vary"], path


def test_the_api_directory_varies_on_language_and_token(api, doctor):
    response = api.get("/doctors")
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert {"Accept-Language", "Authorization"} <= set(
        part.strip() for part in response.headers["Vary"].split(",")
    )


def test_static_assets_are_not_touched(client, auth, patient):
    auth.login(patient.user)
    with client.get("/static/css/portal.css") as response:
        assert "no-store" not in response.headers.get("Cache-Control", "")


def test_a_page_answering_a_page_or_a_partial_varies_on_hx_request(client, doctor):
    # Without HX-Request the slots address answers the whole doctor page.
    response = client.get(f"/doctors/{doctor.id}/slots")
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]


def test_slot_answers_for_a_signed_in_patient_still_revalidate(client, auth, patient, doctor):
    auth.login(patient.user)
    headers = {"HX-Request": "true"}
    first = client.get(f"/doctors/{doctor.id}/slots", headers=headers)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "no-cache"
    again = client.get(
        f"/doctors/{doctor.id}/slots", headers={**headers, "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    assert "Cookie" in again.headers["Vary"]


def test_signed_in_role_does_not_matter_for_the_rule(client, auth, make_user):
    auth.login(make_user(Role.ADMIN))
    _not_stored(client.get("/admin/"))
