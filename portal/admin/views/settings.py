"""The booking rules and the audit trail."""

from flask import flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin import services
from portal.admin.forms import (
    BookingSettingsForm,
)
from portal.admin.views.common import (
    bp,
    page_number,
)
from portal.auth import two_factor
from portal.booking import services as booking
from portal.htmx import hx_redirect
from portal.web import errors_on, status_label


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    current = services.booking_settings(actor=current_user)
    form = BookingSettingsForm(obj=current if request.method == "GET" else None)
    if request.method == "GET":
        form.require_staff_otp.data = two_factor.get_sign_in_policy().require_staff_otp
    if form.validate_on_submit():
        with errors_on(form):
            booking.update_booking_settings(
                actor=current_user,
                min_notice_minutes=form.min_notice_minutes.data,
                horizon_days=form.horizon_days.data,
                cancel_cutoff_hours=form.cancel_cutoff_hours.data,
                max_upcoming_per_patient=form.max_upcoming_per_patient.data,
                # Left as they are by a form that does not send the field.
                reminder_minutes_before=(
                    form.reminder_minutes_before.data.split(",")
                    if "reminder_minutes_before" in request.form
                    else None
                ),
            )
            two_factor.set_staff_requirement(
                actor=current_user, required=form.require_staff_otp.data
            )
            flash(_("Booking settings saved."), "success")
            return hx_redirect(url_for(".settings"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/settings.html", form=form), status


@bp.get("/audit")
def audit():
    filters = {
        "entity_type": request.args.get("entity_type") or None,
        "action": (request.args.get("action") or "").strip() or None,
        "actor_id": request.args.get("actor_id", type=int),
    }
    page = services.audit_events(actor=current_user, **filters, page=page_number(), per_page=50)
    return render_template(
        "admin/audit.html",
        page=page,
        filters=filters,
        entity_types=services.AUDIT_ENTITY_TYPES,
        admins=services.admin_choices(actor=current_user),
        status_label=status_label,
    )
