"""Forms for a doctor's slot settings and working intervals (time off, which may cancel
visits, is booking's: portal/booking/schedule_forms.py).

They only parse input; the rules (ranges, overlaps, order) live in the services.
"""

from datetime import time

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, TimeField
from wtforms.validators import InputRequired

REQUIRED = _l("This field is required.")
# Browsers send HH:MM, or HH:MM:SS when a step below a minute is set.
TIME_FORMATS = ["%H:%M", "%H:%M:%S"]


class SlotSettingsForm(FlaskForm):
    slot_minutes = IntegerField(
        _l("Slot length (minutes)"),
        validators=[InputRequired(REQUIRED)],
        description=_l("From 5 to 480 minutes."),
        render_kw={"inputmode": "numeric", "min": 5, "max": 480},
    )
    seats = IntegerField(
        _l("Patients per slot"),
        validators=[InputRequired(REQUIRED)],
        description=_l("How many patients can book the same slot, from 1 to 50."),
        render_kw={"inputmode": "numeric", "min": 1, "max": 50},
    )


class IntervalForm(FlaskForm):
    """Start and end of one interval; the weekday comes from the URL or the interval."""

    start = TimeField(_l("Start"), format=TIME_FORMATS, validators=[InputRequired(REQUIRED)])
    end = TimeField(_l("End"), format=TIME_FORMATS, validators=[InputRequired(REQUIRED)])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class StartHoursForm(FlaskForm):
    """A first week in one go: the same hours Monday to Friday."""

    start = TimeField(
        _l("From"), format=TIME_FORMATS, validators=[InputRequired(REQUIRED)], default=time(9)
    )
    end = TimeField(
        _l("Until"), format=TIME_FORMATS, validators=[InputRequired(REQUIRED)], default=time(17)
    )
