"""Appointments: book (safe to retry with an Idempotency-Key), list, read, cancel,
reschedule, close, and export to a calendar."""

import hashlib
import json
import re

from flask import current_app, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from portal.api import schemas
from portal.api.outputs import appointment_out
from portal.api.problems import api_language
from portal.api.routing import operation, reply
from portal.auth import services as auth
from portal.auth.models import Role
from portal.booking import services as booking
from portal.booking.calendar import appointment_ics
from portal.booking.models import Status
from portal.db import utcnow
from portal.directory.models import Patient
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db

TAG = "Appointments"
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_PATTERN = re.compile(r"^[!-~]{1,255}$")


def _idempotency_key():
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not IDEMPOTENCY_PATTERN.match(key):
        raise ValidationFailed.on(IDEMPOTENCY_HEADER, _l("Use 1 to 255 visible ASCII characters."))
    return key


def _request_hash(body):
    canonical = json.dumps(
        {"method": request.method, "path": request.path, "body": body.model_dump(mode="json")},
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(stored):
    response = current_app.response_class(
        stored.response_body, status=stored.status_code, mimetype="application/json"
    )
    if stored.location:
        response.headers["Location"] = stored.location
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _patient(caller, patient_id):
    if patient_id is not None:
        patient = db.session.get(Patient, patient_id)
        if patient is None:
            raise NotFound()
        return patient
    if caller.role == Role.PATIENT:
        return booking.patient_of(caller)
    if caller.role == Role.ADMIN:
        raise ValidationFailed.on("patient_id", _l("This field is required."))
    return None  # a doctor: the booking service refuses


@operation(
    "/appointments",
    "POST",
    summary="Book a slot",
    description=(
        "By a patient for themself, or by an admin for `patient_id`. `start` is a slot's "
        "start as the slots endpoint gives it (any UTC offset is accepted). When the slot "
        "is not bookable (taken, full, outside the hours, in the past, too soon, too far) "
        "the answer is 409 `slot_unavailable`; of simultaneous requests for a one-seat slot "
        "exactly one succeeds.\n\n"
        "**Idempotency-Key**: a repeat with the same key by the same caller within 24 hours "
        "answers the original response (with `Idempotent-Replayed: true`) and books nothing "
        "more; the same key with a different body is 409 `idempotency_key_reused`. Only "
        "successful bookings are remembered: after an error, a retry tries again."
    ),
    tag=TAG,
    body=schemas.AppointmentIn,
    response=schemas.AppointmentOut,
    status=201,
    location=True,
    errors=(403, 404, 409),
    idempotent_key=True,
)
def book_appointment(caller, body):
    now = utcnow()
    key = _idempotency_key()
    request_hash = _request_hash(body)
    if key is not None:
        stored = auth.find_idempotent_response(
            user=caller, key=key, request_hash=request_hash, now=now
        )
        if stored is not None:
            return _replay(stored)
    appointment = booking.book(
        actor=caller,
        patient=_patient(caller, body.patient_id),
        doctor_id=body.doctor_id,
        start=body.start,
        reason=body.reason,
        now=now,
    )
    location = url_for("api.get_appointment", appointment_id=appointment.id)
    response = reply(appointment_out(appointment, caller), status=201, location=location)
    if key is None:
        return response
    try:
        auth.remember_response(
            user=caller,
            key=key,
            request_hash=request_hash,
            status_code=201,
            body=response.get_data(as_text=True),
            location=location,
            now=now,
        )
    except IntegrityError:
        # The same key won a race a moment ago: undo this booking, answer as it did.
        db.session.rollback()
        stored = auth.find_idempotent_response(
            user=caller, key=key, request_hash=request_hash, now=now
        )
        if stored is None:
            raise
        return _replay(stored)
    return response


@operation(
    "/appointments",
    "GET",
    summary="List appointments",
    description=(
        "A patient sees their own, a doctor theirs, an admin all; newest start first. "
        "`from` and `to` bound the start (ISO 8601 with offset; `to` is exclusive)."
    ),
    tag=TAG,
    query=schemas.AppointmentQuery,
    response=schemas.AppointmentPage,
)
def list_appointments(caller, query):
    page = booking.list_appointments(
        actor=caller,
        status=query.status,
        doctor_id=query.doctor_id,
        patient_id=query.patient_id,
        starts_from=query.from_,
        starts_before=query.to,
        page=query.page,
        per_page=query.per_page,
    )
    return reply(
        schemas.AppointmentPage(
            items=[appointment_out(item, caller) for item in page.items],
            page=page.page,
            per_page=page.per_page,
            total=page.total,
        )
    )


@operation(
    "/appointments/<id:appointment_id>",
    "GET",
    summary="One appointment",
    description="404 for anyone else's appointment.",
    tag=TAG,
    response=schemas.AppointmentOut,
    errors=(404,),
)
def get_appointment(caller, appointment_id):
    appointment = booking.get_appointment(actor=caller, appointment_id=appointment_id)
    return reply(appointment_out(appointment, caller))


@operation(
    "/appointments/<id:appointment_id>/cancel",
    "POST",
    summary="Cancel an appointment",
    description=(
        "The patient (until the cancellation cutoff, else 409 `too_late_to_cancel`), the "
        "doctor or an admin. Only a confirmed appointment can be cancelled (else 409 "
        "`not_changeable`). The seat is bookable again at once."
    ),
    tag=TAG,
    body=schemas.CancelIn,
    body_required=False,
    response=schemas.AppointmentOut,
    errors=(404, 409),
)
def cancel_appointment(caller, appointment_id, body):
    appointment = booking.get_appointment(actor=caller, appointment_id=appointment_id)
    booking.cancel(actor=caller, appointment=appointment, reason=body.reason, now=utcnow())
    return reply(appointment_out(appointment, caller))


@operation(
    "/appointments/<id:appointment_id>/reschedule",
    "POST",
    summary="Move an appointment to another slot",
    description=(
        "Atomic: on 409 (`slot_unavailable`, `too_late_to_cancel`, `not_changeable`) the "
        "appointment is exactly as it was. By the patient (until the cutoff) or an admin."
    ),
    tag=TAG,
    body=schemas.RescheduleIn,
    response=schemas.AppointmentOut,
    errors=(404, 409),
)
def reschedule_appointment(caller, appointment_id, body):
    appointment = booking.get_appointment(actor=caller, appointment_id=appointment_id)
    booking.reschedule(actor=caller, appointment=appointment, start=body.start, now=utcnow())
    return reply(appointment_out(appointment, caller))


@operation(
    "/appointments/<id:appointment_id>",
    "PATCH",
    summary="Close a visit",
    description=(
        "The doctor or an admin records `completed` or `no_show`, with notes, once the "
        "appointment has started (else 409 `not_changeable`)."
    ),
    tag=TAG,
    body=schemas.AppointmentUpdate,
    response=schemas.AppointmentOut,
    errors=(404, 409),
)
def update_appointment(caller, appointment_id, body):
    appointment = booking.get_appointment(actor=caller, appointment_id=appointment_id)
    close = booking.mark_completed if body.status == Status.COMPLETED else booking.mark_no_show
    close(actor=caller, appointment=appointment, notes=body.notes, now=utcnow())
    return reply(appointment_out(appointment, caller))


@operation(
    "/appointments/<id:appointment_id>/ics",
    "GET",
    summary="An appointment as an iCalendar file",
    tag=TAG,
    errors=(404,),
    media_type="text/calendar",
)
def appointment_calendar(caller, appointment_id):
    appointment = booking.get_appointment(actor=caller, appointment_id=appointment_id)
    with force_locale(api_language()):
        summary = _("Appointment with %(doctor)s", doctor=appointment.doctor.user.full_name)
    body = appointment_ics(appointment, now=utcnow(), summary=summary)
    response = current_app.response_class(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="appointment-{appointment.id}.ics"'
    )
    return response
