"""Every appointment, filtered, and the same list as a CSV export."""

from datetime import UTC, date, datetime, timedelta

from flask import make_response, render_template, request, url_for
from flask_login import current_user

from portal.admin import exports, services
from portal.admin.views.common import (
    bp,
    page_number,
)
from portal.booking import services as booking
from portal.booking.models import Status


def _day(value):
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _appointment_filters():
    """The filters from the query string; dates are whole UTC days, `to` included."""
    args = request.args
    status = args.get("status") or None
    if status not in {*Status, None}:
        status = None
    first, last = _day(args.get("from")), _day(args.get("to"))
    return {
        "status": status,
        "doctor_id": args.get("doctor_id", type=int),
        "clinic_id": args.get("clinic_id", type=int),
        "starts_from": datetime.combine(first, datetime.min.time(), UTC) if first else None,
        "starts_before": (
            datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC) if last else None
        ),
    }, {"from": first, "to": last}


@bp.get("/appointments")
def appointments():
    filters, days = _appointment_filters()
    page = booking.list_appointments(
        actor=current_user, **filters, page=page_number(), per_page=services.ADMIN_PAGE_SIZE
    )
    return render_template(
        "admin/appointments.html",
        page=page,
        filters=filters,
        days=days,
        statuses=list(Status),
        doctors=services.doctor_choices(actor=current_user, active_only=False),
        clinics=services.clinic_choices(actor=current_user, active_only=False),
        export_url=url_for(".appointments_csv", **request.args.to_dict(flat=True)),
        export_limit=services.EXPORT_LIMIT,
    )


@bp.get("/appointments.csv")
def appointments_csv():
    filters, _days = _appointment_filters()
    rows, truncated = services.export_appointments(actor=current_user, **filters)
    response = make_response(exports.appointments_csv(rows))
    response.content_type = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="appointments.csv"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Export-Truncated"] = "true" if truncated else "false"
    return response
