"""The admin dashboard: counts and how full each doctor's schedule is."""

from flask import render_template
from flask_login import current_user

from portal.admin import services
from portal.admin.views.common import (
    bp,
)
from portal.db import utcnow


@bp.get("/")
def dashboard():
    now = utcnow()
    counts = services.dashboard_counts(actor=current_user, now=now)
    fill = services.schedule_fill(actor=current_user, now=now)
    return render_template("admin/dashboard.html", counts=counts, fill=fill, chart=_chart(fill))


CHART_BAR = 22
CHART_GAP = 10
CHART_LABEL = 190
CHART_WIDTH = 420
CHART_VALUE = 150


def _chart(fill):
    """Geometry of the horizontal bar chart, so the template only draws."""
    bars = []
    for index, row in enumerate(fill):
        ratio = row.ratio
        width = 0 if ratio is None else round(min(ratio, 1) * CHART_WIDTH, 1)
        bars.append(
            {
                "row": row,
                "y": index * (CHART_BAR + CHART_GAP),
                "width": width,
                "level": "none" if ratio is None else "high" if ratio >= 0.85 else "normal",
            }
        )
    return {
        "bars": bars,
        "bar": CHART_BAR,
        "label": CHART_LABEL,
        "plot": CHART_WIDTH,
        # Room on the right for the longest value label in any language ("pas d'horaires").
        "width": CHART_LABEL + CHART_WIDTH + CHART_VALUE,
        "height": max(1, len(bars)) * (CHART_BAR + CHART_GAP),
    }
