"""Admins add, edit and deactivate clinics; the time zone must be an IANA name."""

from sqlalchemy import select

from portal.directory.models import Clinic

CLINIC = {
    "name": "Clinique Nord",
    "address": "1 rue du Nord",
    "city": "Lille",
    "postal_code": "59000",
    "country": "fr",
    "phone": "+33 3 20 00 00 00",
    "timezone": "Europe/Paris",
}


def clinics(db):
    db.session.rollback()
    return db.session.scalars(select(Clinic).order_by(Clinic.id)).all()


def test_the_form_offers_the_time_zones_as_a_searchable_list(as_admin):
    page = as_admin.get("/admin/clinics/new")
    assert 'list="time-zones"' in page.text
    assert '<datalist id="time-zones">' in page.text
    assert '<option value="America/New_York">' in page.text


def test_an_admin_adds_a_clinic(as_admin, db):
    response = as_admin.post("/admin/clinics/new", data=CLINIC)
    assert response.status_code == 303
    [clinic] = clinics(db)
    assert (clinic.name, clinic.country, clinic.timezone) == ("Clinique Nord", "FR", "Europe/Paris")
    listing = as_admin.get("/admin/clinics").text
    assert "Clinique Nord" in listing
    assert "Clinic Clinique Nord added." in listing


def test_a_bad_time_zone_is_refused_and_nothing_is_added(as_admin, db):
    response = as_admin.post("/admin/clinics/new", data={**CLINIC, "timezone": "Paris"})
    assert response.status_code == 422
    assert "Choose a time zone from the list, such as Europe/Paris." in response.text
    assert 'value="Paris"' in response.text
    assert clinics(db) == []


def test_a_bad_time_zone_leaves_an_edited_clinic_unchanged(as_admin, db, make_clinic):
    clinic = make_clinic(name="Clinique du Parc", timezone="Europe/Paris")
    response = as_admin.post(
        f"/admin/clinics/{clinic.id}/edit",
        data={**CLINIC, "name": "Renamed", "timezone": "Mars/Olympus_Mons"},
    )
    assert response.status_code == 422
    [saved] = clinics(db)
    assert (saved.name, saved.timezone) == ("Clinique du Parc", "Europe/Paris")


def test_editing_a_clinic_prefills_and_saves(as_admin, db, make_clinic):
    clinic = make_clinic(name="Clinique du Parc")
    page = as_admin.get(f"/admin/clinics/{clinic.id}/edit")
    assert 'value="Clinique du Parc"' in page.text
    response = as_admin.post(
        f"/admin/clinics/{clinic.id}/edit", data={**CLINIC, "timezone": "America/New_York"}
    )
    assert response.status_code == 303
    [saved] = clinics(db)
    assert (saved.name, saved.timezone) == ("Clinique Nord", "America/New_York")


def test_deactivate_and_reactivate(as_admin, db, make_clinic):
    clinic = make_clinic(name="Clinique du Parc")
    assert as_admin.post(f"/admin/clinics/{clinic.id}/deactivate").status_code == 303
    assert clinics(db)[0].is_active is False
    listing = as_admin.get("/admin/clinics").text
    assert "Inactive" in listing
    assert "Reactivate Clinique du Parc" in listing
    as_admin.post(f"/admin/clinics/{clinic.id}/reactivate")
    assert clinics(db)[0].is_active is True
