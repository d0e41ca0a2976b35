"""Records as response models, in the request's language and for the caller's eyes."""

from zoneinfo import ZoneInfo

from flask import url_for

from portal.api import schemas
from portal.api.problems import api_language
from portal.auth import two_factor
from portal.auth.models import Role


def user_out(user):
    """The /me view of an account."""
    extra = {}
    if user.role == Role.DOCTOR and user.doctor is not None:
        extra["doctor_id"] = user.doctor.id
    if user.role == Role.PATIENT and user.patient is not None:
        extra["patient_id"] = user.patient.id
    return schemas.UserOut(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        role=user.role,
        locale=user.locale,
        email_verified=user.email_verified,
        notify_reminders=user.notify_reminders,
        otp_enabled=two_factor.is_enabled(user),
        **extra,
    )


def department_out(department, lang=None):
    lang = lang or api_language()
    return schemas.DepartmentOut(
        id=department.id,
        code=department.code,
        name=department.translated("name", lang),
        description=department.translated("description", lang),
        translations={
            language: schemas.DepartmentTranslation(**texts)
            for language, texts in department.translations.items()
        },
    )


def clinic_out(clinic):
    return schemas.ClinicOut(
        id=clinic.id,
        name=clinic.name,
        address=clinic.address or "",
        city=clinic.city,
        postal_code=clinic.postal_code or "",
        country=clinic.country,
        phone=clinic.phone or "",
        timezone=clinic.timezone,
    )


def _doctor_fields(doctor, caller, lang):
    fields = {
        "id": doctor.id,
        "full_name": doctor.user.full_name,
        "clinic": clinic_out(doctor.clinic),
        "departments": [
            schemas.DepartmentRef(
                id=department.id,
                code=department.code,
                name=department.translated("name", lang),
            )
            for department in sorted(doctor.departments, key=lambda item: item.code)
        ],
        "title": doctor.title or "",
        "license_number": doctor.license_number,
        "qualifications": doctor.qualifications or "",
        "experience_years": doctor.experience_years or 0,
        "consultation_fee": doctor.consultation_fee,
        "currency": doctor.currency,
        "bio": doctor.translated("bio", lang) or "",
        "translations": {
            language: schemas.BioTranslation(**texts)
            for language, texts in doctor.translations.items()
        },
        "max_appointments_per_day": doctor.max_appointments_per_day,
        "accepting_patients": doctor.accepting_patients,
    }
    if caller is not None and caller.role == Role.ADMIN:
        fields["email"] = doctor.user.email
    return fields


def doctor_out(doctor, caller, lang=None):
    """A doctor of the directory; the email only for admins."""
    return schemas.DoctorOut(**_doctor_fields(doctor, caller, lang or api_language()))


def activation_url(token):
    """The page where an onboarded person sets their password."""
    return url_for("auth.activate", token=token, _external=True)


def onboarded_doctor_out(doctor, caller, token):
    fields = _doctor_fields(doctor, caller, api_language())
    fields["email"] = doctor.user.email
    return schemas.OnboardedDoctorOut(
        **fields, activation_url=activation_url(token), activation_token=token
    )


def interval_out(row):
    return schemas.Interval(weekday=row.weekday, start=row.start_time, end=row.end_time)


def availability_out(doctor, rows):
    return schemas.AvailabilityOut(
        slot_minutes=doctor.slot_minutes,
        seats=doctor.seats_per_slot,
        intervals=[interval_out(row) for row in rows],
    )


def time_off_out(time_off, zone):
    return schemas.TimeOffOut(
        id=time_off.id,
        start=time_off.starts_at.astimezone(zone),
        end=time_off.ends_at.astimezone(zone),
        reason=time_off.reason or "",
    )


def slots_out(timezone, slots):
    zone = ZoneInfo(timezone)
    return schemas.SlotsOut(
        timezone=timezone,
        slots=[
            schemas.SlotOut(
                start=slot.start.astimezone(zone),
                end=slot.end.astimezone(zone),
                seats_left=slot.seats_left,
            )
            for slot in slots
        ],
    )


def _booked_by(appointment):
    if appointment.booked_by_id is None:
        return None
    return "patient" if appointment.booked_by_id == appointment.patient.user_id else "staff"


def appointment_out(appointment, caller):
    """An appointment; the doctor's notes only for doctors and admins."""
    zone = ZoneInfo(appointment.clinic.timezone)
    fields = {
        "id": appointment.id,
        "status": appointment.status,
        "start": appointment.starts_at.astimezone(zone),
        "end": appointment.ends_at.astimezone(zone),
        "doctor": schemas.PersonRef(
            id=appointment.doctor.id, full_name=appointment.doctor.user.full_name
        ),
        "patient": schemas.PersonRef(
            id=appointment.patient.id, full_name=appointment.patient.user.full_name
        ),
        "clinic": clinic_out(appointment.clinic),
        "reason": appointment.reason or "",
        "created_at": appointment.created_at,
        "cancelled_at": appointment.cancelled_at,
        "cancel_reason": appointment.cancel_reason or "",
        "booked_by": _booked_by(appointment),
    }
    if caller.role in (Role.DOCTOR, Role.ADMIN):
        fields["notes"] = appointment.notes or ""
    return schemas.AppointmentOut(**fields)


def _patient_fields(patient, medical):
    fields = {
        "id": patient.id,
        "full_name": patient.user.full_name,
        "email": patient.user.email,
        "phone": patient.phone or "",
    }
    if medical:
        fields.update(
            date_of_birth=patient.date_of_birth,
            blood_group=patient.blood_group,
            allergies=patient.allergies or "",
            emergency_contact=patient.emergency_contact or "",
        )
    return fields


def patient_out(patient, medical):
    """A patient record; medical fields only for those who may see them."""
    return schemas.PatientOut(**_patient_fields(patient, medical))


def created_patient_out(patient, token):
    return schemas.CreatedPatientOut(
        **_patient_fields(patient, True),
        activation_url=activation_url(token) if token else None,
        activation_token=token,
    )


def settings_out(settings, policy):
    return schemas.SettingsOut(
        min_notice_minutes=settings.min_notice_minutes,
        horizon_days=settings.horizon_days,
        cancel_cutoff_hours=settings.cancel_cutoff_hours,
        max_upcoming_per_patient=settings.max_upcoming_per_patient,
        reminder_minutes_before=list(settings.reminder_minutes_before or []),
        require_staff_otp=policy.require_staff_otp,
    )
