"""The directory's pages: find a doctor, departments, clinics, my profile, my patients."""

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from portal.auth.models import Role
from portal.booking import services as booking
from portal.booking.models import Appointment, Status
from portal.db import utcnow
from portal.directory.models import CareAssignment, Patient
from portal.scheduling.models import TimeOff
from tests.conftest import SUITE_NOW

HTMX = {"HX-Request": "true"}


def row(page, doctor):
    """The markup of one doctor's result row."""
    start = page.find(f'<li class="doctor-card" id="doctor-{doctor.id}">')
    if start < 0:
        return None
    end = page.find('<li class="doctor-card"', start + 1)
    return page[start:end] if end > 0 else page[start:]


def named(make_doctor, make_user, name, **overrides):
    return make_doctor(user=make_user(Role.DOCTOR, full_name=name), **overrides)


def first_free_slot(doctor):
    now = utcnow()
    today = now.astimezone(ZoneInfo(doctor.clinic.timezone)).date()
    slots = booking.slots_for(
        doctor=doctor, first_day=today, last_day=today + timedelta(days=13), now=now
    )
    return slots[0] if slots else None


def book(db, doctor, patient, slot, status=Status.CONFIRMED):
    appointment = Appointment(
        doctor=doctor,
        patient=patient,
        clinic=doctor.clinic,
        starts_at=slot.start,
        ends_at=slot.end,
        status=status,
        reason="Check-up",
    )
    db.session.add(appointment)
    db.session.commit()
    return appointment


# Find a doctor ------------------------------------------------------------------------


@pytest.fixture
def town(make_clinic, make_department, make_doctor, make_user):
    """Two departments, two cities, three doctors."""
    paris = make_clinic(name="Clinique du Parc", city="Paris")
    lyon = make_clinic(name="Centre Bellecour", city="Lyon", timezone="Europe/Paris")
    cardio = make_department(code="cardio", name="Cardiology")
    skin = make_department(code="derma", name="Dermatology")
    return {
        "paris": paris,
        "lyon": lyon,
        "cardio": cardio,
        "skin": skin,
        "amelie": named(
            make_doctor, make_user, "Amélie Laurent", clinic=paris, departments=[cardio]
        ),
        "hugo": named(make_doctor, make_user, "Hugo Bernard", clinic=lyon, departments=[cardio]),
        "chloe": named(make_doctor, make_user, "Chloé Petit", clinic=paris, departments=[skin]),
    }


def test_the_page_is_public_and_lists_every_active_doctor(client, town):
    page = client.get("/find")
    assert page.status_code == 200
    assert "<html" in page.text
    for name in ("Amélie Laurent", "Hugo Bernard", "Chloé Petit"):
        assert name in page.text
    assert "3 doctors found." in page.text
    # Every control has a label, and the count is announced.
    for control in ("department", "clinic", "city", "q"):
        assert f'<label for="{control}">' in page.text
    assert 'id="doctor-count" class="result-count" role="status" aria-live="polite"' in page.text


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("department={cardio}", {"amelie", "hugo"}),
        ("clinic={lyon}", {"hugo"}),
        ("city=Paris", {"amelie", "chloe"}),
        ("q=laur", {"amelie"}),
        ("department={cardio}&city=Paris", {"amelie"}),
        ("department={skin}&city=Lyon", set()),
    ],
)
def test_filters_narrow_the_results(client, town, query, shown):
    query = query.format(**{key: getattr(value, "id", None) for key, value in town.items()})
    page = client.get(f"/find?{query}").text
    for key in ("amelie", "hugo", "chloe"):
        assert (row(page, town[key]) is not None) == (key in shown), key
    if not shown:
        assert "No doctor matches your search." in page


def test_the_chosen_filters_stay_selected(client, town):
    page = client.get(f"/find?department={town['cardio'].id}&city=Lyon&q=hugo").text
    assert f'<option selected value="{town["cardio"].id}">Cardiology</option>' in page
    assert '<option selected value="Lyon">Lyon</option>' in page
    assert 'value="hugo"' in page


def test_unknown_filter_values_are_ignored(client, town):
    page = client.get("/find?department=999&clinic=abc&city=Atlantis")
    assert page.status_code == 200
    assert "3 doctors found." in page.text


def test_the_form_updates_the_results_with_htmx_and_works_without(client, town):
    page = client.get("/find").text
    form = re.search(r"<search>\s*(<form[^>]*>)", page, re.S).group(1)
    assert 'method="get"' in form
    assert 'action="/find"' in form
    assert 'hx-get="/find"' in form
    assert 'hx-target="#doctor-results"' in form
    assert 'hx-push-url="true"' in form
    assert "from:input[name=q]" in form
    assert "change from:select" in form
    assert '<button type="submit">' in page


def test_an_htmx_request_gets_the_results_and_the_count_only(htmx, town):
    response = htmx.get("/find?city=Paris")
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "HX-Request" in response.headers["Vary"]
    assert response.text.lstrip().startswith('<section id="doctor-results"')
    assert 'action="/find"' not in response.text  # the results, not the filters
    assert '<p id="doctor-count" class="result-count" hx-swap-oob="innerHTML">' in response.text
    assert "2 doctors found." in response.text
    assert "Hugo Bernard" not in response.text


def test_a_boosted_or_history_restore_request_gets_the_whole_page(client, town):
    for header in ("HX-Boosted", "HX-History-Restore-Request"):
        response = client.get("/find", headers={**HTMX, header: "true"})
        assert "<html" in response.text
        assert "HX-Request" in response.headers["Vary"]


def test_pages_of_results_keep_the_filters(client, htmx, make_clinic, make_doctor, make_user):
    paris = make_clinic(city="Paris")
    lyon = make_clinic(city="Lyon")
    for number in range(25):
        named(make_doctor, make_user, f"Paris Doctor {number:02d}", clinic=paris)
    named(make_doctor, make_user, "Lyon Doctor", clinic=lyon)
    first = client.get("/find?city=Paris&q=doctor").text
    assert "25 doctors found." in first
    assert "Page 1 of 2" in first
    assert first.count('class="doctor-card"') == 20
    link = re.search(r'<a href="([^"]+)" rel="next" hx-get="([^"]+)"', first)
    assert link.group(1) == link.group(2)
    assert "city=Paris" in link.group(1)
    assert "q=doctor" in link.group(1)
    assert "page=2" in link.group(1)
    second = htmx.get(link.group(1).replace("&amp;", "&"))
    assert "<html" not in second.text
    assert second.text.count('class="doctor-card"') == 5
    assert "Paris Doctor 24" in second.text
    assert "Lyon Doctor" not in second.text
    assert 'rel="prev"' in second.text
    assert 'hx-push-url="true"' in second.text


def test_inactive_doctors_clinics_and_departments_are_hidden(
    client, db, make_clinic, make_department, make_doctor, make_user
):
    open_clinic = make_clinic(name="Open Clinic", city="Paris")
    closed_clinic = make_clinic(name="Closed Clinic", city="Nantes", is_active=False)
    closed_department = make_department(name="Closed Department", is_active=False)
    shown = named(make_doctor, make_user, "Shown Doctor", clinic=open_clinic)
    gone = named(make_doctor, make_user, "Gone Doctor", clinic=open_clinic, is_active=False)
    moved = named(make_doctor, make_user, "Closed Clinic Doctor", clinic=closed_clinic)
    page = client.get("/find").text
    assert row(page, shown) is not None
    assert row(page, gone) is None
    assert row(page, moved) is None
    assert "Closed Clinic" not in page
    assert "Nantes" not in page
    assert "Closed Department" not in page
    assert client.get(f"/clinics/{closed_clinic.id}").status_code == 404
    assert client.get(f"/departments/{closed_department.id}").status_code == 404
    assert client.get("/departments/9999").status_code == 404


def test_each_result_shows_the_next_free_time_in_the_clinic_zone(
    client, db, make_clinic, make_doctor, make_user
):
    tokyo = make_clinic(name="Tokyo Clinic", city="Tokyo", country="JP", timezone="Asia/Tokyo")
    doctor = named(make_doctor, make_user, "Kenji Sato", clinic=tokyo)
    slot = first_free_slot(doctor)
    local = slot.start.astimezone(ZoneInfo("Asia/Tokyo"))
    html = row(client.get("/find").text, doctor)
    assert "Next free times (Tokyo time):" in html
    assert f"?day={slot.local_date.isoformat()}" in html
    assert f"{local.hour % 12 or 12}:{local.minute:02d}" in html
    assert "Asia/Tokyo" not in html
    assert f'href="/doctors/{doctor.id}"' in html


def test_the_next_free_time_skips_booked_slots_and_time_off(
    client, db, make_doctor, make_user, patient
):
    doctor = named(make_doctor, make_user, "Busy Doctor")
    taken = first_free_slot(doctor)
    book(db, doctor, patient, taken)
    second = first_free_slot(doctor)
    assert second.start > taken.start
    html = row(client.get("/find").text, doctor)
    assert f"?day={second.local_date.isoformat()}" in html
    local = second.start.astimezone(ZoneInfo(doctor.clinic.timezone))
    assert f"{local.hour % 12 or 12}:{local.minute:02d}" in html

    now = utcnow()
    db.session.add(
        TimeOff(doctor=doctor, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=20))
    )
    db.session.commit()
    html = row(client.get("/find").text, doctor)
    assert "No free time in the next two weeks." in html
    assert "Next free time:" not in html


def test_a_doctor_away_for_weeks_has_no_free_time(client, db, make_doctor, make_user):
    doctor = named(make_doctor, make_user, "Away Doctor")
    db.session.add(
        TimeOff(
            doctor_id=doctor.id,
            starts_at=utcnow() - timedelta(days=1),
            ends_at=utcnow() + timedelta(days=20),
        )
    )
    db.session.commit()
    html = row(client.get("/find").text, doctor)
    assert "No free time in the next two weeks." in html


def test_a_doctor_without_hours_is_not_listed(client, make_doctor, make_user):
    named(make_doctor, make_user, "Idle Doctor", hours=False)
    assert "Idle Doctor" not in client.get("/find").text


def test_a_doctor_not_taking_patients_says_so(client, make_doctor, make_user):
    doctor = named(make_doctor, make_user, "Full Doctor", accepting_patients=False)
    html = row(client.get("/find").text, doctor)
    assert "Not taking new appointments at the moment." in html
    assert "Next free time:" not in html


def test_departments_show_in_the_visitors_language(client, town):
    page = client.get("/find", headers={"Accept-Language": "fr-FR,fr;q=0.9"}).text
    assert '<html lang="fr">' in page
    cardio = town["cardio"].translations["fr"]["name"]  # the factory's French name
    assert f'<option value="{town["cardio"].id}">{cardio}</option>' in page
    assert f'<a href="/departments/{town["cardio"].id}">{cardio}</a>' in row(page, town["amelie"])
    assert "Dermatology" not in page
    english = client.get("/find", headers={"Accept-Language": "en"}).text
    assert "Dermatology" in english
    assert "Spécialité" not in english


# Departments and clinics --------------------------------------------------------------


def test_a_department_page_lists_its_doctors_in_the_visitors_language(
    client, make_department, make_doctor, make_user
):
    department = make_department(
        name="Cardiology",
        description="Heart and vessels.",
        translations={"fr": {"name": "Cardiologie", "description": "Le cœur et les vaisseaux."}},
    )
    inside = named(make_doctor, make_user, "Inside Doctor", departments=[department])
    outside = named(make_doctor, make_user, "Outside Doctor")
    page = client.get(f"/departments/{department.id}").text
    assert "<h1>Cardiology</h1>" in page
    assert "Heart and vessels." in page
    assert row(page, inside) is not None
    assert row(page, outside) is None
    assert "1 doctor found." in page
    french = client.get(f"/departments/{department.id}", headers={"Accept-Language": "fr"}).text
    assert "<h1>Cardiologie</h1>" in french
    assert "Le cœur et les vaisseaux." in french


def test_a_clinic_page_lists_its_doctors(client, htmx, make_clinic, make_doctor, make_user):
    clinic = make_clinic(name="Clinique des Lilas", city="Lyon", address="3 rue Vaubecour")
    other = make_clinic(name="Elsewhere")
    inside = named(make_doctor, make_user, "Lilas Doctor", clinic=clinic)
    outside = named(make_doctor, make_user, "Elsewhere Doctor", clinic=other)
    page = client.get(f"/clinics/{clinic.id}").text
    assert "<h1>Clinique des Lilas</h1>" in page
    assert "3 rue Vaubecour" in page
    assert row(page, inside) is not None
    assert row(page, outside) is None
    partial = htmx.get(f"/clinics/{clinic.id}?page=1")
    assert "<html" not in partial.text
    assert "HX-Request" in partial.headers["Vary"]


def test_pages_of_a_department_keep_its_address(client, make_department, make_doctor, make_user):
    department = make_department()
    for number in range(21):
        named(
            make_doctor,
            make_user,
            f"Dept Doctor {number:02d}",
            departments=[department],
        )
    page = client.get(f"/departments/{department.id}").text
    assert f'href="/departments/{department.id}?page=2"' in page


def test_home_tiles_and_the_doctor_page_link_to_the_directory(client, town):
    home = client.get("/").text
    assert f'href="/departments/{town["cardio"].id}"' in home
    assert 'href="/find"' in home
    profile = client.get(f"/doctors/{town['amelie'].id}").text
    assert f'href="/departments/{town["cardio"].id}"' in profile
    assert f'href="/clinics/{town["paris"].id}"' in profile


def test_the_find_page_runs_as_many_queries_for_5_doctors_as_for_60(
    app, client, db, make_clinic, make_department, make_doctor, make_user, make_patient
):
    clinics = [make_clinic(city=city) for city in ("Paris", "Lyon", "Lille")]
    departments = [make_department() for _ in range(3)]
    patient = make_patient()

    def add_doctors(count, start):
        for number in range(start, start + count):
            doctor = named(
                make_doctor,
                make_user,
                f"Counted Doctor {number:03d}",
                clinic=clinics[number % 3],
                departments=departments[: number % 3 + 1],
            )
            slot = first_free_slot(doctor)
            book(db, doctor, patient, slot)
            now = utcnow()
            db.session.add(
                TimeOff(
                    doctor=doctor,
                    starts_at=now + timedelta(days=3),
                    ends_at=now + timedelta(days=4),
                )
            )
            db.session.commit()

    def statements(url):
        seen = []

        def count(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        client.get(url)  # warm up
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            response = client.get(url)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert response.status_code == 200
        return seen

    urls = ["/find", "/find?city=Paris", f"/departments/{departments[0].id}"]
    add_doctors(5, 0)
    small = {url: statements(url) for url in urls}
    add_doctors(55, 5)
    assert client.get("/find").text.count('class="doctor-card"') == 20
    large = {url: statements(url) for url in urls}
    for url in urls:
        assert len(small[url]) == len(large[url]), url
    assert len(small["/find"]) <= 12


# My profile ---------------------------------------------------------------------------


def profile_data(**overrides):
    data = {
        "phone": "+33 6 12 34 56 78",
        "date_of_birth": "1980-04-12",
        "blood_group": "O+",
        "allergies": "Penicillin",
        "emergency_contact": "Marc Durand, +33 6 98 76 54 32",
    }
    data.update(overrides)
    return data


def reloaded(db, patient):
    db.session.expire_all()
    return db.session.get(Patient, patient.id)


def test_a_patient_sees_and_saves_their_profile(auth, client, db, patient):
    auth.login(patient.user)
    form = client.get("/profile")
    assert form.status_code == 200
    assert 'type="date"' in form.text
    assert '<option value="">Not known</option>' in form.text
    for label in ("Phone", "Date of birth", "Blood group", "Allergies", "Emergency contact"):
        assert f">{label}</label>" in form.text
    response = client.post("/profile", data=profile_data())
    assert response.status_code == 303
    assert response.headers["Location"] == "/profile"
    saved = reloaded(db, patient)
    assert saved.phone == "+33 6 12 34 56 78"
    assert saved.date_of_birth == date(1980, 4, 12)
    assert saved.blood_group == "O+"
    assert saved.allergies == "Penicillin"
    assert saved.emergency_contact == "Marc Durand, +33 6 98 76 54 32"
    page = client.get("/profile").text
    assert "Your profile is saved." in page
    assert '<option selected value="O+">O+</option>' in page
    assert 'value="1980-04-12"' in page


def test_a_patient_can_clear_the_blood_group_and_date(auth, client, db, make_patient):
    patient = make_patient(blood_group="A+", date_of_birth=date(1990, 1, 1))
    auth.login(patient.user)
    response = client.post("/profile", data=profile_data(blood_group="", date_of_birth=""))
    assert response.status_code == 303
    saved = reloaded(db, patient)
    assert saved.blood_group is None
    assert saved.date_of_birth is None


def test_a_patient_turns_reminders_off_in_their_profile(auth, client, db, patient):
    auth.login(patient.user)
    page = client.get("/profile").text
    assert "Email me a reminder before each visit" in page
    assert "checked" in page
    response = client.post("/profile/reminders", data={})
    assert response.status_code == 303
    page = client.get("/profile").text
    assert "Reminders are off." in page
    assert reloaded(db, patient).user.notify_reminders is False
    client.post("/profile/reminders", data={"notify_reminders": "y"})
    assert reloaded(db, patient).user.notify_reminders is True


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("blood_group", "Z+", "Choose a blood group from the list."),
        ("date_of_birth", (SUITE_NOW.date() + timedelta(days=30)).isoformat(), "in the past"),
        ("date_of_birth", "12/04/1980x", "Not a valid date value."),
        ("phone", "1" * 41, "Use at most 40 characters."),
    ],
)
def test_bad_profile_input_is_refused_inline_and_changes_nothing(
    auth, client, db, make_patient, field, value, message
):
    patient = make_patient(phone="01 23", blood_group="B-")
    auth.login(patient.user)
    response = client.post("/profile", data=profile_data(**{field: value}))
    assert response.status_code == 422
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert f'id="{field}-error"' in response.text
    saved = reloaded(db, patient)
    assert saved.phone == "01 23"
    assert saved.blood_group == "B-"
    assert saved.date_of_birth is None


def test_the_profile_shows_the_patients_doctors(auth, client, db, make_doctor, make_user, patient):
    mine = named(make_doctor, make_user, "Assigned Doctor")
    named(make_doctor, make_user, "Someone Else")
    db.session.add(CareAssignment(doctor_id=mine.id, patient_id=patient.id))
    db.session.commit()
    auth.login(patient.user)
    page = client.get("/profile").text
    assert "Assigned Doctor" in page
    assert f'href="/doctors/{mine.id}"' in page
    assert "Someone Else" not in page


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.ADMIN])
def test_the_profile_is_for_patients_only(auth, client, make_user, make_doctor, role):
    user = make_user(role)
    if role == Role.DOCTOR:
        make_doctor(user=user)
    auth.login(user)
    assert client.get("/profile").status_code == 403
    assert client.post("/profile", data=profile_data()).status_code == 403


def test_the_profile_needs_a_sign_in(client):
    response = client.get("/profile")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# My patients --------------------------------------------------------------------------


@pytest.fixture
def practice(db, make_doctor, make_patient, make_user):
    """A doctor with one assigned patient and one who booked; another doctor's patient."""
    doctor = named(make_doctor, make_user, "Our Doctor")
    other = named(make_doctor, make_user, "Other Doctor")
    assigned = make_patient(
        user=make_user(Role.PATIENT, full_name="Alice Assigned"),
        blood_group="AB-",
        allergies="Latex",
        date_of_birth=date(1975, 6, 1),
        emergency_contact="Bob, 0600",
    )
    booked = make_patient(user=make_user(Role.PATIENT, full_name="Bruno Booked"))
    stranger = make_patient(user=make_user(Role.PATIENT, full_name="Carla Stranger"))
    db.session.add(CareAssignment(doctor_id=doctor.id, patient_id=assigned.id))
    db.session.commit()
    slot = first_free_slot(doctor)
    visit = book(db, doctor, booked, slot)
    book(db, other, stranger, first_free_slot(other))
    book(db, other, booked, first_free_slot(other))
    return {
        "doctor": doctor,
        "other": other,
        "assigned": assigned,
        "booked": booked,
        "stranger": stranger,
        "visit": visit,
    }


def test_a_doctor_sees_assigned_and_booked_patients_only(auth, client, practice):
    auth.login(practice["doctor"].user)
    page = client.get("/my-patients").text
    assert "Alice Assigned" in page
    assert "Bruno Booked" in page
    assert "Carla Stranger" not in page
    assert "2 patients." in page
    searched = client.get("/my-patients?q=alice").text
    assert "Alice Assigned" in searched
    assert "Bruno Booked" not in searched


def test_the_patient_search_answers_htmx_with_the_list(auth, client, practice):
    auth.login(practice["doctor"].user)
    response = client.get("/my-patients?q=bruno", headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.lstrip().startswith('<section id="patient-list"')
    assert "HX-Request" in response.headers["Vary"]
    assert "Bruno Booked" in response.text


def test_a_doctor_sees_a_patients_medical_details_and_visits_with_them(auth, client, practice):
    auth.login(practice["doctor"].user)
    page = client.get(f"/my-patients/{practice['assigned'].id}")
    assert page.status_code == 200
    for text in ("AB-", "Latex", "June 1, 1975", "Bob, 0600"):
        assert text in page.text
    assert "This patient has no appointments with you." in page.text
    booked = client.get(f"/my-patients/{practice['booked'].id}").text
    visit = practice["visit"]
    assert f'id="appointment-{visit.id}"' in booked
    assert booked.count('id="appointment-') == 1  # not the visit with the other doctor
    assert "Confirmed" in booked


def test_another_doctors_patient_is_not_found(auth, client, practice):
    auth.login(practice["doctor"].user)
    assert client.get(f"/my-patients/{practice['stranger'].id}").status_code == 404
    assert client.get("/my-patients/999999").status_code == 404


@pytest.mark.parametrize("url", ["/my-patients", "/my-patients/{assigned}"])
@pytest.mark.parametrize("role", [Role.PATIENT, Role.ADMIN])
def test_my_patients_is_for_doctors_only(auth, client, db, practice, make_user, role, url):
    user = practice["assigned"].user if role == Role.PATIENT else make_user(role)
    auth.login(user)
    response = client.get(url.format(assigned=practice["assigned"].id))
    assert response.status_code == 403


def test_the_navigation_links_each_role_to_its_pages(auth, client, practice, make_user):
    assert 'href="/find"' in client.get("/login").text
    auth.login(practice["doctor"].user)
    assert 'href="/my-patients"' in client.get("/doctor").text
    auth.logout()
    auth.login(practice["assigned"].user)
    page = client.get("/patient").text
    assert 'href="/profile"' in page
    assert 'href="/find"' in page


def test_the_next_free_time_may_be_more_than_a_few_days_ahead(client, db, make_doctor, make_user):
    doctor = named(make_doctor, make_user, "Away Doctor")
    now = utcnow()
    db.session.add(
        TimeOff(doctor=doctor, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=8))
    )
    db.session.commit()
    later = first_free_slot(doctor)
    assert later.start > now + timedelta(days=8)
    html = row(client.get("/find").text, doctor)
    assert f"?day={later.local_date.isoformat()}" in html


def statements_of(db, client, path):
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.text
    return len(statements)


@pytest.mark.parametrize("path", ["/find", "/api/v1/doctors?per_page=50"])
def test_a_page_of_doctors_costs_the_same_statements_whatever_its_size(
    client, db, make_doctor, make_user, make_department, make_clinic, path
):
    # One doctor away for a week, so next free times look beyond the first days.
    away = named(make_doctor, make_user, "Away Doctor", departments=[make_department()])
    now = utcnow()
    db.session.add(
        TimeOff(doctor=away, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=8))
    )
    db.session.commit()
    small = statements_of(db, client, path)
    tokyo = make_clinic(name="Tokyo Clinic", city="Tokyo", country="JP", timezone="Asia/Tokyo")
    for number in range(15):
        named(
            make_doctor,
            make_user,
            f"Doctor {number}",
            clinic=tokyo if number % 2 else None,
            departments=[make_department(), make_department()],
        )
    big = statements_of(db, client, path)
    # Never more; one fewer when the away doctor's free times are still kept.
    assert big <= small


def test_find_a_doctor_ignores_accents_and_case(client, db, make_doctor, make_user):
    named(make_doctor, make_user, "Amélie Lefèvre")
    named(make_doctor, make_user, "Hélène Çelik")
    named(make_doctor, make_user, "Bruno Martin")
    for query, found in (
        ("amelie", ["Amélie Lefèvre"]),
        ("AMÉLIE", ["Amélie Lefèvre"]),
        ("lefevre", ["Amélie Lefèvre"]),
        ("celik", ["Hélène Çelik"]),
        ("é", ["Amélie Lefèvre", "Hélène Çelik"]),
        ("martín", ["Bruno Martin"]),
    ):
        page = client.get("/find", query_string={"q": query}).text
        shown = re.findall(r'<a href="/doctors/\d+">Dr ([^<]+)</a>', page)
        assert shown == found, query


def test_a_renamed_doctor_is_found_by_the_new_name(client, db, make_doctor, make_user):
    doctor = named(make_doctor, make_user, "Camille Durand")
    doctor.user.full_name = "Camille Bérard"
    db.session.commit()
    page = client.get("/find", query_string={"q": "berard"}).text
    assert f'href="/doctors/{doctor.id}"' in page
    assert f'href="/doctors/{doctor.id}"' not in client.get("/find?q=durand").text
