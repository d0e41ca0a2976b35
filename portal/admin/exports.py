"""The admin's CSV export of appointments, safe to open in a spreadsheet."""

import csv
import io

from flask_babel import gettext as _

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _iso(instant):
    return instant.isoformat() if instant is not None else ""


def appointments_csv(rows):
    """The appointments as CSV text: a header in the reader's language, one row each."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            _("ID"),
            _("Start (UTC)"),
            _("End (UTC)"),
            _("Status"),
            _("Doctor"),
            _("Patient"),
            _("Patient email"),
            _("Clinic"),
            _("City"),
            _("Time zone"),
            _("Reason"),
            _("Cancelled at (UTC)"),
            _("Cancellation reason"),
        ]
    )
    for item in rows:
        writer.writerow(
            [
                _cell(value)
                for value in (
                    item.id,
                    _iso(item.starts_at),
                    _iso(item.ends_at),
                    item.status,
                    item.doctor.user.full_name,
                    item.patient.user.full_name,
                    item.patient.user.email,
                    item.clinic.name,
                    item.clinic.city,
                    item.clinic.timezone,
                    item.reason,
                    _iso(item.cancelled_at),
                    item.cancel_reason,
                )
            ]
        )
    return buffer.getvalue()
