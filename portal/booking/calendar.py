"""An appointment as an iCalendar file, for "add to calendar" and for messages.

No medical data goes in: not the reason for the visit, not the doctor's notes."""

from icalendar import Calendar, Event, vCalAddress

from portal.booking.models import Status


def appointment_uid(appointment):
    """The UID every calendar file of this visit shares, so calendars update one event."""
    return f"appointment-{appointment.id}@clinic-portal"


def appointment_ics(
    appointment,
    *,
    now,
    summary,
    method="PUBLISH",
    organizer=None,
    attendee=None,
    product="-//Clinic Portal//EN",
):
    """The appointment as iCalendar bytes (RFC 5545), times in UTC. `method` REQUEST or
    CANCEL (with the organizer's and the attendee's addresses) makes it an update that
    calendars apply to the event of the same UID; its SEQUENCE rises with every change."""
    calendar = Calendar()
    calendar.add("prodid", product)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("sequence", appointment.calendar_sequence or 0)
    event.add("dtstamp", now)
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    event.add("summary", summary)
    clinic = appointment.clinic
    location = ", ".join(
        part for part in (clinic.name, clinic.address, clinic.postal_code, clinic.city) if part
    )
    event.add("location", location)
    if organizer:
        event.add("organizer", vCalAddress(f"mailto:{organizer}"))
    if attendee:
        event.add("attendee", vCalAddress(f"mailto:{attendee}"))
    cancelled = method == "CANCEL" or appointment.status == Status.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
