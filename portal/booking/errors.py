"""What can go wrong when booking, in words a patient understands."""

from flask_babel import lazy_gettext as _l

from portal.errors import Conflict


class SlotUnavailable(Conflict):
    code = "slot_unavailable"
    default_message = _l("That time was just taken or is no longer available.")


class TooLateToCancel(Conflict):
    code = "too_late_to_cancel"
    default_message = _l("It is too late to cancel or move this appointment online.")


class NotChangeable(Conflict):
    code = "not_changeable"
    default_message = _l("This appointment can no longer be changed.")
