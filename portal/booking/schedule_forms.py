"""Forms on the doctor's schedule: closing a visit and cancelling one, days and time off.

They only parse input; the rules (which visit may change, text lengths) live in the
booking services. The one rule here is the doctor's: a cancellation needs a reason,
because the patient reads it.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectChoice,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Optional

from portal.booking.models import Status
from portal.booking.services import NOTES_MAX, REASON_MAX

REQUIRED = _l("This field is required.")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class CloseVisitForm(FlaskForm):
    """Completed or no-show, with the doctor's notes; one submit button per outcome."""

    outcome = RadioField(
        _l("Outcome of the visit"),
        choices=[
            SelectChoice(Status.COMPLETED.value, _l("Completed")),
            SelectChoice(Status.NO_SHOW.value, _l("No-show")),
        ],
    )
    notes = TextAreaField(_l("Notes"), render_kw={"rows": 3, "maxlength": NOTES_MAX})


class CancelVisitForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for cancelling"),
        validators=[DataRequired(REQUIRED)],
        description=_l("The patient sees this reason."),
        render_kw={"rows": 2, "maxlength": REASON_MAX},
    )


class DaysOffForm(FlaskForm):
    """Whole days off: one day, or a range of days, in the clinic's calendar."""

    first_day = DateField(_l("First day off"), validators=[InputRequired(REQUIRED)])
    last_day = DateField(
        _l("Last day off (optional)"),
        validators=[Optional()],
        description=_l("Leave empty for a single day."),
    )
    reason = StringField(
        _l("Reason"),
        description=_l("Patients whose visits are cancelled read it."),
        render_kw={"maxlength": 255},
    )
    # Set once the doctor has seen the visits those days hold: "cancel" or "keep".
    visits = HiddenField()


class TimeOffForm(FlaskForm):
    """Time off from one clinic-local date and time to another."""

    starts_at = DateTimeLocalField(
        _l("From"), format=DATETIME_FORMATS, validators=[InputRequired(REQUIRED)]
    )
    ends_at = DateTimeLocalField(
        _l("Until"), format=DATETIME_FORMATS, validators=[InputRequired(REQUIRED)]
    )
    # The service checks the length, with the same message as every other form.
    reason = StringField(
        _l("Reason (optional)"),
        description=_l("Patients whose visits are cancelled read it."),
        render_kw={"maxlength": 255},
    )
    # Set once the doctor has seen the visits the time off holds: "cancel" or "keep".
    visits = HiddenField()


def forms_for(appointment, close_form=None, cancel_form=None):
    """The two forms of one visit row, with field ids unique on a page of many rows."""
    if close_form is None:
        close_form = CloseVisitForm(formdata=None, notes=appointment.notes)
    if cancel_form is None:
        cancel_form = CancelVisitForm(formdata=None)
    close_form.notes.id = f"notes-{appointment.id}"
    cancel_form.reason.id = f"cancel-reason-{appointment.id}"
    return close_form, cancel_form
