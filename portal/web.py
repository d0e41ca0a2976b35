"""The HTML face shared by every feature: error pages and template helpers."""

import re
from contextlib import contextmanager
from datetime import date

from flask import Request, current_app, g, render_template, request
from flask import session as cookie_session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest, HTTPException

from portal.errors import (
    ChangedMeanwhile,
    DatabaseBusy,
    DatabaseUnavailable,
    DomainError,
    ValidationFailed,
)
from portal.extensions import db
from portal.htmx import ASKED as ASKED_HTMX
from portal.i18n import NEGOTIATED, format_local

ERROR_TITLES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("Not allowed"),
    409: _l("Changed meanwhile"),
    413: _l("Too large"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
    503: _l("Temporarily unavailable"),
}

ERROR_TEXTS = {
    400: _l("The request could not be understood. Please go back and try again."),
    403: _l("Your account cannot open this page. Sign in with another account, or go back."),
    404: _l("That page or record does not exist, or you may not see it."),
    405: _l("This page cannot be used that way."),
    409: _l("That conflicts with a change made at the same moment. Please try again."),
    413: _l("What you sent is too large."),
    429: _l("Too many attempts. Please wait a few minutes and try again."),
    500: _l("Something went wrong on our side. Please try again in a moment."),
    503: _l("The database is busy. Please try again in a moment."),
}


# Input the database cannot hold ------------------------------------------------------

# The widest integer every database column takes (PostgreSQL's integer); a query value
# beyond it names nothing, so it reads as missing rather than failing in the database.
LARGEST_INT = 2**31 - 1
DAY_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
# Days a page may be asked to show: far enough for any visit, near enough that a week or
# a strip of days after it is still a date.
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def bounded_int(value):
    """An integer the database can store, else ValueError (a query value then reads as
    missing: `request.args.get("page", 1, type=int)` gives 1)."""
    number = int(value)
    if not -LARGEST_INT <= number <= LARGEST_INT:
        raise ValueError("out of range")
    return number


class BoundedParameters(ImmutableMultiDict):
    """Query and form values whose integers (type=int) always fit the database."""

    def get(self, key, default=None, type=None):
        return super().get(key, default, bounded_int if type is int else type)


class PortalRequest(Request):
    parameter_storage_class = BoundedParameters


def query_date(name):
    """The YYYY-MM-DD date in query parameter `name` within the calendar pages show,
    else None (a page then shows its usual day)."""
    value = request.args.get(name)
    if not value or not DAY_PATTERN.fullmatch(value):
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if EARLIEST_DAY <= day <= LATEST_DAY else None


class UnusableCharacters(BadRequest):
    """A NUL character, which no database stores, in an address or a form."""

    message = _l(
        "What you sent contains characters that cannot be used (such as a NUL character). "
        "Please go back, remove them and try again."
    )


def _has_nul(values):
    return any("\x00" in value for value in values if isinstance(value, str))


def _refuse_unusable_characters():
    # The API refuses these itself, field by field, in problem details.
    if request.path.startswith("/api/"):
        return
    if "\x00" in request.path or _has_nul((request.view_args or {}).values()):
        raise UnusableCharacters()
    for values in (request.args, request.form if request.method in WRITE_METHODS else {}):
        if _has_nul(values.keys()) or any(_has_nul(values.getlist(key)) for key in values):
            raise UnusableCharacters()


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _what_may_be_kept(response):
    """Answers to a signed-in person (a session cookie) or an API token carry their
    data: nobody keeps them (no-store), unless the view chose its own caching (the slot
    answers revalidate with ETags). Vary names what an answer depends on: the session
    (Flask adds Cookie when it was read), the token, the language and HTMX."""
    if g.pop(ASKED_HTMX, False):
        response.vary.add("HX-Request")
    if g.pop(NEGOTIATED, False):
        response.vary.add("Accept-Language")
    if request.path.startswith("/api/"):
        response.vary.add("Authorization")
    if request.endpoint == "static" or "Cache-Control" in response.headers:
        return response
    if "Authorization" in request.headers or _signed_in():
        response.headers["Cache-Control"] = "no-store"
    return response


def _signed_in():
    visitor = cookie_session._get_current_object()
    accessed = getattr(visitor, "accessed", False)
    if "_user_id" in visitor:
        return True  # and Flask adds Vary: Cookie
    # Looking is not using: an anonymous answer adds no Vary: Cookie for this.
    if hasattr(visitor, "accessed"):
        visitor.accessed = accessed
    return False


def init_app(app):
    """Register the error pages and the helpers every template uses."""
    app.request_class = PortalRequest
    app.before_request(_refuse_unusable_characters)
    app.after_request(_what_may_be_kept)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(IntegrityError, _refused_by_the_database)
    app.register_error_handler(PoolTimeout, _every_connection_in_use)
    app.jinja_env.filters["local"] = format_local

    @app.context_processor
    def _template_globals():
        return {
            "languages": app.config["LANGUAGES"],
            "current_locale": str(get_locale()),
            "status_label": status_label,
        }


STATUS_LABELS = {
    "confirmed": _l("Confirmed"),
    "cancelled": _l("Cancelled"),
    "completed": _l("Completed"),
    "no_show": _l("No-show"),
}


def status_label(status):
    """An appointment status in the reader's language."""
    return STATUS_LABELS.get(status, status)


def attach_errors(form, error):
    """Show a service's ValidationFailed on the form fields it names."""
    for name, messages in error.errors.items():
        field = getattr(form, name, None)
        if field is None:
            form.form_errors.extend(messages)
        else:
            field.errors = [*field.errors, *messages]
    if not error.errors:
        form.form_errors.append(str(error.message))


class Outcome:
    """What became of a change: `error` is the refusal, or None after a success."""

    error = None


@contextmanager
def refused(*errors):
    """Run a change; one of `errors` from the service rolls it back and is kept in the
    outcome for the view to show, and the view goes on. The transaction is committed once
    after a successful answer (see db.init_transactions), never here.

        with refused(SlotUnavailable) as outcome:
            services.reschedule(...)
            flash(...)
            return hx_redirect(...)
        return render_template(..., error=outcome.error), outcome.error.status
    """
    outcome = Outcome()
    try:
        yield outcome
    except errors as error:
        db.session.rollback()
        outcome.error = error


@contextmanager
def errors_on(form, *errors):
    """As refused, for a form: the refusal (ValidationFailed unless `errors` are named)
    is shown on the form's fields, and the view goes on to draw the form again."""
    with refused(*(errors or (ValidationFailed,))) as outcome:
        yield outcome
    if outcome.error is not None:
        attach_errors(form, outcome.error)


def render_error(status, message=None, *, without_database=False):
    """The error page for a status, with a message people can act on. It is drawn even
    while the database fails: the page then does not show who is signed in (which is
    read from the database)."""
    status = status if status in ERROR_TITLES else 400 if status < 500 else 500
    if without_database:
        _draw_for_a_visitor()
    try:
        return _error_page(status, message), status
    except (SQLAlchemyError, DomainError):
        # The database failed while the page read the signed-in user.
        _rollback_quietly()
        _draw_for_a_visitor()
        return _error_page(status, message), status


def _error_page(status, message):
    return render_template(
        "errors/error.html",
        status=status,
        title=ERROR_TITLES[status],
        message=str(message or ERROR_TEXTS[status]),
    )


def _draw_for_a_visitor():
    # Flask-Login keeps the request's user in g; a visitor needs no database.
    g._login_user = current_app.login_manager.anonymous_user()


def _rollback_quietly():
    try:
        db.session.rollback()
    except (SQLAlchemyError, DomainError):
        db.session.close()


def _http_error(error):
    if error.code is None or error.code < 400:
        return error
    response = error.get_response()
    body, status = render_error(
        error.code, error.message if isinstance(error, UnusableCharacters) else None
    )
    response.set_data(body)
    response.content_type = "text/html; charset=utf-8"
    response.status_code = status if error.code in ERROR_TITLES else error.code
    return response


def _refused_by_the_database(_error):
    # A unique index or another rule refused what a request saved at the same moment.
    return _domain_error(ChangedMeanwhile())


def _every_connection_in_use(_error):
    # Every pooled connection stayed busy longer than a request waits for one.
    return _domain_error(DatabaseBusy())


def _domain_error(error):
    # What the service changed before it said no is undone before the page is drawn.
    _rollback_quietly()
    body, status = render_error(
        error.status,
        error.message if error.status >= 400 else None,
        without_database=isinstance(error, DatabaseUnavailable),
    )
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after else {}
    return body, status, headers
