"""Directory rules: departments, clinics, onboarding, patients and care teams."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.auth import services as auth
from portal.auth.errors import InvalidToken
from portal.auth.models import ActivationToken, Role, User
from portal.booking import services as booking
from portal.booking.models import Appointment, Status
from portal.care import services as care
from portal.directory import services
from portal.directory.models import Department, Doctor
from portal.errors import NotAllowed, NotFound, ValidationFailed
from portal.messages.models import Message

NOW = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def onboard(admin, clinic, departments, **overrides):
    values = {
        "email": "new.doctor@example.org",
        "full_name": "Nadia Ferrand",
        "clinic_id": clinic.id,
        "department_ids": [d.id for d in departments],
        "title": "Dr",
        "license_number": "FR-777",
        "consultation_fee": "45.5",
        "currency": "eur",
        "bio": "Hello",
        "translations": {"fr": {"bio": "Bonjour"}},
        "max_appointments_per_day": 12,
        "now": NOW,
    }
    values.update(overrides)
    return services.onboard_doctor(actor=admin, **values)


def test_departments_are_created_with_translations_and_unique_codes(db, admin):
    department = services.create_department(
        actor=admin,
        code="Cardio",
        name="Cardiology",
        translations={"fr": {"name": "Cardiologie", "description": "Le cœur"}},
    )
    assert department.code == "cardio"
    assert department.translated("name", "fr") == "Cardiologie"
    assert department.translated("name", "de") == "Cardiology"
    with pytest.raises(ValidationFailed) as duplicate:
        services.create_department(actor=admin, code="cardio", name="Again")
    assert "code" in duplicate.value.errors
    with pytest.raises(ValidationFailed) as bad:
        services.create_department(
            actor=admin, code="x y", name="", translations={"de": {"name": "Kardiologie"}}
        )
    assert set(bad.value.errors) == {"code", "name", "translations"}


def test_only_admins_manage_the_directory(db, make_user, make_clinic):
    for role in (Role.DOCTOR, Role.PATIENT):
        user = make_user(role)
        with pytest.raises(NotAllowed):
            services.create_department(actor=user, code="derm", name="Dermatology")
        with pytest.raises(NotAllowed):
            services.create_clinic(
                actor=user, name="X", city="Paris", country="FR", timezone="Europe/Paris"
            )
    assert count(db, Department) == 0


def test_a_clinic_needs_a_real_time_zone(db, admin):
    with pytest.raises(ValidationFailed) as refused:
        services.create_clinic(
            actor=admin, name="Nowhere", city="X", country="fr", timezone="Mars/Olympus"
        )
    assert set(refused.value.errors) == {"timezone"}
    clinic = services.create_clinic(
        actor=admin,
        name="Lord Howe Clinic",
        city="Lord Howe",
        country="au",
        timezone="Australia/Lord_Howe",
    )
    assert clinic.country == "AU"
    services.update_clinic(actor=admin, clinic=clinic, phone="+61 2 0000")
    assert (
        db.session.scalar(
            select(AuditEvent.action)
            .where(AuditEvent.entity_type == "clinic")
            .order_by(AuditEvent.id.desc())
        )
        == "clinic.updated"
    )


def test_onboarding_creates_the_account_the_profile_and_a_one_time_link(
    db, admin, make_clinic, make_department
):
    clinic, department = make_clinic(), make_department()
    doctor, token = onboard(admin, clinic, [department])
    db.session.commit()
    assert doctor.user.role == Role.DOCTOR
    assert doctor.user.password_hash is None
    assert (doctor.currency, str(doctor.consultation_fee)) == ("EUR", "45.50")
    assert [d.id for d in doctor.departments] == [department.id]
    assert auth.authenticate(email="new.doctor@example.org", password="anything-at-all") is None

    user = auth.activate_account(
        token=token, password="saffron-meadow-12", now=NOW + timedelta(days=6)
    )
    db.session.commit()
    assert auth.authenticate(email=user.email, password="saffron-meadow-12").id == user.id
    with pytest.raises(InvalidToken):
        auth.activate_account(token=token, password="another-pass-99", now=NOW)


def test_an_activation_link_expires_after_seven_days(db, admin, make_clinic, make_department):
    _doctor, token = onboard(admin, make_clinic(), [make_department()])
    with pytest.raises(InvalidToken):
        auth.activate_account(
            token=token, password="saffron-meadow-12", now=NOW + timedelta(days=7, seconds=1)
        )
    with pytest.raises(InvalidToken):
        auth.activate_account(token="made-up", password="saffron-meadow-12", now=NOW)


def test_a_weak_password_leaves_the_link_usable(db, admin, make_clinic, make_department):
    _doctor, token = onboard(admin, make_clinic(), [make_department()])
    with pytest.raises(ValidationFailed):
        auth.activate_account(token=token, password="password", now=NOW)
    assert auth.activate_account(token=token, password="saffron-meadow-12", now=NOW)


def test_onboarding_refuses_bad_input_and_creates_nothing(
    db, admin, make_clinic, make_department, make_doctor
):
    make_doctor(license_number="FR-777")
    users_before = count(db, User)
    with pytest.raises(ValidationFailed) as refused:
        onboard(
            admin,
            make_clinic(),
            [],
            email="nope",
            license_number="fr-777",
            currency="euro",
            experience_years=-1,
            max_appointments_per_day=0,
        )
    db.session.rollback()
    assert set(refused.value.errors) >= {
        "email",
        "department_ids",
        "license_number",
        "currency",
        "experience_years",
        "max_appointments_per_day",
    }
    assert count(db, User) == users_before


def test_doctors_edit_only_their_own_bio_and_availability(db, doctor, make_doctor):
    services.update_doctor(
        actor=doctor.user, doctor=doctor, bio="New bio", accepting_patients=False
    )
    assert (doctor.bio, doctor.accepting_patients) == ("New bio", False)
    with pytest.raises(NotAllowed):
        services.update_doctor(actor=doctor.user, doctor=doctor, consultation_fee="10")
    with pytest.raises(NotFound):
        services.update_doctor(actor=doctor.user, doctor=make_doctor(), bio="Mine now")


def test_deactivating_a_doctor_cancels_their_future_visits_with_the_reason(
    db, admin, doctor, patient
):
    past = Appointment(
        doctor=doctor,
        patient=patient,
        clinic=doctor.clinic,
        starts_at=NOW - timedelta(days=1),
        ends_at=NOW - timedelta(days=1) + timedelta(minutes=30),
        status=Status.COMPLETED,
    )
    future = Appointment(
        doctor=doctor,
        patient=patient,
        clinic=doctor.clinic,
        starts_at=NOW + timedelta(days=3),
        ends_at=NOW + timedelta(days=3, minutes=30),
    )
    db.session.add_all([past, future])
    db.session.commit()
    cancelled = booking.deactivate_doctor(actor=admin, doctor=doctor, reason="Retired", now=NOW)
    db.session.commit()
    assert cancelled == 1
    assert (future.status, future.cancel_reason) == (Status.CANCELLED, "Retired")
    assert past.status == Status.COMPLETED
    assert not doctor.user.is_active
    with pytest.raises(NotFound):
        services.get_doctor(doctor.id)
    assert services.search_doctors().total == 0


def test_search_filters_by_department_city_and_name(
    db, make_doctor, make_clinic, make_department, make_user
):
    paris = make_clinic(city="Paris")
    lyon = make_clinic(name="Clinique de Lyon", city="Lyon")
    cardio, derm = make_department(), make_department()
    amelie = make_doctor(
        user=make_user(Role.DOCTOR, full_name="Amélie Laurent"), clinic=paris, departments=[cardio]
    )
    make_doctor(
        user=make_user(Role.DOCTOR, full_name="Hugo Bernard"),
        clinic=lyon,
        departments=[cardio, derm],
    )
    assert [d.id for d in services.search_doctors(department_id=cardio.id, city="paris").items] == [
        amelie.id
    ]
    assert services.search_doctors(department_id=derm.id).total == 1
    assert [d.id for d in services.search_doctors(q="laur").items] == [amelie.id]
    assert services.search_doctors(q="%").total == 2


def test_patients_are_seen_by_admins_themselves_and_their_doctors_only(
    db, admin, make_doctor, make_patient
):
    mine, assigned, stranger = make_doctor(), make_doctor(), make_doctor()
    patient = make_patient(blood_group="O+")
    db.session.add(
        Appointment(
            doctor=mine,
            patient=patient,
            clinic=mine.clinic,
            starts_at=NOW,
            ends_at=NOW + timedelta(minutes=30),
        )
    )
    db.session.commit()
    services.assign_patient(actor=admin, doctor=assigned, patient=patient)
    services.assign_patient(actor=admin, doctor=assigned, patient=patient)
    db.session.commit()
    for actor in (admin, patient.user, mine.user, assigned.user):
        assert care.get_patient(actor=actor, patient_id=patient.id).blood_group == "O+"
    with pytest.raises(NotFound):
        care.get_patient(actor=stranger.user, patient_id=patient.id)
    assert [p.id for p in care.list_patients(actor=mine.user).items] == [patient.id]
    assert care.list_patients(actor=stranger.user).total == 0
    services.unassign_patient(actor=admin, doctor=assigned, patient=patient)
    db.session.commit()
    with pytest.raises(NotFound):
        care.get_patient(actor=assigned.user, patient_id=patient.id)


def test_patients_keep_their_medical_details_and_changes_are_audited_by_name(
    db, patient, make_patient
):
    services.update_patient(
        actor=patient.user,
        patient=patient,
        now=NOW,
        blood_group="AB-",
        allergies="Penicillin",
        date_of_birth=date(1990, 5, 1),
    )
    db.session.commit()
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "patient.medical_changed")
    )
    assert event.changes == {"fields": ["allergies", "blood_group", "date_of_birth"]}
    assert "Penicillin" not in str(event.changes)
    with pytest.raises(ValidationFailed) as refused:
        services.update_patient(
            actor=patient.user,
            patient=patient,
            now=NOW,
            blood_group="Z",
            date_of_birth=date(2031, 1, 1),
        )
    assert set(refused.value.errors) == {"blood_group", "date_of_birth"}
    with pytest.raises(NotFound):
        services.update_patient(actor=make_patient().user, patient=patient, now=NOW, allergies="")


def test_an_admin_creates_a_patient_with_a_login(db, admin):
    patient, token = services.create_patient(
        actor=admin,
        email="p@example.org",
        full_name="Paul Petit",
        now=NOW,
        phone="+33 6",
        blood_group="A+",
    )
    db.session.commit()
    assert patient.user.role == Role.PATIENT
    user = auth.activate_account(token=token, password="saffron-meadow-12", now=NOW)
    assert user.id == patient.user_id
    assert db.session.scalar(select(Doctor)) is None


def test_a_deactivated_account_cannot_be_activated(db, admin, make_clinic, make_department):
    doctor, token = onboard(admin, make_clinic(), [make_department()])
    booking.deactivate_doctor(actor=admin, doctor=doctor, reason="Left", now=NOW)
    db.session.commit()
    with pytest.raises(InvalidToken):
        auth.activate_account(token=token, password="saffron-meadow-12", now=NOW)
    db.session.rollback()
    assert db.session.get(User, doctor.user_id).password_hash is None


def test_a_doctor_account_without_a_profile_lists_no_patients(db, make_user, make_patient):
    make_patient()
    with pytest.raises(NotAllowed):
        care.list_patients(actor=make_user(Role.DOCTOR))


def test_the_name_search_does_not_match_the_title(db, make_doctor, make_user):
    make_doctor(user=make_user(Role.DOCTOR, full_name="Amélie Laurent"), title="Dr")
    assert services.search_doctors(q="dr").total == 0
    assert services.search_doctors(q="amélie").total == 1


def test_clinic_choices_list_every_active_clinic(db, make_clinic):
    for number in range(105):
        make_clinic(name=f"Clinic {number:03d}", city="Paris")
    make_clinic(name="Closed", city="Lyon", is_active=False)
    choices = services.clinic_choices()
    assert len(choices) == 105
    assert "Closed" not in {name for _id, name, _city in choices}


# Patients without an email (recorded on the phone or at the desk) ----------------------


def activation_links(db, to):
    """The one-time links to set a password written to this address."""
    texts = db.session.scalars(
        select(Message.text).where(Message.kind == "activation", Message.to_address == to)
    ).all()
    return [re.search(r"/activate/([\w-]+)", text).group(1) for text in texts]


def test_a_walk_in_patient_may_have_no_email_and_gets_no_link(db, admin):
    patient, token = services.create_walk_in_patient(
        actor=admin, full_name="Noé Caller", phone="+33 6 12 34 56 78", email="", now=NOW
    )
    other, _token = services.create_walk_in_patient(
        actor=admin, full_name="Inès Caller", phone="+33 6 00 00 00 01", email=None, now=NOW
    )
    db.session.commit()
    assert token is None
    assert patient.user.email is None
    assert other.user.email is None
    assert patient.user.password_hash is None
    assert count(db, ActivationToken) == 0
    assert count(db, Message) == 0
    # Nobody signs in without an address.
    assert auth.authenticate(email="", password="") is None


def test_a_walk_in_still_needs_a_name_and_a_phone_and_a_valid_email_if_any(db, admin):
    with pytest.raises(ValidationFailed) as refused:
        services.create_walk_in_patient(actor=admin, full_name=" ", phone="", email="", now=NOW)
    assert set(refused.value.errors) == {"full_name", "phone"}
    with pytest.raises(ValidationFailed) as refused:
        services.create_walk_in_patient(
            actor=admin, full_name="Noé", phone="+33 6", email="not-an-address", now=NOW
        )
    assert set(refused.value.errors) == {"email"}
    db.session.rollback()
    assert count(db, User) == 1  # the admin


def test_an_admin_creates_a_patient_without_an_email(db, admin):
    patient, token = services.create_patient(
        actor=admin, email=None, full_name="Paul Petit", now=NOW, phone="+33 6"
    )
    db.session.commit()
    assert token is None
    assert patient.user.email is None


def test_an_admin_adds_an_email_later_and_the_patient_sets_a_password_with_it(db, admin):
    patient, _token = services.create_walk_in_patient(
        actor=admin, full_name="Noé Caller", phone="+33 6 12 34 56 78", now=NOW
    )
    db.session.commit()
    services.update_patient(actor=admin, patient=patient, now=NOW, email=" Noe@Example.org ")
    db.session.commit()
    assert patient.user.email == "noe@example.org"
    [link] = activation_links(db, "noe@example.org")
    user = auth.activate_account(token=link, password="saffron-meadow-12", now=NOW)
    db.session.commit()
    assert user.id == patient.user_id
    assert auth.authenticate(email="noe@example.org", password="saffron-meadow-12") == user
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "patient.updated"))
    assert event.changes == {"email": [None, "noe@example.org"]}


def test_a_new_address_before_activation_replaces_the_link_and_after_sends_none(db, admin):
    patient, first = services.create_patient(
        actor=admin, email="wrong@example.org", full_name="Paul Petit", now=NOW
    )
    db.session.commit()
    services.update_patient(actor=admin, patient=patient, now=NOW, email="right@example.org")
    db.session.commit()
    with pytest.raises(InvalidToken):  # the link sent to the wrong address stops working
        auth.activate_account(token=first, password="saffron-meadow-12", now=NOW)
    db.session.rollback()
    [link] = activation_links(db, "right@example.org")
    auth.activate_account(token=link, password="saffron-meadow-12", now=NOW)
    db.session.commit()
    services.update_patient(actor=admin, patient=patient, now=NOW, email="new@example.org")
    db.session.commit()
    assert activation_links(db, "new@example.org") == []


def test_an_email_is_added_by_an_admin_only_unique_and_never_removed(
    db, admin, patient, make_patient
):
    caller, _token = services.create_walk_in_patient(
        actor=admin, full_name="Noé Caller", phone="+33 6", now=NOW
    )
    db.session.commit()
    with pytest.raises(NotAllowed):
        services.update_patient(
            actor=patient.user, patient=patient, now=NOW, email="mine@example.org"
        )
    with pytest.raises(ValidationFailed) as refused:
        services.update_patient(actor=admin, patient=caller, now=NOW, email=patient.user.email)
    assert refused.value.errors["email"]
    with pytest.raises(ValidationFailed) as refused:
        services.update_patient(actor=admin, patient=patient, now=NOW, email="")
    assert refused.value.errors["email"]
    # Without an email, an empty one changes nothing.
    services.update_patient(actor=admin, patient=caller, now=NOW, email="", phone="+33 7")
    db.session.commit()
    assert caller.user.email is None
    assert caller.phone == "+33 7"
