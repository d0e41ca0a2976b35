"""The directory: departments, clinics, doctors and patients, with their rules.

One module per entity; every operation is importable from here as well, so callers
write `directory.services.create_clinic(...)`."""

from portal.directory.services.clinics import (
    CLINIC_FIELDS,
    clinic_choices,
    create_clinic,
    deactivate_clinic,
    get_clinic,
    list_clinics,
    update_clinic,
)
from portal.directory.services.common import time_zones
from portal.directory.services.departments import (
    create_department,
    deactivate_department,
    get_department,
    list_departments,
    update_department,
)
from portal.directory.services.doctors import (
    PROFILE_FIELDS,
    SELF_FIELDS,
    directory_version,
    get_doctor,
    list_doctors,
    onboard_doctor,
    search_doctors,
    update_doctor,
)
from portal.directory.services.patients import (
    MEDICAL_FIELDS,
    PATIENT_FIELDS,
    assign_patient,
    create_patient,
    create_walk_in_patient,
    erase_patient,
    patient_for_user,
    register_patient,
    unassign_patient,
    update_patient,
)

__all__ = [
    "CLINIC_FIELDS",
    "MEDICAL_FIELDS",
    "PATIENT_FIELDS",
    "PROFILE_FIELDS",
    "SELF_FIELDS",
    "assign_patient",
    "clinic_choices",
    "create_clinic",
    "create_department",
    "create_patient",
    "create_walk_in_patient",
    "deactivate_clinic",
    "deactivate_department",
    "directory_version",
    "erase_patient",
    "get_clinic",
    "get_department",
    "get_doctor",
    "list_clinics",
    "list_departments",
    "list_doctors",
    "onboard_doctor",
    "patient_for_user",
    "register_patient",
    "search_doctors",
    "time_zones",
    "unassign_patient",
    "update_clinic",
    "update_department",
    "update_doctor",
    "update_patient",
]
