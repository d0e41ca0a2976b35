"""Audit events told in words an admin reads, in their language.

"Dr Laurent viewed Maya Chen's record", not `patient.record_viewed patient #12`: each
action has a sentence naming who acted and the record; an action without one (recorded
by a newer feature) falls back to its code, so nothing is ever hidden."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

ENTITY_LABELS = {
    "appointment": _l("Appointment"),
    "clinic": _l("Clinic"),
    "department": _l("Department"),
    "doctor": _l("Doctor"),
    "patient": _l("Patient"),
    "settings": _l("Booking rules"),
    "user": _l("Account"),
}

# %(who)s: who acted; %(record)s: the record's name; %(count)s where said.
SENTENCES = {
    "patient.record_viewed": _l("%(who)s viewed %(record)s's record"),
    "patient.list_viewed": _l("%(who)s viewed a list of %(count)s patients"),
    "patient.exported": _l("%(who)s downloaded all the data of %(record)s"),
    "patient.account_closed": _l("%(who)s closed the account of %(record)s"),
    "patient.created": _l("%(who)s added the patient %(record)s"),
    "patient.updated": _l("%(who)s changed the details of %(record)s"),
    "patient.medical_changed": _l("%(who)s changed the medical details of %(record)s"),
    "care.assigned": _l("%(who)s placed %(record)s in a doctor's care"),
    "care.unassigned": _l("%(who)s took %(record)s out of a doctor's care"),
    "appointments.exported": _l("%(who)s exported %(count)s appointments as CSV"),
    "appointment.booked": _l("%(who)s booked %(record)s"),
    "appointment.cancelled": _l("%(who)s cancelled %(record)s"),
    "appointment.rescheduled": _l("%(who)s moved %(record)s"),
    "user.signed_in": _l("%(who)s signed in"),
    "user.sign_in_failed": _l("A sign-in to the account of %(record)s failed"),
    "user.locked_out": _l("Sign-ins to the account of %(record)s were refused: too many attempts"),
    "user.created": _l("%(who)s created the account of %(record)s"),
    "user.activated": _l("%(who)s set a password and activated their account"),
    "user.password_changed": _l("%(who)s changed their password"),
    "user.updated": _l("%(who)s changed the account of %(record)s"),
    "refresh_token.reused": _l("A spent sign-in token of %(record)s was used again: all ended"),
    "doctor.onboarded": _l("%(who)s added the doctor %(record)s"),
    "doctor.updated": _l("%(who)s changed the profile of %(record)s"),
    "doctor.deactivated": _l("%(who)s deactivated the doctor %(record)s"),
    "weekly_hours.changed": _l("%(who)s changed the weekly hours of %(record)s"),
    "slot_settings.changed": _l("%(who)s changed the visit length of %(record)s"),
    "time_off.added": _l("%(who)s added time off for %(record)s"),
    "time_off.removed": _l("%(who)s removed time off of %(record)s"),
    "clinic.created": _l("%(who)s added the clinic %(record)s"),
    "clinic.updated": _l("%(who)s changed the clinic %(record)s"),
    "department.created": _l("%(who)s added the department %(record)s"),
    "department.updated": _l("%(who)s changed the department %(record)s"),
    "settings.changed": _l("%(who)s changed the booking rules"),
    "clinic.closed_day_added": _l("%(who)s closed the clinic %(record)s on a day"),
    "clinic.closed_day_removed": _l("%(who)s opened the clinic %(record)s again on a day"),
    "appointment.completed": _l("%(who)s marked %(record)s as completed"),
    "appointment.no_show": _l("%(who)s marked %(record)s as a no-show"),
    "user.email_verified": _l("%(who)s confirmed their email address"),
    "user.password_reset_requested": _l("A password reset link was sent to %(record)s"),
    "user.password_reset": _l("%(who)s set a new password with a reset link"),
    "user.otp_enabled": _l("%(who)s turned on two-factor sign-in"),
    "user.otp_disabled": _l("%(who)s turned off two-factor sign-in"),
    "user.recovery_code_used": _l("%(who)s signed in with a recovery code"),
    "user.recovery_codes_renewed": _l("%(who)s made new recovery codes"),
}


def who(event):
    """Who acted: their name (with the doctor's title), or the portal itself."""
    actor = event.actor
    if actor is None:
        return _("Someone not signed in")
    doctor = getattr(actor, "doctor", None)
    if doctor is not None and doctor.title:
        return f"{doctor.title} {actor.full_name}"
    return actor.full_name


def record(event, names):
    """The record an event is about, by name where the portal knows one."""
    if event.entity_id is None:
        return str(ENTITY_LABELS.get(event.entity_type, event.entity_type))
    name = names.get((event.entity_type, event.entity_id))
    if name:
        return name
    label = ENTITY_LABELS.get(event.entity_type, event.entity_type)
    return _("%(kind)s #%(id)s", kind=label, id=event.entity_id)


# Attempts at an email that names no account.
UNKNOWN_ACCOUNT = {
    "user.sign_in_failed": _l("A sign-in with an email that names no account failed"),
    "user.locked_out": _l("Sign-ins with an email that names no account were refused"),
}


def sentence(event, names):
    """The event in one sentence of the reader's language."""
    if event.entity_id is None and event.action in UNKNOWN_ACCOUNT:
        return str(UNKNOWN_ACCOUNT[event.action])
    template = SENTENCES.get(event.action)
    if template is None:
        return f"{who(event)}: {event.action} ({record(event, names)})"
    changes = event.changes or {}
    count = changes.get("rows", len(changes.get("patients") or ()))
    return str(template) % {"who": who(event), "record": record(event, names), "count": count}
