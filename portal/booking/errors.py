"""What can go wrong when booking, in words a patient understands."""

from flask_babel import lazy_gettext as _l

from portal.errors import Conflict, NotAllowed


class SlotUnavailable(Conflict):
    code = "slot_unavailable"
    default_message = _l("That time was just taken or is no longer available.")


class TooLateToCancel(Conflict):
    code = "too_late_to_cancel"
    default_message = _l("It is too late to cancel or move this appointment online.")


class NotChangeable(Conflict):
    code = "not_changeable"
    default_message = _l("This appointment can no longer be changed.")


class EmailNotVerified(NotAllowed):
    code = "email_not_verified"
    default_message = _l(
        "Confirm your email address before you book: open the link we emailed you, "
        "or ask for a new one."
    )


class OverlappingVisit(Conflict):
    """The patient already holds a visit at that time (a seat of the same slot, or
    another doctor's visit that overlaps)."""

    code = "overlapping_visit"
    default_message = _l("You already have a visit at that time.")


class BookingLimitReached(Conflict):
    code = "booking_limit_reached"
    default_message = _l("You have as many upcoming visits as one patient may hold.")
