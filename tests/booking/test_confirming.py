"""Before a patient confirms a time: the time survives signing in or registering, the
panel says until when the visit can be cancelled online and which of their visits it
overlaps, and moving a visit asks first."""

import re
from urllib.parse import parse_qs, urlsplit

from portal.booking.models import BookingSettings
from tests.auth.test_reset_and_verification import _token_from_outbox
from tests.booking.test_views import free_slots, take


def set_cutoff(db, hours):
    db.session.get(BookingSettings, 1).cancel_cutoff_hours = hours
    db.session.commit()


def confirm_path(doctor, slot):
    return f"/doctors/{doctor.id}/book?start={slot.start.isoformat().replace('+', '%2B')}"


def test_a_visitor_who_chose_a_time_is_sent_to_sign_in_and_told_why(client, db, doctor):
    slot = free_slots(db, doctor)[0]
    response = client.get(confirm_path(doctor, slot))
    assert response.status_code == 302
    location = response.headers["Location"]
    going = parse_qs(urlsplit(location).query)["next"][0]
    assert going.startswith(f"/doctors/{doctor.id}/book?start=")
    login = client.get(location).text
    assert "Sign in or create an account to book" in login
    assert doctor.user.full_name in login
    # Creating an account instead keeps the way back.
    register_link = re.search(r'href="(/register\?next=[^"]+)"', login)
    assert register_link


def test_registering_comes_back_to_the_chosen_time(client, db, doctor):
    slot = free_slots(db, doctor)[0]
    going = confirm_path(doctor, slot)
    page = client.get("/register", query_string={"next": going}).text
    assert "you come back to where you were" in page
    response = client.post(
        "/register",
        data={
            "full_name": "Léa Martin",
            "email": "lea.martin@example.org",
            "password": "quiet-harbour-lantern-42",
            "confirm": "quiet-harbour-lantern-42",
            "next": going,
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == going
    panel = client.get(going)
    assert panel.status_code == 200
    assert f'value="{slot.start.isoformat()}"' in panel.text
    # Booking waits for the address: the panel says so and offers the link again.
    assert 'id="verify-email-notice"' in panel.text
    assert "Book this appointment" not in panel.text
    # The link from the email confirms it and comes back to the same time, bookable.
    token = _token_from_outbox(db, "/verify-email/")
    assert client.get(f"/verify-email/{token}").status_code == 303
    confirmed = client.post("/verify-email")
    assert confirmed.status_code == 303
    assert confirmed.headers["Location"] == going
    panel = client.get(going)
    assert "Book this appointment" in panel.text
    assert f'value="{slot.start.isoformat()}"' in panel.text


def test_registering_never_sends_elsewhere(client, db):
    response = client.post(
        "/register",
        data={
            "full_name": "Léa Martin",
            "email": "lea.elsewhere@example.org",
            "password": "quiet-harbour-lantern-42",
            "confirm": "quiet-harbour-lantern-42",
            "next": "//evil.example/steal",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/patient"


def test_the_panel_says_until_when_the_visit_can_be_cancelled(auth, client, db, doctor, patient):
    slot = free_slots(db, doctor)[-1]
    auth.login(patient.user)
    set_cutoff(db, 0)
    panel = client.get(confirm_path(doctor, slot)).text
    assert 'id="cutoff-hint"' in panel
    assert "You can cancel or move it online until" in panel
    assert 'id="cutoff-warning"' not in panel
    set_cutoff(db, 24 * 60)  # two months: every time offered is inside the cutoff
    panel = client.get(confirm_path(doctor, slot)).text
    assert 'id="cutoff-warning"' in panel
    assert "it cannot be cancelled or moved online" in panel


def test_the_panel_warns_of_an_overlapping_visit(
    auth, client, db, doctor, patient, make_doctor, make_patient
):
    other_doctor = make_doctor()
    slot = free_slots(db, doctor)[2]
    auth.login(patient.user)
    assert 'id="overlap-warning"' not in client.get(confirm_path(doctor, slot)).text
    mine = take(db, other_doctor, patient, free_slots(db, other_doctor)[2])
    assert mine.starts_at == slot.start
    # Someone else's visit at that time is none of this patient's business.
    take(db, make_doctor(), make_patient(), free_slots(db, other_doctor)[2])
    panel = client.get(confirm_path(doctor, slot)).text
    assert 'id="overlap-warning"' in panel
    assert f'href="/appointments/{mine.id}"' in panel
    assert panel.count("/appointments/") == 1


def test_moving_a_visit_asks_first(auth, client, htmx, db, doctor, patient):
    slots = free_slots(db, doctor, days=20)
    appointment = take(db, doctor, patient, slots[-1])
    auth.login(patient.user)
    start = slots[-2].start.isoformat()
    panel = htmx.get(f"/appointments/{appointment.id}/reschedule", query_string={"start": start})
    assert panel.status_code == 200
    assert re.search(r"Move from [^<]+ to [^<]+\?", panel.text)
    assert f'action="/appointments/{appointment.id}/reschedule"' in panel.text
    assert f'name="start" value="{start}"' in panel.text
    # The visit being moved does not count as an overlap with itself.
    assert 'id="overlap-warning"' not in panel.text
    # Nothing moved until the patient confirms.
    db.session.refresh(appointment)
    assert appointment.starts_at == slots[-1].start
    # Without JavaScript, the same question on the whole page.
    page = client.get(f"/appointments/{appointment.id}/reschedule", query_string={"start": start})
    assert "<html" in page.text
    assert re.search(r"Move from [^<]+ to [^<]+\?", page.text)
