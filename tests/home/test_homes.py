"""What each role sees on its home page."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from portal.booking.models import Appointment, Status
from portal.db import utcnow


def book(db, doctor, patient, start, **extra):
    appointment = Appointment(
        doctor=doctor,
        patient=patient,
        clinic=doctor.clinic,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        reason=extra.pop("reason", "Check-up"),
        **extra,
    )
    db.session.add(appointment)
    db.session.commit()
    return appointment


def test_a_patient_sees_their_upcoming_appointments_only(auth, client, db, doctor, make_patient):
    me, other = make_patient(), make_patient()
    soon = utcnow().replace(microsecond=0) + timedelta(days=2)
    mine = book(db, doctor, me, soon)
    book(db, doctor, other, soon + timedelta(hours=1))
    book(db, doctor, me, soon - timedelta(days=5))
    book(db, doctor, me, soon + timedelta(hours=2), status=Status.CANCELLED)
    auth.login(me.user)
    page = client.get("/patient").text
    assert page.count('id="appointment-') == 1
    assert f'id="appointment-{mine.id}"' in page
    assert "(Paris time)" in page


def test_a_patient_finds_doctors_by_name(auth, client, make_doctor, make_user, patient):
    make_doctor(user=make_user("doctor", full_name="Amélie Laurent"))
    make_doctor(user=make_user("doctor", full_name="Hugo Bernard"))
    auth.login(patient.user)
    page = client.get("/patient?q=laur").text
    assert "Amélie Laurent" in page
    assert "Hugo Bernard" not in page


def test_a_doctor_sees_todays_visits_in_the_clinic_time_zone(
    auth, client, db, make_doctor, make_clinic, make_patient
):
    clinic = make_clinic(name="Hudson", city="New York", country="US", timezone="America/New_York")
    doctor = make_doctor(clinic=clinic)
    zone_now = utcnow().astimezone(ZoneInfo("America/New_York"))
    start = zone_now.replace(hour=23, minute=30, second=0, microsecond=0)
    patient = make_patient()
    book(db, doctor, patient, start.astimezone(UTC), reason="Night visit")
    book(db, doctor, patient, (start + timedelta(days=1)).astimezone(UTC), reason="Tomorrow visit")
    auth.login(doctor.user)
    page = client.get("/doctor").text
    assert "Night visit" in page
    assert "Tomorrow visit" not in page
    assert patient.user.full_name in page


def test_the_admin_dashboard_counts(auth, client, db, admin, doctor, make_patient):
    patient = make_patient()
    now = utcnow()
    book(
        db,
        doctor,
        patient,
        datetime(2031, 1, 6, 9, tzinfo=UTC),
        status=Status.CANCELLED,
        cancelled_at=now - timedelta(days=2),
    )
    auth.login(admin)
    page = client.get("/admin/").text
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", page))
    assert figures == {
        "Doctors": "1",
        "Patients": "1",
        "Visits today": "0",
        "Cancellations this week": "1",
    }


def test_health_reports_the_database(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_health_reports_an_unreachable_database(tmp_path):
    from portal import create_app
    from tests.conftest import config_for

    missing = tmp_path / "no-such-dir" / "portal.sqlite"
    app = create_app(config_for(f"sqlite:///{missing}"))
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"
