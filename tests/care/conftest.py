"""Care fixtures: a visit of any status between a doctor and a patient."""

from datetime import timedelta

import pytest

from portal.booking.models import Appointment, Status
from portal.db import utcnow


@pytest.fixture
def make_visit(db):
    """A visit `days` from now (negative: in the past) with the given status."""

    def make(doctor, patient, *, days=3, status=Status.CONFIRMED, reason="Check-up"):
        start = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=days)
        visit = Appointment(
            patient_id=patient.id,
            doctor_id=doctor.id,
            clinic_id=doctor.clinic_id,
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            status=status,
            reason=reason,
            cancelled_at=utcnow() if status == Status.CANCELLED else None,
        )
        db.session.add(visit)
        db.session.commit()
        return visit

    return make
