"""Admin pages."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from portal.admin import services
from portal.db import utcnow

bp = Blueprint("admin", __name__)


@bp.get("/")
@login_required
def dashboard():
    counts = services.dashboard_counts(actor=current_user, now=utcnow())
    return render_template("admin/dashboard.html", counts=counts)
