"""Admins onboard doctors in one form (account and profile), hand over the activation
link, edit doctors, and deactivate them (their future appointments are cancelled)."""

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.auth.models import ActivationToken, User
from portal.booking.models import Appointment, Status
from portal.directory.models import Doctor
from portal.messages.delivery import tick
from tests.admin.conftest import add_appointment, future_start


@pytest.fixture
def setup(make_clinic, make_department):
    clinic = make_clinic(name="Clinique du Parc")
    cardiology = make_department(code="cardiology", name="Cardiology")
    general = make_department(code="general", name="General practice")
    return clinic, cardiology, general


def onboarding(clinic, *departments, **extra):
    return {
        "email": "Nadia.New@Example.org",
        "full_name": "Nadia New",
        "clinic_id": clinic.id,
        "department_ids": [department.id for department in departments],
        "title": "Dr",
        "license_number": "LIC-NEW-1",
        "qualifications": "MD, Lyon",
        "experience_years": "12",
        "consultation_fee": "45.50",
        "currency": "eur",
        "bio": "Heart specialist.",
        "bio_fr": "Cardiologue.",
        "max_appointments_per_day": "16",
        "accepting_patients": "y",
        **extra,
    }


def count(db, model):
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def activation_url(page):
    match = re.search(r'id="activation-url" value="([^"]+)"', page)
    return unescape(match.group(1))


def test_the_form_offers_clinics_and_departments(as_admin, setup):
    page = as_admin.get("/admin/doctors/new").text
    assert "Clinique du Parc (Paris)" in page
    assert 'type="checkbox"' in page
    assert "General practice" in page
    assert "Biography (French)" in page


def test_onboarding_creates_the_account_and_profile_and_a_link_that_works(
    as_admin, client, db, setup
):
    clinic, cardiology, general = setup
    response = as_admin.post("/admin/doctors/new", data=onboarding(clinic, cardiology, general))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Nadia New is onboarded" in response.text
    doctor = db.session.scalar(select(Doctor))
    assert doctor.user.email == "nadia.new@example.org"
    assert doctor.user.role == "doctor"
    assert doctor.user.password_hash is None
    assert {d.code for d in doctor.departments} == {"cardiology", "general"}
    assert (doctor.consultation_fee, doctor.currency) == (Decimal("45.50"), "EUR")
    assert doctor.translations == {"fr": {"bio": "Cardiologue."}}
    assert doctor.max_appointments_per_day == 16
    url = activation_url(response.text)
    assert url.startswith("http://localhost/activate/")
    assert "It works once, until" in response.text
    assert "(UTC)" in response.text
    # The link opens the page where the doctor sets a password.
    as_admin.post("/logout")
    path = url.removeprefix("http://localhost")
    page = client.get(path, follow_redirects=True)
    assert page.status_code == 200
    assert "nadia.new@example.org" in page.text
    done = client.post(
        "/activate", data={"password": "lantern-orchard-77", "confirm": "lantern-orchard-77"}
    )
    assert done.status_code == 303
    assert client.get(path, follow_redirects=True).status_code == 400  # one time only


def test_onboarding_emails_the_activation_link(as_admin, db, setup, mail_outbox):
    clinic, cardiology, _general = setup
    response = as_admin.post("/admin/doctors/new", data=onboarding(clinic, cardiology))
    url = activation_url(response.text)
    assert "on its way to nadia.new@example.org" in response.text
    tick()
    [sent] = mail_outbox
    assert sent.to == ["nadia.new@example.org"]
    assert sent.subject == "Set your password for the clinic portal"
    assert url in sent.body
    [(html, _type)] = sent.alternatives
    assert url in unescape(html)


def test_the_activation_link_expires_in_seven_days(as_admin, db, setup):
    clinic, cardiology, _general = setup
    as_admin.post("/admin/doctors/new", data=onboarding(clinic, cardiology))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "doctor.onboarded"))
    token = db.session.scalar(select(ActivationToken))
    assert token.expires_at - token.created_at == pytest.approx(
        timedelta(days=7), abs=timedelta(seconds=5)
    )
    assert event.changes == {"email": "nadia.new@example.org"}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"email": "taken@example.org"}, "email", "An account with this email already exists."),
        (
            {"license_number": "lic-00001"},
            "license_number",
            "Another doctor has this licence number.",
        ),
        ({"clinic_id": ""}, "clinic_id", "Choose a clinic."),
        ({"department_ids": []}, "department_ids", "Choose at least one department."),
        ({"currency": "euros"}, "currency", "Use a three-letter currency code, such as EUR."),
        ({"experience_years": ""}, "experience_years", "This field is required."),
    ],
)
def test_a_bad_onboarding_is_refused_and_creates_nothing(
    as_admin, db, setup, make_doctor, make_user, change, field, message
):
    clinic, cardiology, _general = setup
    make_user(email="taken@example.org")
    make_doctor(clinic=clinic, license_number="LIC-00001")
    users, doctors = count(db, User), count(db, Doctor)
    data = onboarding(clinic, cardiology)
    data.update({key: value for key, value in change.items() if key in data})
    response = as_admin.post("/admin/doctors/new", data=data)
    assert response.status_code == 422
    assert message in response.text
    assert f'id="{field}-error"' in response.text
    assert 'value="Nadia New"' in response.text  # what was typed is kept
    assert (count(db, User), count(db, Doctor)) == (users, doctors)


def test_the_list_searches_and_pages(as_admin, make_doctor, make_user):
    for number in range(25):
        make_doctor(user=make_user("doctor", full_name=f"Doctor {number:02d}"))
    make_doctor(user=make_user("doctor", full_name="Zoé Martin", email="zoe@example.org"))
    first = as_admin.get("/admin/doctors").text
    assert "26 doctors" in first
    assert "Page 1 of 2" in first
    assert "Doctor 00" in first
    assert "Zoé Martin" not in first
    assert "Zoé Martin" in as_admin.get("/admin/doctors?page=2").text
    found = as_admin.get("/admin/doctors?q=zoe@").text
    assert "1 doctor" in found
    assert "Zoé Martin" in found
    assert "Doctor 00" not in found


def test_editing_a_doctor_saves_account_and_profile(as_admin, db, setup, make_doctor):
    clinic, cardiology, general = setup
    doctor = make_doctor(clinic=clinic, departments=[cardiology])
    page = as_admin.get(f"/admin/doctors/{doctor.id}/edit")
    assert f'value="{doctor.user.email}"' in page.text
    data = onboarding(clinic, general, email="renamed@example.org", full_name="Renée Renamed")
    response = as_admin.post(f"/admin/doctors/{doctor.id}/edit", data=data)
    assert response.status_code == 303
    db.session.rollback()
    saved = db.session.get(Doctor, doctor.id)
    assert (saved.user.email, saved.user.full_name) == ("renamed@example.org", "Renée Renamed")
    assert [d.code for d in saved.departments] == ["general"]
    assert saved.license_number == "LIC-NEW-1"


def test_deactivating_asks_first_then_cancels_future_appointments_with_the_reason(
    as_admin, db, doctor, make_patient
):
    patient = make_patient()
    first = add_appointment(db, doctor, patient, future_start(days=2))
    second = add_appointment(db, doctor, patient, future_start(days=4))
    past = add_appointment(db, doctor, patient, future_start(days=-3), status=Status.COMPLETED)
    confirm = as_admin.get(f"/admin/doctors/{doctor.id}/deactivate")
    assert "2 future appointments will be cancelled" in confirm.text
    response = as_admin.post(
        f"/admin/doctors/{doctor.id}/deactivate", data={"reason": "Moved to another city"}
    )
    assert response.status_code == 303
    listing = as_admin.get("/admin/doctors").text
    assert "is deactivated; 2 future appointments were cancelled." in listing
    db.session.rollback()
    states = {
        a.id: (a.status, a.cancel_reason)
        for a in db.session.scalars(select(Appointment).where(Appointment.doctor_id == doctor.id))
    }
    assert states[first.id] == (Status.CANCELLED, "Moved to another city")
    assert states[second.id] == (Status.CANCELLED, "Moved to another city")
    assert states[past.id] == (Status.COMPLETED, "")
    assert db.session.get(Doctor, doctor.id).is_active is False
    assert (
        "This doctor is already deactivated."
        in as_admin.get(f"/admin/doctors/{doctor.id}/deactivate").text
    )
