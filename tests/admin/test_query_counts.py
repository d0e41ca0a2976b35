"""Every admin list sends the same number of SQL statements with 10 rows as with 1,000
(DESIGN.md, Scale): nothing is loaded row by row."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, insert

from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.booking.models import Appointment
from portal.directory.models import Clinic, Department, Doctor, Patient, doctor_departments

FIRST_ID = 100_000
START = datetime(2030, 1, 1, 8, tzinfo=UTC)


def users(db, role, ids):
    db.session.execute(
        insert(User),
        [
            {"id": i, "email": f"{role}{i}@example.org", "full_name": f"{role} {i}", "role": role}
            for i in ids
        ],
    )


def add_doctors(db, ids, world):
    users(db, "doctor", ids)
    db.session.execute(
        insert(Doctor),
        [
            {
                "id": i,
                "user_id": i,
                "clinic_id": world["clinic"],
                "license_number": f"BULK-{i}",
                "consultation_fee": Decimal(30),
            }
            for i in ids
        ],
    )
    db.session.execute(
        insert(doctor_departments),
        [{"doctor_id": i, "department_id": world["department"]} for i in ids],
    )


def add_patients(db, ids, world):
    users(db, "patient", ids)
    db.session.execute(insert(Patient), [{"id": i, "user_id": i} for i in ids])


def add_departments(db, ids, world):
    db.session.execute(
        insert(Department),
        [
            {"id": i, "code": f"bulk-{i}", "name": f"Department {i}", "is_active": i % 2 == 0}
            for i in ids
        ],
    )


def add_clinics(db, ids, world):
    db.session.execute(
        insert(Clinic),
        [
            {"id": i, "name": f"Clinic {i}", "city": "Lyon", "country": "FR", "timezone": "UTC"}
            for i in ids
        ],
    )


def add_appointments(db, ids, world):
    db.session.execute(
        insert(Appointment),
        [
            {
                "id": i,
                "doctor_id": world["doctors"][i % 2],
                "patient_id": world["patient"],
                "clinic_id": world["clinic"],
                "starts_at": START + timedelta(hours=i - FIRST_ID),
                "ends_at": START + timedelta(hours=i - FIRST_ID, minutes=30),
                "status": "confirmed" if i % 3 else "cancelled",
            }
            for i in ids
        ],
    )


def add_events(db, ids, world):
    db.session.execute(
        insert(AuditEvent),
        [
            {
                "id": i,
                "actor_id": world["admin"] if i % 2 else None,
                "action": "doctor.updated",
                "entity_type": "doctor",
                "entity_id": i,
                "changes": {"title": ["Dr", "Pr"]},
            }
            for i in ids
        ],
    )


LISTS = {
    "doctors": ("/admin/doctors", add_doctors),
    "patients": ("/admin/patients", add_patients),
    "departments": ("/admin/departments", add_departments),
    "clinics": ("/admin/clinics", add_clinics),
    "appointments": ("/admin/appointments", add_appointments),
    "appointments, filtered": (
        "/admin/appointments?status=confirmed&from=2030-01-01&to=2031-12-31",
        add_appointments,
    ),
    "audit": ("/admin/audit", add_events),
    "dashboard": ("/admin/", add_doctors),
}


def statements_for(client, db, url):
    sent = []

    def count(_conn, _cursor, statement, *_args):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return sent


@pytest.mark.parametrize("name", LISTS)
def test_a_list_costs_the_same_with_10_and_1000_rows(
    as_admin, db, admin, make_doctor, make_patient, make_department, name
):
    department = make_department()
    doctors = [make_doctor(departments=[department]) for _ in range(2)]
    world = {
        "admin": admin.id,
        "clinic": doctors[0].clinic_id,
        "department": department.id,
        "doctors": [doctor.id for doctor in doctors],
        "patient": make_patient().id,
    }
    url, add = LISTS[name]
    add(db, range(FIRST_ID, FIRST_ID + 10), world)
    db.session.commit()
    few = statements_for(as_admin, db, url)
    add(db, range(FIRST_ID + 10, FIRST_ID + 1000), world)
    db.session.commit()
    many = statements_for(as_admin, db, url)
    assert len(many) == len(few), "\n".join(many)
    assert as_admin.get(url + ("&" if "?" in url else "?") + "page=2").status_code == 200
