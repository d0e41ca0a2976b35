"""Names refuse the invisible characters that change the direction of text (U+202A to
U+202E, U+2066 to U+2069): in a name they would make it read differently on every page
and list where it appears ("Trojan Source"). The same rule on the pages and in the API."""

import re

import pytest
from sqlalchemy import select

from portal.auth.models import User
from portal.directory.models import Clinic, Department
from tests.api.conftest import Api, assert_problem

BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
MESSAGE = "invisible text-direction characters"
PASSWORD = "tulip-harbour-42"


@pytest.fixture
def api(app, client):
    return Api(app, client)


@pytest.mark.parametrize("mark", BIDI)
def test_sign_up_refuses_a_name_with_a_direction_character(client, db, mark):
    response = client.post(
        "/register",
        data={
            "full_name": f"Ada {mark}ecalevoL",
            "email": "ada@example.org",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 422
    assert MESSAGE in response.text, re.findall(r"error[^>]*>([^<]+)", response.text)
    assert db.session.scalar(select(User).where(User.email == "ada@example.org")) is None


def test_sign_up_in_the_api_refuses_it_too(api):
    response = api.post(
        "/auth/register",
        json={"email": "ada@example.org", "password": PASSWORD, "full_name": "Ada \u202eX"},
    )
    body = assert_problem(response, 400, "validation_failed")
    assert MESSAGE in body["errors"]["full_name"][0]


def test_a_name_in_an_ordinary_right_to_left_script_is_fine(client):
    response = client.post(
        "/register",
        data={
            "full_name": "ليلى حداد",
            "email": "layla@example.org",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 303


def test_changing_ones_own_name_in_the_api(api, patient):
    response = api.patch("/me", user=patient.user, json={"full_name": "Eve \u2067Mallory"})
    body = assert_problem(response, 400, "validation_failed")
    assert MESSAGE in body["errors"]["full_name"][0]


def _admin_page_refuses(client, url, data):
    response = client.post(url, data=data)
    assert response.status_code == 422, response.status_code
    assert MESSAGE in response.text, re.findall(r"error[^>]*>([^<]+)", response.text)


def test_admin_pages_refuse_it_for_doctors_patients_departments_and_clinics(
    auth, client, db, admin, make_clinic, make_department
):
    clinic = make_clinic()
    department = make_department()
    auth.login(admin)
    _admin_page_refuses(
        client,
        "/admin/doctors/new",
        {
            "email": "new.doctor@example.org",
            "full_name": "Nadia \u202eNew",
            "clinic_id": clinic.id,
            "department_ids": [department.id],
            "title": "Dr",
            "license_number": "LIC-NEW-1",
            "experience_years": "4",
            "consultation_fee": "35.00",
            "currency": "EUR",
        },
    )
    _admin_page_refuses(
        client,
        "/admin/patients/new",
        {"email": "new.patient@example.org", "full_name": "Paul \u2066Patient"},
    )
    _admin_page_refuses(client, "/admin/departments", {"code": "heart", "name": "Heart\u202d"})
    _admin_page_refuses(
        client,
        "/admin/departments",
        {"code": "heart", "name": "Heart", "name_fr": "C\u202eœur"},
    )
    _admin_page_refuses(
        client,
        "/admin/clinics/new",
        {"name": "Clinique \u202eNord", "city": "Lille", "country": "FR", "timezone": "UTC"},
    )
    db.session.rollback()
    assert db.session.scalars(select(Department).where(Department.code == "heart")).all() == []
    assert len(db.session.scalars(select(Clinic)).all()) == 1


def test_the_api_refuses_it_for_records_too(api, admin, make_clinic, patient):
    clinic = make_clinic()
    responses = {
        "department": api.post(
            "/departments", user=admin, json={"code": "heart", "name": "He\u202eart"}
        ),
        "clinic": api.patch(f"/clinics/{clinic.id}", user=admin, json={"name": "\u2068Nord"}),
        "patient": api.patch(
            f"/patients/{patient.id}", user=admin, json={"full_name": "Paul \u202bP"}
        ),
    }
    for name, response in responses.items():
        assert response.status_code == 400, name
        assert MESSAGE in str(response.json["errors"]), name
