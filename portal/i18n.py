"""Choosing the language and time zone of a request, and formatting for people."""

from zoneinfo import ZoneInfo

from flask import current_app, g, has_request_context, request, session
from flask_babel import format_date, format_time
from flask_login import current_user


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


def format_local(instant, timezone, format="medium"):
    """An instant shown in a clinic's time zone, labelled with that zone."""
    local = instant.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    if format == "time":
        return format_time(local, "short")
    return format_date(local, format) + ", " + format_time(local, "short") + " (" + timezone + ")"
