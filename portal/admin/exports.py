"""The admin's CSV export of appointments, safe to open in a spreadsheet."""

import csv
import io
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from portal.web import status_label

# Spreadsheet programs read the file as UTF-8 (accents intact) only with this mark.
BYTE_ORDER_MARK = "\ufeff"

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _local(instant, zone):
    """An instant as the clinic's wall clock reads it, as spreadsheets parse dates."""
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M") if instant is not None else ""


def appointments_csv(rows):
    """The appointments as CSV text with a byte-order mark: a header in the reader's
    language, one row each, times on the clinic's clock with its time zone beside them."""
    buffer = io.StringIO()
    buffer.write(BYTE_ORDER_MARK)
    writer = csv.writer(buffer)
    writer.writerow(
        [
            _("ID"),
            _("Start"),
            _("End"),
            _("Time zone"),
            _("Status"),
            _("Doctor"),
            _("Patient"),
            _("Patient email"),
            _("Patient phone"),
            _("Clinic"),
            _("City"),
            _("Reason"),
            _("Booked by"),
            _("Cancelled at"),
            _("Cancellation reason"),
        ]
    )
    for item in rows:
        zone = ZoneInfo(item.clinic.timezone)
        writer.writerow(
            [
                _cell(value)
                for value in (
                    item.id,
                    _local(item.starts_at, zone),
                    _local(item.ends_at, zone),
                    item.clinic.timezone,
                    status_label(item.status),
                    item.doctor.user.full_name,
                    item.patient.user.full_name,
                    item.patient.user.email or _("No email"),
                    item.patient.phone,
                    item.clinic.name,
                    item.clinic.city,
                    item.reason,
                    item.booked_by.full_name if item.booked_by else "",
                    _local(item.cancelled_at, zone),
                    item.cancel_reason,
                )
            ]
        )
    return buffer.getvalue()
