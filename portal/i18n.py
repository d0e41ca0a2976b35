"""Choosing the language and time zone of a request, and formatting for people."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_location
from flask import current_app, g, has_request_context, request, session
from flask_babel import format_date, format_time, get_locale, gettext
from flask_login import current_user

from portal.db import utcnow


def select_locale():
    """The signed-in user's language, else the one picked this session, else the browser's."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    negotiated()
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    if session.get("lang") in languages:
        return session["lang"]
    return request.accept_languages.best_match(list(languages)) or "en"


# Set when a request's language was chosen: its answer then depends on Accept-Language
# (and the session), and says so with Vary (see web.init_app).
NEGOTIATED = "portal_language_negotiated"


def negotiated():
    """Note that this answer is in a language chosen from the request."""
    setattr(g, NEGOTIATED, True)


def zone_label(timezone):
    """A time zone as people say it, in their language: "Paris time", "heure de Paris"."""
    city = get_timezone_location(timezone, locale=get_locale(), return_city=True)
    if city == timezone:  # UTC: no city to name
        return timezone
    return gettext("%(city)s time", city=city)


def relative_day(day, today):
    """ "Today" or "Tomorrow" for those days, else None."""
    if day == today:
        return gettext("Today")
    if day == today + timedelta(days=1):
        return gettext("Tomorrow")
    return None


def format_local(instant, timezone, format="medium", relative=False, with_zone=True, today=None):
    """An instant shown in a clinic's time zone, labelled with that zone (unless not
    `with_zone`). `relative`: today and tomorrow (in that zone, or after `today`) are
    named so, not dated."""
    zone = ZoneInfo(timezone)
    local = instant.astimezone(zone).replace(tzinfo=None)
    if format == "time":
        return format_time(local, "short")
    day = format_date(local, format)
    if relative:
        today = today or utcnow().astimezone(zone).date()
        day = relative_day(local.date(), today) or day
    text = day + ", " + format_time(local, "short")
    return text + " (" + zone_label(timezone) + ")" if with_zone else text
