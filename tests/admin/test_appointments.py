"""Admins see every appointment, filter them, and download them as CSV."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from portal.booking.models import Status
from portal.db import utcnow
from tests.admin.conftest import add_appointment


@pytest.fixture
def booked(db, make_clinic, make_doctor, make_patient, make_user):
    paris = make_clinic(name="Clinique du Parc", city="Paris")
    lyon = make_clinic(name="Clinique Rhône", city="Lyon")
    alice = make_doctor(clinic=paris, user=make_user("doctor", full_name="Alice Arnaud"))
    bruno = make_doctor(clinic=lyon, user=make_user("doctor", full_name="Bruno Blanc"))
    patient = make_patient(user=make_user(full_name='=HYPERLINK("http://evil")'))
    day = datetime(2030, 3, 4, 9, tzinfo=UTC)
    return {
        "alice": alice,
        "bruno": bruno,
        "paris": paris,
        "a1": add_appointment(db, alice, patient, day, reason="Check-up, yearly"),
        "a2": add_appointment(
            db,
            alice,
            patient,
            day + timedelta(days=1),
            status=Status.CANCELLED,
            cancel_reason="+ill",
            cancelled_at=day,
        ),
        "b1": add_appointment(db, bruno, patient, day + timedelta(days=2), reason='Said "hi"'),
    }


def rows(response):
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_the_list_shows_every_appointment(as_admin, booked):
    page = as_admin.get("/admin/appointments").text
    assert "3 appointments" in page
    assert "Alice Arnaud" in page
    assert "Bruno Blanc" in page
    assert "own time zone" in page  # the date filters say which day they mean


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"doctor_id": "alice"}, {"a1", "a2"}),
        ({"clinic_id": "paris"}, {"a1", "a2"}),
        ({"status": "cancelled"}, {"a2"}),
        ({"from": "2030-03-05"}, {"a2", "b1"}),
        ({"to": "2030-03-05"}, {"a1", "a2"}),
        ({"from": "2030-03-05", "to": "2030-03-05"}, {"a2"}),
        ({"status": "confirmed", "doctor_id": "bruno"}, {"b1"}),
        ({"status": "nonsense", "from": "not a date"}, {"a1", "a2", "b1"}),
    ],
)
def test_filters_apply_to_the_list_and_the_csv(as_admin, booked, query, expected):
    query = {
        key: booked[value].id if key in ("doctor_id", "clinic_id") else value
        for key, value in query.items()
    }
    page = as_admin.get("/admin/appointments", query_string=query).text
    shown = {name for name in ("a1", "a2", "b1") if f'id="appointment-{booked[name].id}"' in page}
    assert shown == expected
    exported = rows(as_admin.get("/admin/appointments.csv", query_string=query))
    assert {row[0] for row in exported[1:]} == {str(booked[name].id) for name in expected}


def test_the_export_link_keeps_the_filters(as_admin, booked):
    page = as_admin.get("/admin/appointments?status=cancelled").text
    assert "/admin/appointments.csv?status=cancelled" in page


def test_the_csv_has_a_header_row_and_escapes_cells(as_admin, booked):
    response = as_admin.get("/admin/appointments.csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="appointments.csv"'
    assert response.headers["X-Export-Truncated"] == "false"
    table = rows(response)
    assert table[0] == [
        "ID",
        "Start",
        "End",
        "Time zone",
        "Status",
        "Doctor",
        "Patient",
        "Patient email",
        "Patient phone",
        "Clinic",
        "City",
        "Reason",
        "Booked by",
        "Cancelled at",
        "Cancellation reason",
    ]
    by_id = {row[0]: row for row in table[1:]}
    a1, a2, b1 = (by_id[str(booked[name].id)] for name in ("a1", "a2", "b1"))
    # 09:00 UTC is 10:00 on the Paris clinic's clock in March.
    assert (a1[1], a1[2], a1[3]) == ("2030-03-04 10:00", "2030-03-04 10:30", "Europe/Paris")
    assert a1[5] == "Alice Arnaud"
    # Formulas are defused; commas and quotes survive the round trip.
    assert a1[6] == '\'=HYPERLINK("http://evil")'
    assert a1[11] == "Check-up, yearly"
    assert b1[11] == 'Said "hi"'
    assert a2[14] == "'+ill"
    assert (a2[4], a2[13]) == ("Cancelled", "2030-03-04 10:00")
    # From today on, soonest first, like the list as it opens.
    assert [row[0] for row in table[1:]] == [str(booked[n].id) for n in ("a1", "a2", "b1")]
    assert response.data.startswith("\ufeff".encode())  # accents show in spreadsheets
    raw = response.data.decode("utf-8-sig")
    assert '"Check-up, yearly"' in raw
    assert '"Said ""hi"""' in raw


def test_the_export_stops_at_its_row_cap(as_admin, booked, monkeypatch):
    from portal.admin import services

    monkeypatch.setattr(services, "EXPORT_LIMIT", 2)
    response = as_admin.get("/admin/appointments.csv")
    assert len(rows(response)) == 3
    assert response.headers["X-Export-Truncated"] == "true"


def test_the_csv_speaks_the_readers_language(as_admin, booked):
    table = rows(as_admin.get("/admin/appointments.csv?lang=fr", headers={"Accept-Language": "fr"}))
    by_id = {row[0]: row for row in table[1:]}
    assert by_id[str(booked["a2"].id)][4] == "Annulé"


def test_the_list_filters_by_patient_name_email_or_phone(
    as_admin, db, booked, make_patient, make_user
):
    other = make_patient(user=make_user(full_name="Zoé Zola"), phone="0699887766")
    visit = add_appointment(db, booked["alice"], other, datetime(2030, 3, 9, 9, tzinfo=UTC))
    for query in ("zola", other.user.email, "99887"):
        page = as_admin.get("/admin/appointments", query_string={"patient": query}).text
        assert f'id="appointment-{visit.id}"' in page
        assert f'id="appointment-{booked["a1"].id}"' not in page


def test_days_are_the_clinics_own_not_utc(as_admin, db, make_clinic, make_doctor, make_patient):
    # 23:30 UTC on 4 March is already 5 March in Paris.
    paris = make_clinic(timezone="Europe/Paris")
    late = add_appointment(
        db, make_doctor(clinic=paris), make_patient(), datetime(2030, 3, 4, 23, 30, tzinfo=UTC)
    )
    on_fifth = as_admin.get("/admin/appointments?from=2030-03-05&to=2030-03-05").text
    assert f'id="appointment-{late.id}"' in on_fifth
    on_fourth = as_admin.get("/admin/appointments?from=2030-03-04&to=2030-03-04").text
    assert f'id="appointment-{late.id}"' not in on_fourth


def test_the_list_opens_at_today(as_admin, db, make_doctor, make_patient):
    doctor, patient = make_doctor(), make_patient()
    past = add_appointment(db, doctor, patient, utcnow() - timedelta(days=2))
    coming = add_appointment(db, doctor, patient, utcnow() + timedelta(days=2))
    page = as_admin.get("/admin/appointments").text
    assert f'id="appointment-{coming.id}"' in page
    assert f'id="appointment-{past.id}"' not in page
    everything = as_admin.get("/admin/appointments?status=").text
    assert f'id="appointment-{past.id}"' in everything


def test_the_next_page_of_the_list_stays_at_today(as_admin, db, make_doctor, make_patient):
    doctor, patient = make_doctor(), make_patient()
    past = add_appointment(db, doctor, patient, utcnow() - timedelta(days=2))
    page = as_admin.get("/admin/appointments?page=1").text
    assert f'id="appointment-{past.id}"' not in page
    assert "/admin/appointments.csv?from_today=1" in page


def test_a_patient_without_an_email_is_found_by_name_or_phone_and_exported_as_no_email(
    as_admin, db, booked, make_patient, make_user
):
    caller = make_patient(
        user=make_user(full_name="Noé Caller", email=None, password_hash=None), phone="0611223344"
    )
    visit = add_appointment(db, booked["alice"], caller, datetime(2030, 3, 9, 9, tzinfo=UTC))
    for query in ("caller", "1122"):
        page = as_admin.get("/admin/appointments", query_string={"patient": query}).text
        assert f'id="appointment-{visit.id}"' in page
        assert f'id="appointment-{booked["a1"].id}"' not in page
        assert "None" not in page
    table = rows(as_admin.get("/admin/appointments.csv", query_string={"patient": "caller"}))
    [row] = table[1:]
    assert row[table[0].index("Patient email")] == "No email"
    table = rows(
        as_admin.get(
            "/admin/appointments.csv",
            query_string={"patient": "caller", "lang": "fr"},
            headers={"Accept-Language": "fr"},
        )
    )
    assert table[1][7] == "Pas d\u2019adresse e-mail"
