"""Recording audit events, and reading the trail back for admins."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.audit.models import AuditEvent
from portal.auth.models import Role
from portal.errors import NotAllowed
from portal.extensions import db
from portal.pagination import paginate


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


def _require_admin(actor):
    # auth.services records events through this module, so its require_role cannot be
    # imported here; this is the same check.
    if (
        actor is None
        or not getattr(actor, "is_authenticated", False)
        or actor.role != Role.ADMIN
        or not actor.is_active
    ):
        raise NotAllowed()


def list_events(*, actor, entity_type=None, action=None, actor_id=None, page=1, per_page=50):
    """The audit trail, newest first, filtered and a page at a time (admin)."""
    _require_admin(actor)
    statement = select(AuditEvent).options(joinedload(AuditEvent.actor))
    if entity_type:
        statement = statement.where(AuditEvent.entity_type == entity_type)
    if action:
        statement = statement.where(AuditEvent.action == action.strip())
    if actor_id:
        statement = statement.where(AuditEvent.actor_id == actor_id)
    statement = statement.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    return paginate(statement, page=page, per_page=per_page)
