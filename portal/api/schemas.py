"""Request and response bodies of the API, as pydantic models.

The same models validate what comes in (unknown fields are refused, types are strict)
and describe the API in the OpenAPI document, so the two cannot drift apart.
"""

import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from portal.api.blueprints import MAX_ID

# Types --------------------------------------------------------------------------------


def _integral(value):
    # JSON Schema counts 5.0 as an integer; text, booleans and 5.5 are not.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("int_type", "Enter a whole number.")
    return value


# Constraints before the validator, so that they reach the JSON schema.
Id = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_integral)]


def Bounded(low, high):
    """A whole number from low to high; the constraints come first to reach the schema."""
    return Annotated[int, Field(ge=low, le=high), BeforeValidator(_integral)]


# Query parameters arrive as text.
QueryId = Annotated[int, Field(ge=1, le=MAX_ID)]


# Far-away years cannot be converted between zones or stored everywhere; nobody books
# a doctor there.
YEARS = (1900, 2999)


INSTANT_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
DAY_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _instant_text(value):
    # Only ISO 8601 text: pydantic would also read 0.5 or "0.5" as seconds since 1970.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not INSTANT_TEXT.match(value):
        raise PydanticCustomError("datetime_format", "Enter a date and time with its offset.")
    return value


def _day_text(value):
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not DAY_TEXT.match(value):
        raise PydanticCustomError("date_format", "Enter a date as YYYY-MM-DD.")
    return value


def _plausible_instant(value):
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise PydanticCustomError("datetime_range", "Use a year from 1900 to 2999.")
    return value


def _plausible_day(value):
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise PydanticCustomError("date_range", "Use a year from 1900 to 2999.")
    return value


def _iso(value):
    return value.isoformat()


Instant = Annotated[
    AwareDatetime,
    # The text is checked above; the model's strict mode would refuse text here.
    Strict(False),
    BeforeValidator(_instant_text),
    AfterValidator(_plausible_instant),
    PlainSerializer(_iso, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601 with an explicit UTC offset.",
            "examples": ["2026-03-30T09:30:00+02:00"],
        }
    ),
]

Day = Annotated[
    date,
    Strict(False),
    BeforeValidator(_day_text),
    AfterValidator(_plausible_day),
    WithJsonSchema({"type": "string", "format": "date", "examples": ["2026-03-30"]}),
]

WALL_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def _parse_wall_clock(value):
    if isinstance(value, time):
        return value
    if isinstance(value, str) and WALL_CLOCK.match(value):
        return time(int(value[:2]), int(value[3:]))
    raise PydanticCustomError("wall_clock", "Enter a time as hours and minutes (HH:MM).")


WallClock = Annotated[
    time,
    BeforeValidator(_parse_wall_clock),
    PlainSerializer(lambda value: value.strftime("%H:%M"), return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": WALL_CLOCK.pattern, "examples": ["09:00"]},
    ),
]

Money = Annotated[
    Decimal,
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$", "examples": ["40.00"]},
        mode="serialization",
    ),
]

MoneyIn = Annotated[
    Decimal,
    Field(ge=0, le=100000, max_digits=8, decimal_places=2),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 100000, "multipleOf": 0.01},
                {"type": "string", "pattern": r"^[0-9]{1,6}(\.[0-9]{1,2})?$"},
            ],
            "examples": ["40.00"],
        },
        mode="validation",
    ),
]


def Text(limit):
    """A string of at most `limit` characters."""
    return Annotated[str, Field(max_length=limit)]


def Required(limit):
    """A string of 1 to `limit` characters."""
    return Annotated[str, Field(min_length=1, max_length=limit)]


Role = Literal["admin", "doctor", "patient"]
Status = Literal["confirmed", "cancelled", "completed", "no_show"]
BloodGroup = Literal["A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"]
# Translations are kept for the languages besides the default (see directory.services).
TranslatedLanguage = Literal["fr"]
Language = Literal["en", "fr"]


class Input(BaseModel):
    """A request body: strict types, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class Output(BaseModel):
    """A response body."""

    model_config = ConfigDict(extra="forbid")


class Query(BaseModel):
    """Query parameters: read from strings, unknown ones ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# Errors -------------------------------------------------------------------------------


class Problem(Output):
    """An error, as RFC 9457 problem details."""

    type: str = Field(examples=["about:blank"])
    title: str = Field(examples=["Conflict"])
    status: int = Field(examples=[409])
    detail: str = Field(examples=["That time was just taken or is no longer available."])
    code: str = Field(
        description="A stable snake_case code for programs to act on.",
        examples=["slot_unavailable"],
    )
    errors: dict[str, list[str]] | None = Field(
        default=None,
        description="On validation errors: field name to the list of its problems.",
        examples=[{"start": ["Give the time with its UTC offset."]}],
    )
    error: str | None = Field(
        default=None,
        description="On the token endpoints: the OAuth 2.0 error code (RFC 6749).",
    )


# Pages --------------------------------------------------------------------------------


class Paging(Query):
    page: int = Field(1, ge=1, le=100000, description="Page number, from 1.")
    per_page: int = Field(20, ge=1, le=100, description="Items per page, at most 100.")


class PageOut(Output):
    page: int
    per_page: int
    total: int


# Accounts -----------------------------------------------------------------------------


class RegisterIn(Input):
    email: Required(254)
    password: Required(256)
    full_name: Required(120)
    phone: Text(40) = ""
    date_of_birth: Day | None = None


class TokenIn(Input):
    """OAuth 2.0 token request: the password grant or the refresh grant."""

    grant_type: Literal["password", "refresh_token"]
    username: Text(254) = Field(None, description="The email (password grant).")
    password: Text(256) = Field(None, description="The password (password grant).")
    refresh_token: Text(200) = Field(None, description="For the refresh grant.")
    scope: Text(200) = Field(None, description="Accepted and ignored.")
    client_id: Text(200) = Field(None, description="Accepted and ignored.")
    client_secret: Text(200) = Field(None, description="Accepted and ignored.")
    otp: Text(32) = Field(
        None,
        description=(
            "Password grant, for staff with two-factor sign-in: the 6-digit code from "
            "their authenticator app, or one of their recovery codes (each works once)."
        ),
    )


class TokenOut(Output):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(description="Single use: each refresh returns a new one.")


class RevokeIn(Input):
    refresh_token: Required(200)


class ActivateIn(Input):
    token: Required(200)
    password: Required(256)


class PasswordResetIn(Input):
    email: Required(254)


class PasswordResetConfirmIn(Input):
    token: Required(200)
    password: Required(256)


class VerifyEmailIn(Input):
    token: Required(200)


class UserOut(Output):
    id: int
    email: str | None = Field(description="The sign-in; null for an account without one.")
    full_name: str
    role: Role
    locale: str | None
    email_verified: bool = Field(
        description="False for a self-registered patient until they open the emailed link."
    )
    notify_reminders: bool = Field(description="Whether reminders are emailed before visits.")
    otp_enabled: bool = Field(
        description="Whether signing in needs a code from an authenticator app as well."
    )
    doctor_id: int | None = Field(None, description="Present for doctors.")
    patient_id: int | None = Field(None, description="Present for patients.")


class MeUpdate(Input):
    full_name: Text(120) = None
    locale: Language | None = None
    notify_reminders: bool | None = Field(
        None, description="Whether reminders are emailed before each visit."
    )
    current_password: Text(256) = Field(None, description="Needed to set new_password.")
    new_password: Text(256) = Field(
        None, description="Changing it ends every other session and token."
    )


# Directory ----------------------------------------------------------------------------


class DepartmentTranslation(Output):
    name: str | None = None
    description: str | None = None


class DepartmentTranslationIn(Input):
    name: Text(120) | None = None
    description: Text(2000) | None = None


class DepartmentOut(Output):
    id: int
    code: str
    name: str = Field(description="In the request's language, else the default.")
    description: str = Field(description="In the request's language, else the default.")
    translations: dict[str, DepartmentTranslation]


class DepartmentRef(Output):
    id: int
    code: str
    name: str


class DepartmentIn(Input):
    code: Required(40) = Field(description="2 to 40 lower-case letters, digits or hyphens.")
    name: Required(120)
    description: Text(2000) = ""
    translations: dict[TranslatedLanguage, DepartmentTranslationIn] = {}


class DepartmentUpdate(Input):
    code: Text(40) = None
    name: Text(120) = None
    description: Text(2000) = None
    translations: dict[TranslatedLanguage, DepartmentTranslationIn] = None
    is_active: bool = Field(None, description="true puts a deleted department back.")


class DepartmentPage(PageOut):
    items: list[DepartmentOut]


class ClinicOut(Output):
    id: int
    name: str
    address: str
    city: str
    postal_code: str
    country: str
    phone: str
    timezone: str = Field(description="IANA time zone name.", examples=["Europe/Paris"])


class ClinicIn(Input):
    name: Required(120)
    address: Text(255) = ""
    city: Required(120)
    postal_code: Text(20) = ""
    country: Required(2) = Field(description="ISO 3166 two-letter code.", examples=["FR"])
    phone: Text(40) = ""
    timezone: Required(64) = Field(description="IANA time zone name.", examples=["Europe/Paris"])


class ClinicUpdate(Input):
    name: Text(120) = None
    address: Text(255) = None
    city: Text(120) = None
    postal_code: Text(20) = None
    country: Text(2) = None
    phone: Text(40) = None
    timezone: Text(64) = None
    is_active: bool = Field(None, description="true reopens a deleted clinic.")


class ClinicQuery(Paging):
    city: Text(120) | None = None


class ClinicPage(PageOut):
    items: list[ClinicOut]


class BioTranslation(Output):
    bio: str | None = None


class BioTranslationIn(Input):
    bio: Text(5000) | None = None


class DoctorOut(Output):
    id: int
    full_name: str
    email: str | None = Field(None, description="Only for admins.")
    clinic: ClinicOut
    departments: list[DepartmentRef]
    title: str
    license_number: str
    qualifications: str
    experience_years: int
    consultation_fee: Money
    currency: str
    bio: str = Field(description="In the request's language, else the default.")
    translations: dict[str, BioTranslation]
    max_appointments_per_day: int | None
    accepting_patients: bool


class OnboardedDoctorOut(DoctorOut):
    email: str
    activation_url: str = Field(description="One-time page where the doctor sets a password.")
    activation_token: str = Field(description="The same one-time token, for POST /auth/activate.")


class DoctorIn(Input):
    email: Required(254)
    full_name: Required(120)
    clinic_id: Id
    department_ids: list[Id] = Field(min_length=1, max_length=50)
    title: Text(40) = ""
    license_number: Required(40)
    qualifications: Text(2000) = ""
    experience_years: Bounded(0, 80) = 0
    consultation_fee: MoneyIn = Decimal(0)
    currency: Text(3) = "EUR"
    bio: Text(5000) = ""
    translations: dict[TranslatedLanguage, BioTranslationIn] = {}
    max_appointments_per_day: Bounded(1, 500) | None = None
    accepting_patients: bool = True


class DoctorUpdate(Input):
    """An admin may change every field; a doctor only bio, qualifications,
    accepting_patients and translations of their own profile."""

    email: Text(254) = None
    full_name: Text(120) = None
    clinic_id: Id = None
    department_ids: list[Id] = Field(None, min_length=1, max_length=50)
    title: Text(40) = None
    license_number: Text(40) = None
    qualifications: Text(2000) = None
    experience_years: Bounded(0, 80) = None
    consultation_fee: MoneyIn = None
    currency: Text(3) = None
    bio: Text(5000) = None
    translations: dict[TranslatedLanguage, BioTranslationIn] = None
    max_appointments_per_day: Bounded(1, 500) | None = None
    accepting_patients: bool = None


class DoctorQuery(Paging):
    department: QueryId | None = Field(None, description="A department id.")
    clinic: QueryId | None = Field(None, description="A clinic id.")
    city: Text(120) | None = None
    q: Text(120) | None = Field(None, description="Part of the name or title.")


class DoctorPage(PageOut):
    items: list[DoctorOut]


class DeactivateQuery(Query):
    reason: Text(500) | None = Field(
        None, description="Told to the patients whose appointments are cancelled."
    )


class LanguageQuery(Query):
    lang: str | None = Field(
        None, description="Language of translated texts (en, fr); else Accept-Language."
    )


# Availability, time off, slots --------------------------------------------------------


class Interval(Output):
    weekday: int = Field(ge=0, le=6, description="0 is Monday.")
    start: WallClock
    end: WallClock


class IntervalIn(Input):
    weekday: Bounded(0, 6) = Field(description="0 is Monday.")
    start: WallClock
    end: WallClock


class AvailabilityOut(Output):
    slot_minutes: int
    seats: int
    intervals: list[Interval]


class AvailabilityIn(Input):
    slot_minutes: Bounded(5, 480)
    seats: Bounded(1, 50) = 1
    intervals: list[IntervalIn] = Field(max_length=200)


class TimeOffOut(Output):
    id: int
    start: Instant
    end: Instant
    reason: str


class TimeOffIn(Input):
    start: Instant
    end: Instant
    reason: Text(255) = ""


class TimeOffPage(PageOut):
    items: list[TimeOffOut]


class SlotOut(Output):
    start: Instant = Field(description="Accepted verbatim by POST /appointments.")
    end: Instant
    seats_left: int


class SlotsOut(Output):
    timezone: str = Field(examples=["Europe/Paris"])
    slots: list[SlotOut]


class SlotsQuery(Query):
    from_: Day | None = Field(
        None, alias="from", description="First day, in the clinic's zone (today by default)."
    )
    to: Day | None = Field(
        None, description="Last day, at most 30 days after `from` (a week by default)."
    )


# Appointments -------------------------------------------------------------------------


class PersonRef(Output):
    id: int
    full_name: str


class AppointmentOut(Output):
    id: int
    status: Status
    start: Instant
    end: Instant
    doctor: PersonRef
    patient: PersonRef
    clinic: ClinicOut
    reason: str
    notes: str | None = Field(None, description="Only for the doctor and admins.")
    created_at: Instant
    cancelled_at: Instant | None
    cancel_reason: str
    booked_by: Literal["patient", "staff"] | None = Field(
        None,
        description="Who booked: the patient, or staff on their behalf (none for the "
        "oldest visits, from before this was recorded).",
    )


class AppointmentIn(Input):
    doctor_id: Id
    start: Instant = Field(description="A slot's start, with its UTC offset.")
    reason: Text(500) = ""
    patient_id: Id | None = Field(None, description="Admins book for a patient.")


class AppointmentQuery(Paging):
    status: Status | None = None
    from_: Instant | None = Field(None, alias="from", description="Starts at or after.")
    to: Instant | None = Field(None, description="Starts before.")
    doctor_id: QueryId | None = None
    patient_id: QueryId | None = Field(None, description="One patient's (admins, doctors).")


class AppointmentPage(PageOut):
    items: list[AppointmentOut]


class CancelIn(Input):
    reason: Text(500) = ""


class RescheduleIn(Input):
    start: Instant


class AppointmentUpdate(Input):
    status: Literal["completed", "no_show"]
    notes: Text(5000) = ""


# Patients -----------------------------------------------------------------------------


class PatientOut(Output):
    id: int
    full_name: str
    email: str | None = Field(
        description="Null for a patient recorded without one (on the phone or at the "
        "desk): they cannot sign in until an admin adds it."
    )
    phone: str
    date_of_birth: Day | None = None
    blood_group: BloodGroup | None = None
    allergies: str | None = None
    emergency_contact: str | None = None


class CreatedPatientOut(PatientOut):
    activation_url: str | None = Field(
        description="One-time page where the patient sets a password; null without an email "
        "(none is made until an admin adds one, which sends it)."
    )
    activation_token: str | None = Field(description="The same token; null without an email.")


class PatientIn(Input):
    email: Text(254) | None = Field(
        None,
        description="The patient's sign-in. Optional: without one (null or empty) no "
        "activation is made and they cannot sign in until an admin adds it.",
    )
    full_name: Required(120)
    phone: Text(40) = ""
    date_of_birth: Day | None = None
    blood_group: BloodGroup | None = None
    allergies: Text(2000) = ""
    emergency_contact: Text(255) = ""


class PatientUpdate(Input):
    email: Text(254) = Field(
        None,
        description="Admins only. Adds an email to a patient recorded without one, or "
        "replaces it (it cannot be removed). An account not activated yet is sent a "
        "one-time link to set a password at the new address.",
    )
    full_name: Text(120) = None
    phone: Text(40) = None
    date_of_birth: Day | None = None
    blood_group: BloodGroup | None = None
    allergies: Text(2000) = None
    emergency_contact: Text(255) = None


class PatientQuery(Paging):
    q: Text(120) | None = Field(None, description="Part of the name, email or phone.")


class PatientPage(PageOut):
    items: list[PatientOut]


# Settings and operations ------------------------------------------------------------


class SettingsOut(Output):
    min_notice_minutes: int
    horizon_days: int
    cancel_cutoff_hours: int
    max_upcoming_per_patient: int = Field(
        description="Confirmed future visits a patient may hold (admins booking for a "
        "patient are not limited)."
    )
    reminder_minutes_before: list[int] = Field(
        description="Leads, in minutes before a visit, at which its patient is reminded."
    )
    require_staff_otp: bool = Field(
        description="Whether every admin and doctor must sign in with two-factor sign-in."
    )


class SettingsUpdate(Input):
    min_notice_minutes: Bounded(0, 43200) = None
    horizon_days: Bounded(1, 730) = None
    cancel_cutoff_hours: Bounded(0, 720) = None
    max_upcoming_per_patient: Bounded(1, 50) = None
    reminder_minutes_before: list[Bounded(10, 10080)] | None = Field(
        None, max_length=3, description="0 to 3 distinct leads, each 10..10080 minutes."
    )
    require_staff_otp: bool = None


# Messages -----------------------------------------------------------------------------

MessageKind = Literal[
    "booking_confirmed",
    "booking_moved",
    "booking_cancelled",
    "reminder",
    "doctor_booking",
    "doctor_cancellation",
    "activation",
    "password_reset",
    "verify_email",
]


class MessageQuery(Paging):
    status: Literal["queued", "sent", "failed"] | None = None
    kind: MessageKind | None = None
    to: str | None = Field(None, max_length=254, description="The recipient's address.")


class MessageOut(Output):
    id: int
    kind: MessageKind
    to: str = Field(description="The recipient's address.")
    status: Literal["queued", "sent", "failed"]
    attempts: int = Field(description="Delivery attempts so far.")
    last_error: str = Field(description="Why the last attempt failed; empty if none did.")
    created_at: Instant
    sent_at: Instant | None
    appointment_id: int | None


class MessagePage(PageOut):
    items: list[MessageOut]


class HealthOut(Output):
    status: Literal["ok"]
    database: Literal["ok"]


# A patient's data: export and erasure -------------------------------------------------


class ExportDoctor(Output):
    id: int
    full_name: str
    clinic: str


class ExportProfile(Output):
    id: int
    full_name: str
    email: str | None = Field(description="Null for a patient recorded without one.")
    locale: str | None
    created_at: str | None = Field(description="ISO 8601, UTC.")
    phone: str
    date_of_birth: str | None = Field(description="YYYY-MM-DD.")
    blood_group: str | None
    allergies: str
    emergency_contact: str
    doctors: list[ExportDoctor] = Field(description="The doctors the patient is in the care of.")


class ExportAppointment(Output):
    id: int
    start: str | None
    end: str | None
    status: str
    doctor: str
    clinic: str
    reason: str
    cancelled_at: str | None
    cancel_reason: str


class ExportRead(Output):
    at: str | None
    by: str | None = Field(description="Who read the record; null for the system.")
    role: str | None
    action: str = Field(description="`patient.record_viewed` or `patient.exported`.")


class ExportOut(Output):
    profile: ExportProfile
    appointments: list[ExportAppointment]
    messages: list[dict] = Field(description="Messages sent to the patient (none kept yet).")
    record_reads: list[ExportRead] = Field(description="Who opened the record, and when.")


class CloseAccountIn(Input):
    password: Required(256) = Field(description="The patient's current password.")
