"""Admins find patients, create them with a login, edit their record and place them in
doctors' care."""

import re
from datetime import date
from html import unescape

from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.directory.models import CareAssignment, Patient
from portal.messages import delivery


def assignments(db, patient):
    db.session.rollback()
    return set(
        db.session.scalars(
            select(CareAssignment.doctor_id).where(CareAssignment.patient_id == patient.id)
        )
    )


def test_the_list_searches_and_pages(as_admin, make_patient, make_user):
    for number in range(21):
        make_patient(user=make_user(full_name=f"Patient {number:02d}"))
    make_patient(user=make_user(full_name="Zacharie Roux"), phone="+33 6 11 22 33 44")
    page = as_admin.get("/admin/patients").text
    assert "22 patients" in page
    assert "Page 1 of 2" in page
    assert "Zacharie Roux" not in page
    assert "Zacharie Roux" in as_admin.get("/admin/patients?page=2").text
    found = as_admin.get("/admin/patients?q=11 22").text
    assert "1 patient" in found
    assert "Zacharie Roux" in found


def test_an_admin_creates_a_patient_with_a_login(as_admin, client, db):
    response = as_admin.post(
        "/admin/patients/new",
        data={
            "email": "lea@example.org",
            "full_name": "Léa Petit",
            "phone": "0102030405",
            "date_of_birth": "1990-05-17",
            "blood_group": "AB-",
            "allergies": "Penicillin",
        },
    )
    assert response.status_code == 200
    assert "The record of Léa Petit is created" in response.text
    patient = db.session.scalar(select(Patient))
    assert (patient.user.email, patient.user.role) == ("lea@example.org", "patient")
    assert (patient.date_of_birth, patient.blood_group) == (date(1990, 5, 17), "AB-")
    url = unescape(re.search(r'id="activation-url" value="([^"]+)"', response.text).group(1))
    as_admin.post("/logout")
    page = client.get(url.removeprefix("http://localhost"), follow_redirects=True)
    assert page.status_code == 200


def test_a_taken_email_creates_nothing(as_admin, db, make_user):
    make_user(email="lea@example.org")
    response = as_admin.post(
        "/admin/patients/new", data={"email": "LEA@example.org", "full_name": "Léa Petit"}
    )
    assert response.status_code == 422
    assert "An account with this email already exists." in response.text
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Patient)) == 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 2  # admin + taken


def test_editing_contact_and_medical_fields(as_admin, db, patient):
    page = as_admin.get(f"/admin/patients/{patient.id}")
    assert patient.user.email in page.text
    response = as_admin.post(
        f"/admin/patients/{patient.id}",
        data={
            "full_name": "Paula Patient",
            "phone": "0607080910",
            "date_of_birth": "1980-01-02",
            "blood_group": "O-",
            "allergies": "Latex",
            "emergency_contact": "Marc, 0611111111",
        },
    )
    assert response.status_code == 303
    db.session.rollback()
    saved = db.session.get(Patient, patient.id)
    assert (saved.user.full_name, saved.blood_group, saved.allergies) == (
        "Paula Patient",
        "O-",
        "Latex",
    )
    medical = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "patient.medical_changed")
    )
    assert medical.changes == {
        "fields": ["allergies", "blood_group", "date_of_birth", "emergency_contact"]
    }


def test_a_future_birth_date_is_refused(as_admin, db, patient):
    response = as_admin.post(
        f"/admin/patients/{patient.id}",
        data={"full_name": "Paula Patient", "date_of_birth": "2999-01-01"},
    )
    assert response.status_code == 422
    assert "Enter a date of birth in the past." in response.text
    db.session.rollback()
    assert db.session.get(Patient, patient.id).date_of_birth is None


def test_assigning_and_removing_doctors_through_htmx(htmx, as_admin, db, patient, make_doctor):
    doctor = make_doctor()
    page = as_admin.get(f"/admin/patients/{patient.id}")
    assert f'<option value="{doctor.id}">' in page.text
    response = htmx.post(f"/admin/patients/{patient.id}/doctors", data={"doctor_id": doctor.id})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.strip().startswith('<section id="care-team"')
    assert f"Remove {doctor.user.full_name}" in response.text
    assert "is in the care of" in response.text  # the flash, out of band
    assert assignments(db, patient) == {doctor.id}
    response = htmx.post(f"/admin/patients/{patient.id}/doctors/{doctor.id}/remove")
    assert response.status_code == 200
    assert "No doctor yet." in response.text
    assert assignments(db, patient) == set()


def test_assigning_without_javascript_goes_back_to_the_patient(as_admin, db, patient, doctor):
    response = as_admin.post(f"/admin/patients/{patient.id}/doctors", data={"doctor_id": doctor.id})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/patients/{patient.id}#care-team"
    assert assignments(db, patient) == {doctor.id}


def test_assigning_an_unknown_or_inactive_doctor_is_refused(
    htmx, as_admin, db, patient, make_doctor
):
    gone = make_doctor(is_active=False)
    for doctor_id in ("", "999999", str(gone.id)):
        response = htmx.post(f"/admin/patients/{patient.id}/doctors", data={"doctor_id": doctor_id})
        assert response.status_code == 422
        assert "Choose a doctor from the list." in response.text
    assert assignments(db, patient) == set()


def no_email_patient(make_patient, make_user, **extra):
    return make_patient(
        user=make_user(full_name="Noé Caller", email=None, password_hash=None),
        phone="+33 6 11 22 33 44",
        **extra,
    )


def test_a_patient_without_an_email_shows_no_email_and_is_found_by_name_or_phone(
    as_admin, make_patient, make_user
):
    caller = no_email_patient(make_patient, make_user)
    for query in ("caller", "11 22"):
        page = as_admin.get("/admin/patients", query_string={"q": query}).text
        assert "1 patient" in page
        row = re.search(rf'<tr id="patient-{caller.id}">.*?</tr>', page, re.S).group(0)
        assert "No email" in row
        assert "None" not in row
    record = as_admin.get(f"/admin/patients/{caller.id}").text
    assert re.search(r'id="patient-contact">No email · \+33 6 11 22 33 44<', record)
    assert 'label for="email">Email (optional)' in record
    french = as_admin.get(f"/admin/patients/{caller.id}", headers={"Accept-Language": "fr"}).text
    assert "Pas d\u2019adresse e-mail" in french


def test_an_admin_adds_the_email_on_the_record_and_the_link_is_sent_to_it(
    as_admin, client, db, make_patient, make_user, mail_outbox
):
    caller = no_email_patient(make_patient, make_user)
    response = as_admin.post(
        f"/admin/patients/{caller.id}",
        data={"full_name": "Noé Caller", "email": "Noe@Example.org", "phone": "+33 6"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "A one-time link to set a password is on its way to noe@example.org." in response.text
    assert "noe@example.org · +33 6" in response.text
    delivery.tick()
    [message] = mail_outbox
    assert message.to == ["noe@example.org"]
    link = re.search(r"https?://\S+/activate/[\w-]+", message.body).group(0)
    as_admin.post("/logout")
    page = client.get(link.removeprefix("http://localhost"), follow_redirects=True)
    assert page.status_code == 200
    assert "noe@example.org" in page.text


def test_an_email_cannot_be_taken_from_another_or_removed(
    as_admin, db, patient, make_patient, make_user
):
    caller = no_email_patient(make_patient, make_user)
    response = as_admin.post(
        f"/admin/patients/{caller.id}",
        data={"full_name": "Noé Caller", "email": patient.user.email.upper()},
    )
    assert response.status_code == 422
    assert "An account with this email already exists." in response.text
    response = as_admin.post(
        f"/admin/patients/{patient.id}", data={"full_name": patient.user.full_name, "email": ""}
    )
    assert response.status_code == 422
    assert "An email cannot be removed, only replaced by another." in response.text
    db.session.expire_all()
    assert db.session.get(Patient, caller.id).user.email is None


def test_an_admin_adds_a_patient_without_an_email(as_admin, db):
    response = as_admin.post(
        "/admin/patients/new", data={"full_name": "Noé Caller", "email": "", "phone": "+33 6"}
    )
    assert response.status_code == 303
    patient = db.session.scalar(select(Patient))
    assert response.headers["Location"].endswith(f"/admin/patients/{patient.id}")
    assert patient.user.email is None
    page = as_admin.get(response.headers["Location"]).text
    assert "cannot sign in until one is added here" in page
