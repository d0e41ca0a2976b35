"""Forms for finding a doctor, booking, cancelling and rescheduling."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SearchField, SelectField, TextAreaField
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


class FindDoctorForm(FlaskForm):
    """The directory's filters: read from the query string, so a search is a shareable URL.

    Choices are filled by the view; an unknown value is ignored rather than refused, as a
    stale bookmark (a department since closed) should still show a page.
    """

    class Meta:
        csrf = False

    department = SelectField(_l("Department"), validate_choice=False)
    clinic = SelectField(_l("Clinic"), validate_choice=False)
    city = SelectField(_l("City"), validate_choice=False)
    q = SearchField(_l("Name"), render_kw={"autocomplete": "off", "maxlength": 100})
