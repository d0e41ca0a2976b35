"""Forms for booking, cancelling and rescheduling."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length


class BookForm(FlaskForm):
    start = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(
        _l("Reason for the visit (optional)"),
        validators=[Length(max=500)],
        description=_l("A few words help the doctor prepare."),
        render_kw={"rows": 3, "maxlength": 500},
    )


class CancelForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (optional)"),
        validators=[Length(max=500)],
        render_kw={"rows": 2, "maxlength": 500},
    )


class RescheduleForm(FlaskForm):
    start = HiddenField(validators=[DataRequired()])
