"""Admin pages: dashboard, departments, clinics, doctors, patients, appointments,
booking settings, the audit trail, the delivery log and the Mailbox, one module each
on one blueprint. Admins only: every other user gets 403."""

from portal.admin.views import (  # noqa: F401  (the modules register their routes)
    appointments,
    clinics,
    dashboard,
    departments,
    doctors,
    front_desk,
    messages,
    patients,
    settings,
)
from portal.admin.views.common import bp

__all__ = ["bp"]
