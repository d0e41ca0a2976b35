"""An appointment as an iCalendar file, for "add to calendar"."""

from icalendar import Calendar, Event

from portal.booking.models import Status


def appointment_ics(appointment, *, now, summary, product="-//Clinic Portal//EN"):
    """The appointment as iCalendar bytes (RFC 5545), times in UTC."""
    calendar = Calendar()
    calendar.add("prodid", product)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"appointment-{appointment.id}@clinic-portal")
    event.add("dtstamp", now)
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    event.add("summary", summary)
    clinic = appointment.clinic
    location = ", ".join(
        part for part in (clinic.name, clinic.address, clinic.postal_code, clinic.city) if part
    )
    event.add("location", location)
    if appointment.reason:
        event.add("description", appointment.reason)
    event.add("status", "CANCELLED" if appointment.status == Status.CANCELLED else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
