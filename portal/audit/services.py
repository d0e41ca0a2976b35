"""Recording audit events in the transaction of what they record."""

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
