"""The address every audit event of a request came from, filled in one place.

Services record events without knowing about requests; before each flush, this hook
gives every new event of the request the client's address (the proxy's X-Forwarded-For
when PROXY_FIX_X_FOR trusts it). Events recorded outside a request (the command line)
keep none."""

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.audit.models import AuditEvent


def _stamp_address(session, _context, _instances):
    if not has_request_context():
        return
    for item in session.new:
        if isinstance(item, AuditEvent) and item.ip_address is None:
            item.ip_address = (request.remote_addr or "")[:45] or None


def init_app(_app):
    """Fill the address of every audit event recorded while answering a request."""
    if not event.contains(Session, "before_flush", _stamp_address):
        event.listen(Session, "before_flush", _stamp_address)
