"""Domain errors that services raise and views turn into pages or problem details."""

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """A rule of the product said no; `code` is stable, the message is for people."""

    code = "invalid"
    status = 400
    default_message = _l("This request could not be completed.")
    # Seconds after which the same request may succeed, sent as Retry-After.
    retry_after = None

    def __init__(self, message=None, *, errors=None):
        self.message = message or self.default_message
        # Field name to a list of messages, for forms and problem details.
        self.errors = errors or {}
        super().__init__(self.message)


class ValidationFailed(DomainError):
    code = "validation_failed"
    default_message = _l("Some fields need your attention.")

    @classmethod
    def on(cls, field, message):
        return cls(message, errors={field: [message]})


class NotAllowed(DomainError):
    code = "forbidden"
    status = 403
    default_message = _l("You are not allowed to do that.")


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = _l("That page or record does not exist.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = _l("That conflicts with the current state.")


class ChangedMeanwhile(Conflict):
    """Saving failed on a rule of the database: someone changed the same data at once."""

    code = "changed_meanwhile"
    default_message = _l("Someone changed the same data at the same moment. Please try again.")


class DatabaseBusy(DomainError):
    """The database stayed locked by other writers longer than a request may wait."""

    code = "database_busy"
    status = 503
    retry_after = 2
    default_message = _l("The database is busy. Please try again in a moment.")


class DatabaseUnavailable(DomainError):
    """The database cannot be reached (down, restarting, or the network to it is cut)."""

    code = "database_unavailable"
    status = 503
    retry_after = 30
    default_message = _l(
        "The portal cannot reach its database just now. Please try again in a few minutes."
    )
