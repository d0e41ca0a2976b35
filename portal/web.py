"""The HTML face shared by every feature: error pages and template helpers."""

from contextlib import contextmanager

from flask import render_template
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from portal.errors import ChangedMeanwhile, DomainError, ValidationFailed
from portal.extensions import db
from portal.i18n import format_local, zone_label

ERROR_TITLES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("Not allowed"),
    409: _l("Changed meanwhile"),
    413: _l("Too large"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
    503: _l("Busy"),
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


def init_app(app):
    """Register the error pages and the helpers every template uses."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(IntegrityError, _refused_by_the_database)
    app.jinja_env.filters["local"] = format_local
    app.jinja_env.filters["zone_label"] = zone_label

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


def render_error(status, message=None):
    """The error page for a status, with a message people can act on."""
    status = status if status in ERROR_TITLES else 400 if status < 500 else 500
    body = render_template(
        "errors/error.html",
        status=status,
        title=ERROR_TITLES[status],
        message=message or ERROR_TEXTS[status],
        signed_in=current_user.is_authenticated,
    )
    return body, status


def _http_error(error):
    if error.code is None or error.code < 400:
        return error
    response = error.get_response()
    body, status = render_error(error.code)
    response.set_data(body)
    response.content_type = "text/html; charset=utf-8"
    response.status_code = status if error.code in ERROR_TITLES else error.code
    return response


def _refused_by_the_database(_error):
    # A unique index or another rule refused what a request saved at the same moment.
    return _domain_error(ChangedMeanwhile())


def _domain_error(error):
    # What the service changed before it said no is undone before the page is drawn.
    db.session.rollback()
    body, status = render_error(error.status, str(error.message) if error.status >= 400 else None)
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after else {}
    return body, status, headers
