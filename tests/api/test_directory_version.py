"""The API's list of doctors is fresh by construction: any write that may change a list
(a clinic, a department, a doctor's departments, a doctor's row, the name, email or
active flag of their account), made through SQLAlchemy Core or plain SQL as well as the
services, shows at once, though each worker keeps the answers it gave. Bookings and
sign-ins leave the directory's version alone, so they never wait for one another on it."""

from datetime import timedelta

import pytest
from sqlalchemy import delete, insert, select, text, update

from portal.booking import services as booking
from portal.db import utcnow
from portal.directory import directory_version
from portal.directory.models import Department, DirectoryState, Doctor, doctor_departments

DOCTORS = Doctor.__table__


def listed(api, **options):
    response = api.get("/doctors?per_page=50", **options)
    assert response.status_code == 200, response.text
    return response.get_json()


def version(db):
    db.session.expire_all()
    return db.session.scalar(select(DirectoryState.version))


def names(body):
    return sorted(item["full_name"] for item in body["items"])


def renamed_with_sql(db, doctor, department):
    db.session.execute(
        text("UPDATE users SET full_name = 'Zoé Renamed' WHERE id = :id"), {"id": doctor.user_id}
    )


def titled_with_core(db, doctor, department):
    db.session.execute(update(DOCTORS).where(DOCTORS.c.id == doctor.id).values(title="Prof."))


def deactivated_with_sql(db, doctor, department):
    db.session.execute(
        text("UPDATE doctors SET is_active = false WHERE id = :id"), {"id": doctor.id}
    )


def account_closed_with_core(db, doctor, department):
    from portal.auth.models import User

    db.session.execute(
        update(User.__table__).where(User.__table__.c.id == doctor.user_id).values(is_active=False)
    )


def department_added_with_core(db, doctor, department):
    db.session.execute(
        insert(doctor_departments).values(doctor_id=doctor.id, department_id=department.id)
    )


def departments_removed_with_sql(db, doctor, department):
    db.session.execute(
        text("DELETE FROM doctor_departments WHERE doctor_id = :id"), {"id": doctor.id}
    )


def department_renamed_with_sql(db, doctor, department):
    db.session.execute(
        text("UPDATE departments SET name = 'Renamed Department' WHERE id = :id"),
        {"id": doctor.departments[0].id},
    )


def clinic_moved_with_sql(db, doctor, department):
    db.session.execute(
        text("UPDATE clinics SET city = 'Lyon' WHERE id = :id"), {"id": doctor.clinic_id}
    )


def fee_changed_with_core(db, doctor, department):
    db.session.execute(update(DOCTORS).where(DOCTORS.c.id == doctor.id).values(consultation_fee=99))


WRITES = [
    renamed_with_sql,
    titled_with_core,
    deactivated_with_sql,
    account_closed_with_core,
    department_added_with_core,
    departments_removed_with_sql,
    department_renamed_with_sql,
    clinic_moved_with_sql,
    fee_changed_with_core,
]


@pytest.mark.parametrize("write", WRITES, ids=lambda write: write.__name__)
def test_a_write_outside_the_orm_shows_in_the_list_at_once(
    write, api, db, make_doctor, make_department
):
    doctor = make_doctor(departments=[make_department()])
    make_doctor()
    department = make_department(code="new-one", name="New One")
    before = listed(api)
    assert listed(api) == before  # kept, and still the same
    kept_version = version(db)

    write(db, doctor, department)
    db.session.commit()

    assert version(db) != kept_version
    after = listed(api)
    assert after != before, "the write should change the list"


def test_a_doctor_onboarded_shows_at_once(api, db, make_doctor):
    make_doctor()
    assert listed(api)["total"] == 1
    make_doctor()
    assert listed(api)["total"] == 2


def test_a_rolled_back_write_leaves_the_version(db, doctor):
    kept = version(db)
    db.session.execute(
        text("UPDATE clinics SET name = 'Gone' WHERE id = :id"), {"id": doctor.clinic_id}
    )
    db.session.rollback()
    assert version(db) == kept


def test_bookings_and_sign_ins_leave_the_version_alone(db, doctor, patient, client):
    kept = version(db)
    start = booking.slots_for(
        doctor=booking.bookable_doctor(doctor.id),
        first_day=utcnow().date() + timedelta(days=3),
        last_day=utcnow().date() + timedelta(days=10),
        now=utcnow(),
    )[0].start
    booking.book(
        actor=patient.user,
        patient=patient,
        doctor_id=doctor.id,
        start=start,
        reason="",
        now=utcnow(),
    )
    db.session.commit()
    db.session.execute(
        text("UPDATE users SET last_login_at = :now WHERE id = :id"),
        {"now": utcnow(), "id": doctor.user_id},
    )
    db.session.commit()
    assert version(db) == kept


def test_the_list_answers_304_while_it_is_the_same(api, db, make_doctor):
    doctor = make_doctor()
    first = api.get("/doctors")
    etag = first.headers["ETag"]
    assert "Authorization" in first.headers["Vary"]
    again = api.get("/doctors", headers={"If-None-Match": etag})
    assert (again.status_code, again.data) == (304, b"")
    db.session.execute(
        update(DOCTORS).where(DOCTORS.c.id == doctor.id).values(bio="Now with a bio.")
    )
    db.session.commit()
    changed = api.get("/doctors", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.get_json()["items"][0]["bio"] == "Now with a bio."


def test_admins_and_visitors_each_get_their_own_kept_list(api, admin, make_doctor):
    make_doctor()
    visitor = listed(api)
    as_admin = api.get("/doctors?per_page=50", user=admin)
    assert "no-store" in as_admin.headers["Cache-Control"]
    assert "ETag" not in as_admin.headers
    as_admin = as_admin.get_json()
    again = listed(api)
    assert "email" not in visitor["items"][0]
    assert "email" in as_admin["items"][0]
    assert again == visitor


def test_the_list_follows_the_language_asked(api, make_doctor, make_department):
    make_doctor(
        departments=[
            make_department(name="Cardiology", translations={"fr": {"name": "Cardiologie"}})
        ]
    )
    assert listed(api)["items"][0]["departments"][0]["name"] == "Cardiology"
    french = listed(api, headers={"Accept-Language": "fr"})
    assert french["items"][0]["departments"][0]["name"] == "Cardiologie"


def test_every_column_of_a_doctor_but_the_schedule_version_changes_the_version():
    # A column added to doctors must be added to the trigger, or lists would miss it.
    columns = {column.name for column in DOCTORS.columns} - {"schedule_version"}
    assert set(directory_version.DOCTOR_COLUMNS) == columns


def test_the_version_row_comes_with_the_table(db):
    assert db.session.scalars(select(DirectoryState.id)).all() == [1]
    db.session.execute(delete(Department.__table__).where(Department.__table__.c.id == -1))
    db.session.commit()
