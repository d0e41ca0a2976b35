"""Errors of accounts and tokens."""

from flask_babel import lazy_gettext as _l

from portal.errors import DomainError


class InvalidToken(DomainError):
    code = "invalid_token"
    default_message = _l("This link is not valid any more. Ask the clinic for a new one.")
