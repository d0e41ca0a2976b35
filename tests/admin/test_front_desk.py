"""The front desk books, moves and cancels visits on a patient's behalf."""

import html
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.auth.models import ActivationToken, Role, User
from portal.booking import services
from portal.booking.models import Appointment, Status
from portal.db import utcnow
from portal.directory.models import Patient
from portal.messages.models import Message
from tests.admin.conftest import add_appointment


def free_starts(doctor, days=14):
    now = utcnow()
    return [
        slot.start
        for slot in services.slots_for(
            doctor=doctor, first_day=now.date(), last_day=now.date() + timedelta(days=days), now=now
        )
    ]


def appointments_of(db, patient_id):
    db.session.expire_all()
    return db.session.scalars(
        select(Appointment).where(Appointment.patient_id == patient_id).order_by(Appointment.id)
    ).all()


def test_the_patient_record_offers_a_doctor_then_the_same_picker(as_admin, db, doctor, patient):
    choose = as_admin.get(f"/admin/patients/{patient.id}/book")
    assert choose.status_code == 200
    assert f"/admin/patients/{patient.id}/book/{doctor.id}" in choose.text
    page = as_admin.get(f"/admin/patients/{patient.id}/book/{doctor.id}")
    assert page.status_code == 200
    first = free_starts(doctor)[0]
    # The free times are buttons of a form that opens the staff confirm panel.
    assert f'action="/admin/patients/{patient.id}/book/{doctor.id}/confirm"' in page.text
    assert f'name="start" value="{first.isoformat()}"' in html.unescape(page.text)


def test_a_day_of_the_staff_picker_is_a_partial(htmx, auth, admin, db, doctor, patient):
    auth.login(admin)
    day = free_starts(doctor)[0].date()
    answer = htmx.get(f"/admin/patients/{patient.id}/book/{doctor.id}?day={day.isoformat()}")
    assert answer.status_code == 200
    assert "<html" not in answer.text
    assert 'id="slot-picker"' in answer.text


def test_staff_book_for_a_patient_and_the_visit_names_who_booked(
    as_admin, db, admin, doctor, patient
):
    start = free_starts(doctor)[0]
    url = f"/admin/patients/{patient.id}/book/{doctor.id}/confirm"
    panel = as_admin.get(url, query_string={"start": start.isoformat()})
    assert panel.status_code == 200
    assert "Confirm the visit for" in panel.text
    answer = as_admin.post(url, data={"start": start.isoformat(), "reason": "Called in"})
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/admin/patients/{patient.id}#visits")
    (visit,) = appointments_of(db, patient.id)
    assert visit.status == Status.CONFIRMED
    assert visit.starts_at == start
    assert visit.reason == "Called in"
    assert visit.booked_by_id == admin.id
    record = as_admin.get(f"/admin/patients/{patient.id}")
    assert f'id="visit-{visit.id}"' in record.text


def test_staff_cannot_book_a_time_that_is_taken(as_admin, db, make_patient, doctor, patient):
    start = free_starts(doctor)[0]
    add_appointment(db, doctor, make_patient(), start)
    answer = as_admin.post(
        f"/admin/patients/{patient.id}/book/{doctor.id}/confirm", data={"start": start.isoformat()}
    )
    assert answer.status_code == 409
    assert appointments_of(db, patient.id) == []


def test_a_patient_booking_for_themself_is_named_as_the_booker(db, doctor, patient):
    start = free_starts(doctor)[0]
    visit = services.book(
        actor=patient.user,
        patient=patient,
        doctor_id=doctor.id,
        start=start,
        reason="",
        now=utcnow(),
    )
    assert visit.booked_by_id == patient.user.id


def test_staff_cancel_inside_the_patients_cutoff(as_admin, db, doctor, patient):
    # An hour from now: a patient could no longer cancel online (24 hours' cutoff).
    start = (utcnow() + timedelta(hours=1)).replace(microsecond=0)
    visit = add_appointment(db, doctor, patient, start)
    with pytest.raises(services.TooLateToCancel):
        services.cancel(actor=patient.user, appointment=visit, reason="", now=utcnow())
    db.session.rollback()
    answer = as_admin.post(f"/admin/appointments/{visit.id}/cancel", data={"reason": "Ill"})
    assert answer.status_code == 303
    (visit,) = appointments_of(db, patient.id)
    assert visit.status == Status.CANCELLED
    assert visit.cancel_reason == "Ill"


def test_staff_move_a_visit_with_the_picker(as_admin, db, doctor, patient):
    first, second = free_starts(doctor)[:2]
    visit = add_appointment(db, doctor, patient, first)
    page = as_admin.get(f"/admin/appointments/{visit.id}/move")
    assert page.status_code == 200
    # A time is a button that asks first: "Move from ... to ...?"
    assert f'action="/admin/appointments/{visit.id}/move"' in page.text
    assert f'name="start" value="{second.isoformat()}"' in page.text
    question = as_admin.get(
        f"/admin/appointments/{visit.id}/move", query_string={"start": second.isoformat()}
    )
    assert question.status_code == 200
    assert "Move from" in question.text
    assert 'id="confirm-move"' in question.text
    assert f'<form method="post" action="/admin/appointments/{visit.id}/move"' in question.text
    answer = as_admin.post(
        f"/admin/appointments/{visit.id}/move", data={"start": second.isoformat()}
    )
    assert answer.status_code == 303
    (visit,) = appointments_of(db, patient.id)
    assert visit.starts_at == second
    assert visit.status == Status.CONFIRMED


def test_from_a_doctors_picker_staff_find_the_patient_and_book(
    as_admin, db, admin, doctor, make_patient, make_user
):
    caller = make_patient(user=make_user(Role.PATIENT, full_name="Zoé Caller"), phone="0611223344")
    start = free_starts(doctor)[0]
    picker = as_admin.get(f"/admin/doctors/{doctor.id}/book")
    assert picker.status_code == 200
    # A time is a button of a form that goes on to choosing the patient.
    assert f'action="/admin/doctors/{doctor.id}/book/patient"' in picker.text
    assert f'name="start" value="{start.isoformat()}"' in html.unescape(picker.text)
    found = as_admin.get(
        f"/admin/doctors/{doctor.id}/book/patient",
        query_string={"start": start.isoformat(), "q": "0611223344"},
    )
    assert found.status_code == 200
    assert "Zoé Caller" in found.text
    answer = as_admin.post(
        f"/admin/patients/{caller.id}/book/{doctor.id}/confirm", data={"start": start.isoformat()}
    )
    assert answer.status_code == 303
    (visit,) = appointments_of(db, caller.id)
    assert visit.booked_by_id == admin.id


def test_a_walk_in_patient_is_recorded_and_booked_in_one_step(as_admin, db, admin, doctor):
    start = free_starts(doctor)[0]
    answer = as_admin.post(
        f"/admin/doctors/{doctor.id}/book/walk-in",
        data={
            "start": start.isoformat(),
            "full_name": "Walk In",
            "phone": "+33 6 00 00 00 00",
            "email": "Walk.In@example.org",
            "reason": "Sore throat",
        },
    )
    assert answer.status_code == 303
    patient = db.session.scalar(
        select(Patient).join(User).where(User.email == "walk.in@example.org")
    )
    assert patient.phone == "+33 6 00 00 00 00"
    (visit,) = appointments_of(db, patient.id)
    assert visit.booked_by_id == admin.id
    assert visit.reason == "Sore throat"


def test_a_walk_in_needs_a_name_and_a_phone_and_nothing_is_saved_without(as_admin, db, doctor):
    start = free_starts(doctor)[0]
    answer = as_admin.post(
        f"/admin/doctors/{doctor.id}/book/walk-in",
        data={"start": start.isoformat(), "full_name": "", "phone": "", "email": "x@example.org"},
    )
    assert answer.status_code == 422
    assert "This field is required." in answer.text
    assert db.session.scalar(select(User).where(User.email == "x@example.org")) is None


def test_a_walk_in_whose_time_was_taken_meanwhile_is_not_recorded(
    as_admin, db, doctor, make_patient
):
    start = free_starts(doctor)[0]
    add_appointment(db, doctor, make_patient(), start)
    answer = as_admin.post(
        f"/admin/doctors/{doctor.id}/book/walk-in",
        data={
            "start": start.isoformat(),
            "full_name": "Late",
            "phone": "1",
            "email": "l@example.org",
        },
    )
    assert answer.status_code == 409
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.email == "l@example.org")) is None


@pytest.mark.parametrize(
    "path",
    [
        "/admin/patients/{patient}/book",
        "/admin/patients/{patient}/book/{doctor}",
        "/admin/doctors/{doctor}/book",
        "/admin/doctors/{doctor}/book/patient",
    ],
)
@pytest.mark.parametrize("role", [Role.DOCTOR, Role.PATIENT])
def test_only_admins_use_the_front_desk(auth, db, doctor, patient, role, path, make_user):
    user = doctor.user if role == Role.DOCTOR else patient.user
    auth.login(user)
    answer = auth.client.get(path.format(patient=patient.id, doctor=doctor.id))
    assert answer.status_code == 403


def test_only_admins_cancel_from_the_front_desk(auth, db, doctor, patient):
    visit = add_appointment(db, doctor, patient, utcnow() + timedelta(days=3))
    auth.login(patient.user)
    answer = auth.client.post(f"/admin/appointments/{visit.id}/cancel", data={})
    assert answer.status_code == 403
    assert appointments_of(db, patient.id)[0].status == Status.CONFIRMED


def test_a_visit_of_the_record_opens_with_who_booked_it_and_staff_actions(
    as_admin, db, admin, doctor, patient
):
    start = free_starts(doctor)[0]
    as_admin.post(
        f"/admin/patients/{patient.id}/book/{doctor.id}/confirm", data={"start": start.isoformat()}
    )
    (visit,) = appointments_of(db, patient.id)
    record = as_admin.get(f"/admin/patients/{patient.id}").text
    assert f'href="/admin/appointments/{visit.id}"' in record
    page = as_admin.get(f"/admin/appointments/{visit.id}")
    assert page.status_code == 200
    assert "Ada Admin" in page.text  # booked by
    assert f'action="/admin/appointments/{visit.id}/cancel"' in page.text
    assert f'href="/admin/appointments/{visit.id}/move"' in page.text
    listed = as_admin.get("/admin/appointments").text
    assert f'href="/admin/appointments/{visit.id}"' in listed
    doctors = as_admin.get("/admin/doctors").text
    assert f'href="/admin/doctors/{doctor.id}/book"' in doctors


def test_an_unknown_visit_is_not_found_for_staff(as_admin, db):
    assert as_admin.get("/admin/appointments/999999").status_code == 404
    assert as_admin.get("/admin/appointments/999999/move").status_code == 404


def test_the_patient_and_the_doctor_are_told_when_staff_book_move_and_cancel(
    as_admin, db, doctor, patient
):
    from sqlalchemy import select

    from portal.messages.models import Message

    first, second = free_starts(doctor)[:2]
    url = f"/admin/patients/{patient.id}/book/{doctor.id}/confirm"
    assert as_admin.post(url, data={"start": first.isoformat()}).status_code == 303
    (visit,) = appointments_of(db, patient.id)
    moved = as_admin.post(
        f"/admin/appointments/{visit.id}/move", data={"start": second.isoformat()}
    )
    assert moved.status_code == 303
    cancelled = as_admin.post(f"/admin/appointments/{visit.id}/cancel", data={"reason": "Ill"})
    assert cancelled.status_code == 303
    db.session.expire_all()
    told = db.session.scalars(
        select(Message).where(Message.appointment_id == visit.id).order_by(Message.id)
    ).all()
    to_patient = [m.kind for m in told if m.user_id == patient.user_id]
    to_doctor = [m.kind for m in told if m.user_id == doctor.user_id]
    assert to_patient == ["booking_confirmed", "booking_moved", "booking_cancelled"]
    assert to_doctor == ["doctor_booking", "doctor_booking", "doctor_cancellation"]


def test_the_front_desk_books_for_a_phone_caller_with_no_email(as_admin, db, admin, doctor):
    start = free_starts(doctor)[0]
    form = as_admin.get(
        f"/admin/doctors/{doctor.id}/book/patient", query_string={"start": start.isoformat()}
    ).text
    assert "Email (optional)" in form
    answer = as_admin.post(
        f"/admin/doctors/{doctor.id}/book/walk-in",
        data={
            "start": start.isoformat(),
            "full_name": "Noé Caller",
            "phone": "+33 6 12 34 56 78",
            "email": "",
            "reason": "",
        },
    )
    assert answer.status_code == 303
    patient = db.session.scalar(select(Patient).join(User).where(User.full_name == "Noé Caller"))
    assert patient.user.email is None
    (visit,) = appointments_of(db, patient.id)
    assert visit.status == Status.CONFIRMED
    assert visit.booked_by_id == admin.id
    record = as_admin.get(answer.headers["Location"]).text
    assert "Noé Caller is recorded and booked with" in html.unescape(record)
    assert "No email · +33 6 12 34 56 78" in record
    assert f'id="visit-{visit.id}"' in record
    # No link to set a password, and no message waiting for an address it does not have.
    assert (
        db.session.scalar(select(ActivationToken).where(ActivationToken.user_id == patient.user_id))
        is None
    )
    assert db.session.scalars(select(Message.kind)).all() == ["doctor_booking"]
    # The front desk finds them again by name or phone, shown without an email.
    for query in ("caller", "12 34 56"):
        found = as_admin.get(
            f"/admin/doctors/{doctor.id}/book/patient",
            query_string={"start": start.isoformat(), "q": query},
        ).text
        assert "Book for Noé Caller" in html.unescape(found)
        assert "No email, +33 6 12 34 56 78" in found
