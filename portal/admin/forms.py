"""Forms of the admin pages.

They only parse input; the rules (lengths, codes, unique emails and licences, time zones)
live in the directory, booking and auth services, whose messages land on these fields.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

REQUIRED = _l("This field is required.")


def _int_or_none(value):
    """Coerce a select's value to an int; an empty choice is None."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class DepartmentForm(FlaskForm):
    code = StringField(
        _l("Code"),
        description=_l("2 to 40 lower-case letters, digits or hyphens, such as cardiology."),
        render_kw={"maxlength": 40, "autocomplete": "off"},
    )
    name = StringField(_l("Name (English)"), render_kw={"maxlength": 120})
    description = TextAreaField(_l("Description (English)"), render_kw={"rows": 3})
    name_fr = StringField(_l("Name (French)"), render_kw={"maxlength": 120, "lang": "fr"})
    description_fr = TextAreaField(_l("Description (French)"), render_kw={"rows": 3, "lang": "fr"})

    def values(self):
        """The service's keyword arguments."""
        french = {"name": self.name_fr.data or "", "description": self.description_fr.data or ""}
        return {
            "code": self.code.data,
            "name": self.name.data,
            "description": self.description.data or "",
            "translations": {"fr": french} if any(french.values()) else {},
        }

    def fill(self, department):
        self.code.data = department.code
        self.name.data = department.name
        self.description.data = department.description
        french = department.translations.get("fr") or {}
        self.name_fr.data = french.get("name", "")
        self.description_fr.data = french.get("description", "")
        return self


class ClinicForm(FlaskForm):
    name = StringField(_l("Name"), render_kw={"maxlength": 120})
    address = StringField(_l("Address"), render_kw={"autocomplete": "street-address"})
    city = StringField(_l("City"), render_kw={"maxlength": 120})
    postal_code = StringField(_l("Postal code"), render_kw={"maxlength": 20})
    country = StringField(
        _l("Country"),
        description=_l("The two-letter code, such as FR or US."),
        render_kw={"maxlength": 2, "autocomplete": "off"},
    )
    phone = StringField(_l("Phone"), render_kw={"maxlength": 40, "type": "tel"})
    timezone = StringField(
        _l("Time zone"),
        description=_l("Start typing a city, such as Paris, and pick from the list."),
        render_kw={"list": "time-zones", "autocomplete": "off", "spellcheck": "false"},
    )

    FIELDS = ("name", "address", "city", "postal_code", "country", "phone", "timezone")

    def values(self):
        return {name: getattr(self, name).data or "" for name in self.FIELDS}


class DoctorForm(FlaskForm):
    """The account and the profile of a doctor, onboarded or edited in one form."""

    email = EmailField(_l("Email"), render_kw={"maxlength": 254, "autocomplete": "off"})
    full_name = StringField(_l("Full name"), render_kw={"maxlength": 120, "autocomplete": "off"})
    clinic_id = SelectField(_l("Clinic"), coerce=_int_or_none, validate_choice=False)
    department_ids = SelectMultipleField(
        _l("Departments"),
        coerce=int,
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    title = StringField(_l("Title"), render_kw={"maxlength": 40}, description=_l("Such as Dr."))
    license_number = StringField(_l("Licence number"), render_kw={"maxlength": 40})
    qualifications = TextAreaField(_l("Qualifications"), render_kw={"rows": 2})
    experience_years = IntegerField(
        _l("Years of experience"),
        default=0,
        validators=[InputRequired(REQUIRED)],
        render_kw={"inputmode": "numeric", "min": 0, "max": 80},
    )
    consultation_fee = DecimalField(
        _l("Consultation fee"),
        places=2,
        default=0,
        validators=[InputRequired(REQUIRED)],
        render_kw={"inputmode": "decimal"},
    )
    currency = StringField(
        _l("Currency"),
        default="EUR",
        description=_l("A three-letter code, such as EUR."),
        render_kw={"maxlength": 3},
    )
    bio = TextAreaField(_l("Biography (English)"), render_kw={"rows": 4})
    bio_fr = TextAreaField(_l("Biography (French)"), render_kw={"rows": 4, "lang": "fr"})
    max_appointments_per_day = IntegerField(
        _l("Daily maximum of appointments"),
        validators=[Optional()],
        description=_l("Leave empty for no limit."),
        render_kw={"inputmode": "numeric", "min": 1, "max": 500},
    )
    accepting_patients = BooleanField(_l("Accepting new patients"), default=True)

    def profile(self):
        """The profile fields, as the directory services take them."""
        return {
            "clinic_id": self.clinic_id.data,
            "department_ids": list(self.department_ids.data or []),
            "title": self.title.data or "",
            "license_number": self.license_number.data or "",
            "qualifications": self.qualifications.data or "",
            "experience_years": self.experience_years.data,
            "consultation_fee": self.consultation_fee.data,
            "currency": self.currency.data or "",
            "bio": self.bio.data or "",
            "translations": {"fr": {"bio": self.bio_fr.data}} if self.bio_fr.data else {},
            "max_appointments_per_day": self.max_appointments_per_day.data,
            "accepting_patients": self.accepting_patients.data,
        }

    def fill(self, doctor):
        self.email.data = doctor.user.email
        self.full_name.data = doctor.user.full_name
        self.clinic_id.data = doctor.clinic_id
        self.department_ids.data = [department.id for department in doctor.departments]
        for name in (
            "title",
            "license_number",
            "qualifications",
            "experience_years",
            "consultation_fee",
            "currency",
            "bio",
            "max_appointments_per_day",
            "accepting_patients",
        ):
            getattr(self, name).data = getattr(doctor, name)
        self.bio_fr.data = (doctor.translations.get("fr") or {}).get("bio", "")
        return self


class DeactivateDoctorForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        description=_l("Patients whose appointments are cancelled see this reason."),
        render_kw={"rows": 2, "maxlength": 500},
    )


class PatientForm(FlaskForm):
    email = EmailField(
        _l("Email (optional)"),
        description=_l(
            "Their sign-in: a one-time link to set a password is sent to it. Without one "
            "they cannot sign in until an email is added."
        ),
        render_kw={"maxlength": 254, "autocomplete": "off"},
    )
    full_name = StringField(_l("Full name"), render_kw={"maxlength": 120, "autocomplete": "off"})
    phone = StringField(_l("Phone"), render_kw={"maxlength": 40, "type": "tel"})
    date_of_birth = DateField(_l("Date of birth"), validators=[Optional()])
    blood_group = SelectField(_l("Blood group"), validate_choice=False)
    allergies = TextAreaField(_l("Allergies"), render_kw={"rows": 2})
    emergency_contact = StringField(_l("Emergency contact"), render_kw={"maxlength": 255})

    FIELDS = ("phone", "date_of_birth", "blood_group", "allergies", "emergency_contact")

    def values(self):
        values = {name: getattr(self, name).data for name in self.FIELDS}
        values["blood_group"] = values["blood_group"] or None
        values["phone"] = values["phone"] or ""
        values["allergies"] = values["allergies"] or ""
        values["emergency_contact"] = values["emergency_contact"] or ""
        return values

    def fill(self, patient):
        self.email.data = patient.user.email
        self.full_name.data = patient.user.full_name
        for name in self.FIELDS:
            getattr(self, name).data = getattr(patient, name)
        self.blood_group.data = patient.blood_group or ""
        return self


class AssignDoctorForm(FlaskForm):
    doctor_id = SelectField(_l("Doctor"), coerce=_int_or_none, validate_choice=False)


def _leads_as_text(value):
    # The saved leads arrive as a list of minutes; the field shows them as "1440, 60".
    return ", ".join(str(v) for v in value) if isinstance(value, list) else value


class BookingSettingsForm(FlaskForm):
    min_notice_minutes = IntegerField(
        _l("Minimum notice (minutes)"),
        validators=[InputRequired(REQUIRED)],
        description=_l("How long before a slot it can still be booked, from 0 to 43200."),
        render_kw={"inputmode": "numeric", "min": 0, "max": 43200},
    )
    horizon_days = IntegerField(
        _l("Booking horizon (days)"),
        validators=[InputRequired(REQUIRED)],
        description=_l("How far ahead patients can book, from 1 to 730 days."),
        render_kw={"inputmode": "numeric", "min": 1, "max": 730},
    )
    cancel_cutoff_hours = IntegerField(
        _l("Cancellation cutoff (hours)"),
        validators=[InputRequired(REQUIRED)],
        description=_l(
            "Patients can cancel or move an appointment until this many hours before it."
        ),
        render_kw={"inputmode": "numeric", "min": 0, "max": 720},
    )
    max_upcoming_per_patient = IntegerField(
        _l("Upcoming visits per patient"),
        # Left as it is by a form that does not send the field.
        validators=[Optional()],
        description=_l(
            "The most confirmed future visits a patient may book for themself, from 1 to 50. "
            "Admins booking for a patient are not limited."
        ),
        render_kw={"inputmode": "numeric", "min": 1, "max": 50},
    )
    reminder_minutes_before = StringField(
        _l("Reminders (minutes before the visit)"),
        description=_l(
            "Up to three, separated by commas, each from 10 to 10080 (7 days); "
            "1440 is a day before. Leave empty to send no reminders."
        ),
        filters=[
            lambda value: ", ".join(str(v) for v in value) if isinstance(value, list) else value
        ],
        render_kw={"inputmode": "numeric", "maxlength": 40},
    )
    require_staff_otp = BooleanField(
        _l("Require two-factor sign-in for staff"),
        description=_l(
            "Admins and doctors then sign in with a code from an authenticator app as well; "
            "those who have not turned it on are asked to right after signing in."
        ),
    )


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class WalkInForm(FlaskForm):
    """A patient the front desk records while booking for them (phone or walk-in)."""

    full_name = StringField(_l("Full name"), render_kw={"maxlength": 120, "autocomplete": "off"})
    phone = StringField(_l("Phone"), render_kw={"maxlength": 40, "autocomplete": "off"})
    email = EmailField(
        _l("Email (optional)"),
        description=_l(
            "Their sign-in: they may set a password later with a one-time link. Leave it "
            "empty if they have none; an admin can add it later on their record."
        ),
        render_kw={"maxlength": 254, "autocomplete": "off"},
    )
    start = StringField(render_kw={"hidden": True})
    reason = TextAreaField(
        _l("Reason for the visit (optional)"), render_kw={"rows": 2, "maxlength": 500}
    )


class ClosureForm(FlaskForm):
    day = DateField(_l("Closed on"), validators=[InputRequired(REQUIRED)])
    reason = StringField(
        _l("Reason (optional)"),
        description=_l("Such as a public holiday."),
        render_kw={"maxlength": 120},
    )
