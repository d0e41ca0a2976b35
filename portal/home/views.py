"""The landing page and each role's home."""

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal import db as database
from portal.auth.models import Role
from portal.auth.views import home_url
from portal.booking import schedule
from portal.booking import services as booking
from portal.db import utcnow
from portal.directory import services as directory
from portal.extensions import db, limiter
from portal.scheduling import services as scheduling

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    departments = directory.list_departments()
    return render_template("home/index.html", departments=departments)


@bp.get("/patient")
@login_required
def patient():
    appointments = booking.upcoming_for_patient(actor=current_user, now=utcnow())
    doctors = directory.search_doctors(
        q=request.args.get("q"),
        page=request.args.get("page", 1, type=int),
        per_page=10,
        where=(scheduling.has_weekly_hours(),),
    )
    return render_template("home/patient.html", appointments=appointments, doctors=doctors)


@bp.get("/doctor")
@login_required
def doctor():
    """A doctor's home is their schedule: today, the same page as /doctor/schedule; a
    doctor with no weekly hours yet (just activated) starts by setting them."""
    profile = booking.doctor_of(current_user) if current_user.role == Role.DOCTOR else None
    if profile is not None and not scheduling.get_weekly_hours(actor=current_user, doctor=profile):
        return redirect(url_for("scheduling.start"))
    return schedule.show()


@bp.get("/health")
@limiter.limit("60 per minute")
def health():
    """For load balancers and the container healthcheck."""
    if database.database_ok(db.session):
        return jsonify(status="ok", database="ok")
    return jsonify(status="unavailable", database="unreachable"), 503
