"""Forms of the patient's own profile and of a doctor's patient search.

They only parse input; the rules (lengths, a date of birth in the past, a known blood
group) live in the services, so the API applies the same ones.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    SearchField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional

from portal.directory.models import BLOOD_GROUPS


class PatientSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(_l("Name, email or phone"), render_kw={"autocomplete": "off", "maxlength": 100})


def blood_group_choices():
    return [
        SelectChoice("", _l("Not known")),
        *(SelectChoice(group, group) for group in BLOOD_GROUPS),
    ]


class ProfileForm(FlaskForm):
    phone = StringField(
        _l("Phone"), render_kw={"autocomplete": "tel", "type": "tel", "maxlength": 40}
    )
    date_of_birth = DateField(
        _l("Date of birth"),
        validators=[Optional()],
        render_kw={"autocomplete": "bday"},
    )
    # The service says which groups exist; the form only offers them.
    blood_group = SelectField(_l("Blood group"), choices=blood_group_choices, validate_choice=False)
    allergies = TextAreaField(
        _l("Allergies"),
        description=_l("Medicines, foods or materials; leave empty if none."),
        render_kw={"rows": 3, "maxlength": 2000},
    )
    emergency_contact = StringField(
        _l("Emergency contact"),
        description=_l("A name and a phone number."),
        render_kw={"maxlength": 255},
    )


class RemindersForm(FlaskForm):
    notify_reminders = BooleanField(_l("Email me a reminder before each visit"))
