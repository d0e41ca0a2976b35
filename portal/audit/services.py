"""Recording audit events in the transaction of what they record."""

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db


def record_event(*, actor, action, entity_type, entity_id=None, changes=None, ip_address=None):
    """Add an audit event to the current transaction."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        changes=changes or {},
        ip_address=ip_address,
    )
    db.session.add(event)
    return event


def erase_values(*, entity_type, entity_ids):
    """Keep which fields the events of these records changed, not the values: for a
    person whose data is erased, the trail still says what happened and when."""
    if not entity_ids:
        return
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity_type == entity_type, AuditEvent.entity_id.in_(entity_ids)
        )
    ).all()
    for event in events:
        if event.changes:
            event.changes = {"erased": sorted(event.changes)}
