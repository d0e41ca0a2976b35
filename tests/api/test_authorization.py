"""Who may do what: every endpoint x role (anonymous, patient, other patient, doctor,
other doctor, admin) on the first patient's and first doctor's records.

Other people's records answer 404 as if they did not exist; a role that may not use an
endpoint at all gets 403; no token gets 401. A refused request changes nothing.
"""

import hashlib
import json
import re

import pytest
from sqlalchemy import select

from portal.extensions import db as _db
from tests.api.conftest import ROLES, assert_problem

# (name, method, path, body) -> expected status per role, in the order of ROLES:
# anonymous, patient, other_patient, doctor, other_doctor, admin.
A, P, OP, D, OD, AD = range(6)


def slot(api, world, index=0):
    response = api.get(f"/doctors/{world.doctor.id}/slots")
    return response.get_json()["slots"][index]["start"]


MATRIX = [
    ("me", "GET", lambda w, a: ("/me", None), (401, 200, 200, 200, 200, 200)),
    (
        "update me",
        "PATCH",
        lambda w, a: ("/me", {"full_name": "New Name"}),
        (401, 200, 200, 200, 200, 200),
    ),
    (
        "list appointments",
        "GET",
        lambda w, a: ("/appointments", None),
        (401, 200, 200, 200, 200, 200),
    ),
    (
        "book",
        "POST",
        lambda w, a: (
            "/appointments",
            {"doctor_id": w.doctor.id, "start": slot(a, w), "patient_id": w.patient.id},
        ),
        (401, 201, 404, 403, 403, 201),
    ),
    (
        "read appointment",
        "GET",
        lambda w, a: (f"/appointments/{w.appointment.id}", None),
        (401, 200, 404, 200, 404, 200),
    ),
    (
        "appointment ics",
        "GET",
        lambda w, a: (f"/appointments/{w.appointment.id}/ics", None),
        (401, 200, 404, 200, 404, 200),
    ),
    (
        "cancel",
        "POST",
        lambda w, a: (f"/appointments/{w.appointment.id}/cancel", {"reason": "Ill"}),
        (401, 200, 404, 200, 404, 200),
    ),
    (
        "reschedule",
        "POST",
        lambda w, a: (f"/appointments/{w.appointment.id}/reschedule", {"start": slot(a, w)}),
        (401, 200, 404, 409, 404, 200),
    ),
    (
        "close visit",
        "PATCH",
        lambda w, a: (f"/appointments/{w.past.id}", {"status": "completed", "notes": "Fine"}),
        (401, 404, 404, 200, 404, 200),
    ),
    (
        "read availability",
        "GET",
        lambda w, a: (f"/doctors/{w.doctor.id}/availability", None),
        (401, 404, 404, 200, 404, 200),
    ),
    (
        "replace availability",
        "PUT",
        lambda w, a: (
            f"/doctors/{w.doctor.id}/availability",
            {"slot_minutes": 20, "seats": 1, "intervals": []},
        ),
        (401, 404, 404, 200, 404, 200),
    ),
    (
        "list time off",
        "GET",
        lambda w, a: (f"/doctors/{w.doctor.id}/time-off", None),
        (401, 404, 404, 200, 404, 200),
    ),
    (
        "add time off",
        "POST",
        lambda w, a: (
            f"/doctors/{w.doctor.id}/time-off",
            {"start": "2099-01-01T09:00:00+01:00", "end": "2099-01-02T09:00:00+01:00"},
        ),
        (401, 404, 404, 201, 404, 201),
    ),
    (
        "remove time off",
        "DELETE",
        lambda w, a: (f"/time-off/{w.time_off.id}", None),
        (401, 404, 404, 204, 404, 204),
    ),
    (
        "slots",
        "GET",
        lambda w, a: (f"/doctors/{w.doctor.id}/slots", None),
        (200, 200, 200, 200, 200, 200),
    ),
    ("list patients", "GET", lambda w, a: ("/patients", None), (401, 403, 403, 200, 200, 200)),
    (
        "read patient",
        "GET",
        lambda w, a: (f"/patients/{w.patient.id}", None),
        (401, 200, 404, 200, 404, 200),
    ),
    (
        "update patient",
        "PATCH",
        lambda w, a: (f"/patients/{w.patient.id}", {"allergies": "Penicillin"}),
        (401, 200, 404, 403, 404, 200),
    ),
    (
        "create patient",
        "POST",
        lambda w, a: ("/patients", {"email": "new@example.org", "full_name": "Nora New"}),
        (401, 403, 403, 403, 403, 201),
    ),
    (
        "assign patient",
        "PUT",
        lambda w, a: (f"/doctors/{w.other_doctor.id}/patients/{w.other_patient.id}", None),
        (401, 404, 403, 404, 404, 204),
    ),
    (
        "unassign patient",
        "DELETE",
        lambda w, a: (f"/doctors/{w.doctor.id}/patients/{w.patient.id}", None),
        (401, 403, 404, 403, 404, 204),
    ),
    ("read settings", "GET", lambda w, a: ("/settings", None), (401, 403, 403, 403, 403, 200)),
    ("list messages", "GET", lambda w, a: ("/messages", None), (401, 403, 403, 403, 403, 200)),
    (
        "send a message again",
        "POST",
        lambda w, a: ("/messages/999999/resend", None),
        (401, 403, 403, 403, 403, 404),
    ),
    (
        "change settings",
        "PATCH",
        lambda w, a: ("/settings", {"horizon_days": 30}),
        (401, 403, 403, 403, 403, 200),
    ),
    (
        "list departments",
        "GET",
        lambda w, a: ("/departments", None),
        (200, 200, 200, 200, 200, 200),
    ),
    (
        "create department",
        "POST",
        lambda w, a: ("/departments", {"code": "neuro", "name": "Neurology"}),
        (401, 403, 403, 403, 403, 201),
    ),
    (
        "change department",
        "PATCH",
        lambda w, a: (f"/departments/{w.department.id}", {"name": "Heart"}),
        (401, 403, 403, 403, 403, 200),
    ),
    (
        "delete department",
        "DELETE",
        lambda w, a: (f"/departments/{w.department.id}", None),
        (401, 403, 403, 403, 403, 204),
    ),
    ("list clinics", "GET", lambda w, a: ("/clinics", None), (200, 200, 200, 200, 200, 200)),
    (
        "create clinic",
        "POST",
        lambda w, a: (
            "/clinics",
            {"name": "North", "city": "Lille", "country": "FR", "timezone": "Europe/Paris"},
        ),
        (401, 403, 403, 403, 403, 201),
    ),
    (
        "change clinic",
        "PATCH",
        lambda w, a: (f"/clinics/{w.clinic.id}", {"phone": "+33 1 23 45 67 89"}),
        (401, 403, 403, 403, 403, 200),
    ),
    (
        "delete clinic",
        "DELETE",
        lambda w, a: (f"/clinics/{w.clinic.id}", None),
        (401, 403, 403, 403, 403, 204),
    ),
    ("list doctors", "GET", lambda w, a: ("/doctors", None), (200, 200, 200, 200, 200, 200)),
    (
        "read doctor",
        "GET",
        lambda w, a: (f"/doctors/{w.doctor.id}", None),
        (200, 200, 200, 200, 200, 200),
    ),
    (
        "onboard doctor",
        "POST",
        lambda w, a: (
            "/doctors",
            {
                "email": "new.doctor@example.org",
                "full_name": "Dr New",
                "clinic_id": w.clinic.id,
                "department_ids": [w.department.id],
                "license_number": "NEW-1",
            },
        ),
        (401, 403, 403, 403, 403, 201),
    ),
    (
        "change own bio",
        "PATCH",
        lambda w, a: (f"/doctors/{w.doctor.id}", {"bio": "Heart doctor."}),
        (401, 403, 403, 200, 404, 200),
    ),
    (
        "change licence",
        "PATCH",
        lambda w, a: (f"/doctors/{w.doctor.id}", {"license_number": "LIC-99999"}),
        (401, 403, 403, 403, 404, 200),
    ),
    (
        "delete doctor",
        "DELETE",
        lambda w, a: (f"/doctors/{w.doctor.id}", None),
        (401, 403, 403, 403, 403, 204),
    ),
]

CASES = [
    pytest.param(name, method, build, role, expected[index], id=f"{name}-{role}")
    for name, method, build, expected in MATRIX
    for index, role in enumerate(ROLES)
]

IGNORED_COLUMNS = {"last_login_at", "updated_at"}


def snapshot(db):
    """A digest of every row the API can change (audit events aside)."""
    db.session.expire_all()
    digest = hashlib.sha256()
    for table in _db.metadata.sorted_tables:
        if table.name in ("audit_events", "alembic_version"):
            continue
        columns = [column for column in table.columns if column.name not in IGNORED_COLUMNS]
        rows = db.session.execute(select(*columns).order_by(*table.primary_key.columns)).all()
        digest.update(table.name.encode())
        digest.update(json.dumps([list(row) for row in rows], default=str).encode())
    return digest.hexdigest()


@pytest.mark.parametrize(("name", "method", "build", "role", "expected"), CASES)
def test_access(api, db, world, name, method, build, role, expected):
    path, body = build(world, api)
    before = snapshot(db)
    kwargs = {"json": body} if body is not None else {}
    response = api.call(method, path, user=world.user(role), **kwargs)
    assert response.status_code == expected, response.get_data(as_text=True)
    if expected >= 400:
        code = {401: "not_authenticated", 403: "forbidden", 404: "not_found"}.get(expected)
        if expected == 409:
            code = "not_changeable"
        assert_problem(response, expected, code)
        assert snapshot(db) == before, "a refused request changed data"


def test_the_matrix_covers_every_documented_operation(api, world):
    document = api.get("/openapi.json").get_json()
    templates = {
        (method.upper(), path): re.compile("^" + re.sub(r"\{[a-z_]+\}", r"\\d+", path) + "$")
        for path, item in document["paths"].items()
        for method in item
    }
    covered = set()
    for _name, method, build, _expected in MATRIX:
        path = "/api/v1" + build(world, api)[0]
        covered |= {
            key for key, pattern in templates.items() if key[0] == method and pattern.match(path)
        }
    # These need no token, or act on one's own credentials: their contract tests cover them.
    assert set(templates) - covered == {
        ("POST", "/api/v1/auth/register"),
        ("POST", "/api/v1/auth/token"),
        ("POST", "/api/v1/auth/revoke"),
        ("POST", "/api/v1/auth/activate"),
        ("POST", "/api/v1/auth/password-reset"),
        ("POST", "/api/v1/auth/password-reset/confirm"),
        ("POST", "/api/v1/auth/verify-email"),
        ("POST", "/api/v1/auth/verify-email/resend"),
        ("GET", "/api/v1/health"),
        ("GET", "/api/v1/clinics/{clinic_id}"),
        ("GET", "/api/v1/departments/{department_id}"),
    }
