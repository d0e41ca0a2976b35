"""Every appointment, filtered, and the same list as a CSV export."""

from datetime import date

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
    """The filters from the query string; dates are days of each clinic's own calendar,
    `to` included. With no filter at all the list opens at today."""
    args = request.args
    status = args.get("status") or None
    if status not in {*Status, None}:
        status = None
    first, last = _day(args.get("from")), _day(args.get("to"))
    # The list opens at today, and its next pages stay there.
    from_today = not (set(args) - {"page"}) or args.get("from_today") == "1"
    return {
        "status": status,
        "doctor_id": args.get("doctor_id", type=int),
        "clinic_id": args.get("clinic_id", type=int),
        "patient_id": args.get("patient_id", type=int),
        "patient_q": (args.get("patient") or "").strip()[:100] or None,
        "first_day": first,
        "last_day": last,
        "from_today": from_today and first is None,  # each clinic's own today
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
        export_url=url_for(
            ".appointments_csv",
            **(
                {"from_today": "1"}
                if filters["from_today"]
                else {k: v for k, v in request.args.items() if k != "page"}
            ),
        ),
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
