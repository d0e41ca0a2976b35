"""Clinics closed on given days (public holidays): no slot is offered on them."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.booking import services as booking
from portal.booking.availability import next_free_slots
from portal.booking.errors import SlotUnavailable
from portal.db import utcnow
from portal.errors import ValidationFailed
from portal.scheduling import services
from portal.scheduling.models import ClinicClosure


def slots_of(doctor, days=14):
    now = utcnow()
    return booking.slots_for(
        doctor=doctor, first_day=now.date(), last_day=now.date() + timedelta(days=days), now=now
    )


def local_day(doctor, slot):
    return slot.start.astimezone(ZoneInfo(doctor.clinic.timezone)).date()


def test_a_closed_day_offers_no_slot_and_refuses_booking(db, admin, doctor, patient):
    first = slots_of(doctor)[0]
    day = local_day(doctor, first)
    services.add_clinic_closure(actor=admin, clinic=doctor.clinic, day=day, reason="Holiday")
    db.session.commit()
    assert all(local_day(doctor, slot) != day for slot in slots_of(doctor))
    assert slots_of(doctor), "other days are still offered"
    with pytest.raises(SlotUnavailable):
        booking.book(
            actor=patient.user,
            patient=patient,
            doctor_id=doctor.id,
            start=first.start,
            reason="",
            now=utcnow(),
        )
    db.session.rollback()


def test_the_next_free_time_skips_a_closed_day(db, admin, doctor):
    settings = booking.get_booking_settings()
    first = next_free_slots([doctor], now=utcnow(), settings=settings)[doctor.id]
    services.add_clinic_closure(
        actor=admin, clinic=doctor.clinic, day=local_day(doctor, first), reason=""
    )
    db.session.commit()
    later = next_free_slots([doctor], now=utcnow(), settings=settings)[doctor.id]
    assert local_day(doctor, later) > local_day(doctor, first)


def test_a_day_is_closed_once_and_can_be_opened_again(db, admin, doctor):
    day = local_day(doctor, slots_of(doctor)[0])
    closure = services.add_clinic_closure(actor=admin, clinic=doctor.clinic, day=day, reason="")
    with pytest.raises(ValidationFailed):
        services.add_clinic_closure(actor=admin, clinic=doctor.clinic, day=day, reason="")
    services.remove_clinic_closure(actor=admin, clinic=doctor.clinic, closure_id=closure.id)
    db.session.commit()
    assert any(local_day(doctor, slot) == day for slot in slots_of(doctor))


def test_admins_close_a_day_on_the_clinic_page(auth, admin, db, doctor):
    auth.login(admin)
    day = local_day(doctor, slots_of(doctor)[0])
    page = auth.client.get(f"/admin/clinics/{doctor.clinic_id}/edit")
    assert "Closed days" in page.text
    answer = auth.client.post(
        f"/admin/clinics/{doctor.clinic_id}/closures",
        data={"day": day.isoformat(), "reason": "Bastille Day"},
    )
    assert answer.status_code == 303
    page = auth.client.get(f"/admin/clinics/{doctor.clinic_id}/edit")
    assert "Bastille Day" in page.text
    closure = db.session.scalar(select(ClinicClosure))
    assert closure.day == day
    answer = auth.client.post(
        f"/admin/clinics/{doctor.clinic_id}/closures/{closure.id}/remove", data={}
    )
    assert answer.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(ClinicClosure)) is None


def test_a_closure_without_a_day_is_refused(auth, admin, db, doctor):
    auth.login(admin)
    answer = auth.client.post(f"/admin/clinics/{doctor.clinic_id}/closures", data={"day": ""})
    assert answer.status_code == 422


def test_doctors_cannot_close_their_clinic(auth, db, doctor):
    auth.login(doctor.user)
    day = utcnow().date() + timedelta(days=3)
    answer = auth.client.post(
        f"/admin/clinics/{doctor.clinic_id}/closures", data={"day": day.isoformat()}
    )
    assert answer.status_code == 403
    assert db.session.scalar(select(ClinicClosure)) is None
