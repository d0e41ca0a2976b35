"""What patients and doctors are told about visits, written into the outbox by the
booking services in the transaction of the change.

Each message is in its recipient's language, names the clinic, the doctor and the time
in the clinic's zone (labelled), and links to the appointment. No medical data: never the
reason for the visit, never notes; a cancellation's reason is told to the patient only
when the doctor or the clinic cancelled."""

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.booking.calendar import appointment_ics
from portal.i18n import format_local
from portal.messages import services as outbox
from portal.messages.services import Attachment


def _summary(appointment):
    return _("Appointment with %(doctor)s", doctor=appointment.doctor.user.full_name)


def _calendar_file(appointment, recipient, *, method, now):
    body = appointment_ics(
        appointment,
        now=now,
        summary=_summary(appointment),
        method=method,
        organizer=outbox.sender_address(),
        attendee=recipient.email,
    )
    return Attachment(f"appointment-{appointment.id}.ics", body, f"text/calendar; method={method}")


def _queue(
    kind,
    appointment,
    recipient,
    *,
    event,
    now,
    subject,
    intro,
    previous_start=None,
    cancel_reason="",
    show_patient=False,
    calendar_method=None,
    lead_minutes=0,
    footnote=None,
):
    """Compose one message about a visit in the recipient's language and queue it.
    `subject` and `intro` are functions called in that language with the context."""
    if recipient is None or not recipient.is_active or not recipient.email:
        # Nobody, or nowhere, to tell (a patient recorded without an email).
        return None
    language = outbox.language_of(recipient.locale)
    clinic = appointment.clinic
    with force_locale(language):
        context = {
            "language": language,
            "greeting": _("Hello %(name)s,", name=recipient.full_name),
            "doctor": appointment.doctor.user.full_name,
            "patient": appointment.patient.user.full_name if show_patient else None,
            "when": format_local(appointment.starts_at, clinic.timezone, "full"),
            "previous": (
                format_local(previous_start, clinic.timezone, "full") if previous_start else None
            ),
            "clinic": clinic.name,
            "address": ", ".join(
                part for part in (clinic.address, clinic.postal_code, clinic.city) if part
            ),
            "cancel_reason": cancel_reason,
            "link": outbox.link_to("booking.appointment", appointment_id=appointment.id),
        }
        context["subject"] = subject(context)
        context["intro"] = intro(context)
        context["footnote"] = footnote(context) if footnote else ""
        attachment = (
            _calendar_file(appointment, recipient, method=calendar_method, now=now)
            if calendar_method
            else None
        )
        text = render_template("messages/visit.txt", **context)
        html = render_template("messages/visit.html", **context)
    return outbox.queue(
        kind=kind,
        event=event,
        lead_minutes=lead_minutes,
        to_address=recipient.email,
        user_id=recipient.id,
        language=language,
        subject=context["subject"],
        text=text,
        html=html,
        appointment_id=appointment.id,
        attachment=attachment,
        now=now,
    )


def _tell_doctor(appointment, actor):
    # The doctor hears of what others did to their visits, not of their own changes.
    return actor.id != appointment.doctor.user_id


def tell_booked(appointment, *, actor, now):
    """A new visit: the patient's confirmation with a calendar file, the doctor's notice."""
    event = f"appointment-{appointment.id}-booked"
    _queue(
        "booking_confirmed",
        appointment,
        appointment.patient.user,
        event=event,
        now=now,
        subject=lambda c: _("Your appointment with %(doctor)s is confirmed", doctor=c["doctor"]),
        intro=lambda c: _("Your appointment is booked. We look forward to seeing you."),
        calendar_method="REQUEST",
    )
    if _tell_doctor(appointment, actor):
        _queue(
            "doctor_booking",
            appointment,
            appointment.doctor.user,
            event=event,
            now=now,
            show_patient=True,
            subject=lambda c: _("New appointment: %(patient)s", patient=c["patient"]),
            intro=lambda c: _("%(patient)s booked an appointment with you.", patient=c["patient"]),
        )


def tell_moved(appointment, *, actor, previous_start, now):
    """A visit moved to another time: the patient's new calendar file, the doctor's notice."""
    event = f"appointment-{appointment.id}-moved-{appointment.calendar_sequence}"
    _queue(
        "booking_moved",
        appointment,
        appointment.patient.user,
        event=event,
        now=now,
        previous_start=previous_start,
        subject=lambda c: _("Your appointment with %(doctor)s has moved", doctor=c["doctor"]),
        intro=lambda c: _("Your appointment has moved to a new time."),
        calendar_method="REQUEST",
    )
    if _tell_doctor(appointment, actor):
        _queue(
            "doctor_booking",
            appointment,
            appointment.doctor.user,
            event=event,
            now=now,
            previous_start=previous_start,
            show_patient=True,
            subject=lambda c: _("Appointment moved: %(patient)s", patient=c["patient"]),
            intro=lambda c: _(
                "%(patient)s moved their appointment with you.", patient=c["patient"]
            ),
        )


def tell_cancelled(appointment, *, actor, now, tell_patient=True):
    """A cancelled visit. The patient gets a calendar file that removes it: a
    confirmation when they cancelled, else the news with the reason given (unless
    `tell_patient` is False: their account is closing). The doctor hears of a
    cancellation by anyone but themself."""
    event = f"appointment-{appointment.id}-cancelled"
    by_patient = actor.id == appointment.patient.user_id
    by_doctor = actor.id == appointment.doctor.user_id

    def subject(c):
        if by_patient:
            return _("Your appointment with %(doctor)s is cancelled", doctor=c["doctor"])
        if by_doctor:
            return _("%(doctor)s cancelled your appointment", doctor=c["doctor"])
        return _("%(clinic)s cancelled your appointment", clinic=c["clinic"])

    def intro(c):
        if by_patient:
            return _("You cancelled this appointment.")
        if by_doctor:
            return _(
                "We are sorry: %(doctor)s had to cancel your appointment. "
                "Please book another time.",
                doctor=c["doctor"],
            )
        return _(
            "We are sorry: the clinic had to cancel your appointment with %(doctor)s. "
            "Please book another time.",
            doctor=c["doctor"],
        )

    _queue(
        "booking_cancelled",
        appointment,
        appointment.patient.user if tell_patient else None,
        event=event,
        now=now,
        cancel_reason="" if by_patient else appointment.cancel_reason,
        subject=subject,
        intro=intro,
        calendar_method="CANCEL",
    )
    if _tell_doctor(appointment, actor) and appointment.doctor.is_active:
        _queue(
            "doctor_cancellation",
            appointment,
            appointment.doctor.user,
            event=event,
            now=now,
            show_patient=True,
            subject=lambda c: _("Appointment cancelled: %(patient)s", patient=c["patient"]),
            intro=lambda c: (
                _("%(patient)s cancelled their appointment with you.", patient=c["patient"])
                if by_patient
                else _("The clinic cancelled this appointment with you.")
            ),
        )


def tell_reminder(appointment, *, lead_minutes, event, now):
    """The patient's reminder of a coming visit; None when it was already written."""
    return _queue(
        "reminder",
        appointment,
        appointment.patient.user,
        event=event,
        lead_minutes=lead_minutes,
        now=now,
        subject=lambda c: _("Reminder: your appointment with %(doctor)s", doctor=c["doctor"]),
        intro=lambda c: _(
            "This is a reminder of your appointment. If you cannot come, please cancel it "
            "so that someone else can have the time."
        ),
        footnote=lambda c: _("You can turn reminders off in My profile."),
    )


def withdraw_reminders(appointment):
    """Reminders of the visit still waiting to be sent are withdrawn: it was cancelled
    or moved, and no one should be reminded of a time that no longer holds."""
    outbox.withdraw(appointment_id=appointment.id, kinds=("reminder",))
