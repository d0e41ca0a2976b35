"""The delivery log of messages, and sending a failed one again (admin)."""

from portal.api import schemas
from portal.api.routing import operation, reply
from portal.db import utcnow
from portal.messages import services as messages

TAG = "Messages"


def message_out(message):
    return schemas.MessageOut(
        id=message.id,
        kind=message.kind,
        to=message.to_address,
        status=message.status,
        attempts=message.attempts,
        last_error=message.last_error,
        created_at=message.created_at,
        sent_at=message.sent_at,
        appointment_id=message.appointment_id,
    )


@operation(
    "/messages",
    "GET",
    summary="The delivery log",
    description=(
        "Every message the portal wrote, newest first, with its delivery status: "
        "`queued` (waiting for its first or next attempt), `sent` (the mail server took "
        "it) or `failed` (every attempt failed). Filter by `status`, `kind` and the "
        "recipient's address `to` (admin)."
    ),
    tag=TAG,
    query=schemas.MessageQuery,
    response=schemas.MessagePage,
    errors=(403,),
)
def list_messages(caller, query):
    page = messages.list_messages(
        actor=caller,
        status=query.status,
        kind=query.kind,
        to=query.to,
        page=query.page,
        per_page=query.per_page,
    )
    return reply(
        schemas.MessagePage(
            items=[message_out(item) for item in page.items],
            page=page.page,
            per_page=page.per_page,
            total=page.total,
        )
    )


@operation(
    "/messages/<id:message_id>/resend",
    "POST",
    summary="Send a failed message again",
    description=(
        "Queues a `failed` message again with a fresh count of attempts; it is delivered "
        "after this request (admin). A message that is not `failed` is 409 `not_failed`."
    ),
    tag=TAG,
    response=schemas.MessageOut,
    status=202,
    errors=(403, 404, 409),
    body_required=False,
)
def resend_message(caller, message_id):
    message = messages.get_message(actor=caller, message_id=message_id)
    messages.resend(actor=caller, message=message, now=utcnow())
    return reply(message_out(message), status=202)
