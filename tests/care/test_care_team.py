"""A doctor's patients: those in their care or with a visit that was not cancelled.

The same rule on the pages, in the API and in the lists."""

import pytest

from portal.booking.models import Status
from portal.directory.models import CareAssignment
from tests.api.conftest import Api


@pytest.fixture
def api(app, client):
    return Api(app, client)


def test_a_cancelled_only_booking_gives_no_access_to_the_record(
    client, auth, api, doctor, patient, make_visit
):
    make_visit(doctor, patient, status=Status.CANCELLED)
    auth.login(doctor.user)
    assert client.get(f"/my-patients/{patient.id}").status_code == 404
    assert patient.user.full_name not in client.get("/my-patients").text
    assert api.get(f"/patients/{patient.id}", user=doctor.user).status_code == 404
    listed = api.get("/patients", user=doctor.user).get_json()
    assert listed["total"] == 0


@pytest.mark.parametrize("status", [Status.CONFIRMED, Status.COMPLETED, Status.NO_SHOW])
def test_a_visit_that_was_not_cancelled_makes_a_patient_of_the_doctor(
    client, auth, api, doctor, patient, make_visit, status
):
    make_visit(doctor, patient, days=-3 if status != Status.CONFIRMED else 3, status=status)
    auth.login(doctor.user)
    assert client.get(f"/my-patients/{patient.id}").status_code == 200
    assert patient.user.full_name in client.get("/my-patients").text
    record = api.get(f"/patients/{patient.id}", user=doctor.user)
    assert record.status_code == 200
    assert "blood_group" in record.get_json()
    assert api.get("/patients", user=doctor.user).get_json()["total"] == 1


def test_a_patient_in_the_doctors_care_is_theirs_without_any_visit(
    db, client, auth, api, doctor, patient
):
    db.session.add(CareAssignment(doctor_id=doctor.id, patient_id=patient.id))
    db.session.commit()
    auth.login(doctor.user)
    assert client.get(f"/my-patients/{patient.id}").status_code == 200
    assert api.get(f"/patients/{patient.id}", user=doctor.user).status_code == 200


def test_a_cancelled_visit_beside_a_kept_one_still_counts_the_kept_one(
    client, auth, doctor, make_doctor, patient, make_visit
):
    other = make_doctor()
    make_visit(doctor, patient, status=Status.CANCELLED)
    make_visit(other, patient, days=4)
    auth.login(doctor.user)
    assert client.get(f"/my-patients/{patient.id}").status_code == 404
    auth.logout()
    auth.login(other.user)
    assert client.get(f"/my-patients/{patient.id}").status_code == 200


def test_a_doctor_sees_no_email_for_a_patient_recorded_without_one(
    client, auth, api, doctor, make_patient, make_user, make_visit
):
    caller = make_patient(
        user=make_user(full_name="Noé Caller", email=None, password_hash=None), phone="0611"
    )
    make_visit(doctor, caller)
    auth.login(doctor.user)
    listed = client.get("/my-patients", query_string={"q": "0611"}).text
    assert "No email, 0611" in listed
    record = client.get(f"/my-patients/{caller.id}").text
    assert "No email" in record
    assert "mailto:" not in record
    assert api.get(f"/patients/{caller.id}", user=doctor.user).get_json()["email"] is None
