"""GET /api/v1/messages and POST /api/v1/messages/{id}/resend: the delivery log."""

import pytest

from portal.messages import delivery, services
from portal.messages.models import Message, MessageStatus
from tests.api.conftest import assert_problem


@pytest.fixture
def log(db):
    """Three messages: one sent, one failed, one still queued."""
    ids = [
        services.queue(
            kind=kind, event=f"log:{n}", to_address=to, subject=f"Subject {n}", text="Hello"
        )
        for n, (kind, to) in enumerate(
            [
                ("booking_confirmed", "ana@example.org"),
                ("reminder", "ana@example.org"),
                ("activation", "bo@example.org"),
            ]
        )
    ]
    db.session.commit()
    sent, failed, queued = (db.session.get(Message, i) for i in ids)
    sent.status, sent.attempts = MessageStatus.SENT, 1
    failed.status, failed.attempts, failed.last_error = MessageStatus.FAILED, 5, "SMTP down"
    db.session.commit()
    return sent, failed, queued


def test_an_admin_reads_the_delivery_log(api, admin, log):
    _sent, failed, _queued = log
    body = api.get("/messages", user=admin).get_json()
    assert body["total"] == 3
    assert {item["status"] for item in body["items"]} == {"sent", "failed", "queued"}
    item = next(i for i in body["items"] if i["id"] == failed.id)
    assert item == {
        "id": failed.id,
        "kind": "reminder",
        "to": "ana@example.org",
        "status": "failed",
        "attempts": 5,
        "last_error": "SMTP down",
        "created_at": item["created_at"],
        "sent_at": None,
        "appointment_id": None,
    }
    assert item["created_at"].endswith("+00:00")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=failed", {"reminder"}),
        ("kind=activation", {"activation"}),
        ("to=ANA@example.org", {"booking_confirmed", "reminder"}),
        ("status=sent&to=bo@example.org", set()),
    ],
)
def test_the_log_is_filtered(api, admin, log, query, expected):
    body = api.get(f"/messages?{query}", user=admin).get_json()
    assert {item["kind"] for item in body["items"]} == expected


def test_a_bad_filter_is_refused(api, admin, log):
    assert_problem(api.get("/messages?status=lost", user=admin), 400, "invalid_request")


def test_a_failed_message_is_sent_again(app, api, admin, db, log, mail_outbox):
    _sent, failed, _queued = log
    response = api.post(f"/messages/{failed.id}/resend", user=admin)
    assert response.status_code == 202
    assert response.get_json()["status"] == "queued"
    assert response.get_json()["attempts"] == 0
    with app.app_context():
        delivery.tick()
    assert [m.subject for m in mail_outbox if m.subject == "Subject 1"] == ["Subject 1"]
    db.session.expire_all()
    assert db.session.get(Message, failed.id).status == MessageStatus.SENT


def test_only_a_failed_message_is_sent_again(api, admin, log):
    sent, _failed, queued = log
    for message in (sent, queued):
        assert_problem(api.post(f"/messages/{message.id}/resend", user=admin), 409, "not_failed")
    assert_problem(api.post("/messages/999999/resend", user=admin), 404, "not_found")


def test_only_admins_see_the_log(api, doctor, patient, log):
    _sent, failed, _queued = log
    assert api.get("/messages").status_code == 401
    for user in (doctor.user, patient.user):
        assert_problem(api.get("/messages", user=user), 403, "forbidden")
        assert_problem(api.post(f"/messages/{failed.id}/resend", user=user), 403, "forbidden")


def test_the_log_is_in_the_openapi_document(api):
    document = api.get("/openapi.json").get_json()
    assert set(document["paths"]["/api/v1/messages"]) == {"get"}
    resend = document["paths"]["/api/v1/messages/{message_id}/resend"]["post"]
    assert {"202", "403", "404", "409"} <= set(resend["responses"])
