"""Problem details (RFC 9457) for every error under /api, in the request's language."""

import json
import logging
import time

from flask import current_app, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from portal.errors import ChangedMeanwhile, DatabaseBusy, DomainError
from portal.extensions import limiter
from portal.i18n import negotiated
from portal.web import ERROR_TEXTS

PROBLEM_JSON = "application/problem+json"

log = logging.getLogger(__name__)

# Stable codes for the errors that do not come from a service.
HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}

HTTP_DETAILS = {
    **ERROR_TEXTS,
    404: _l("That page or record does not exist."),
    415: _l("Send the body as JSON (application/json)."),
}


class ApiError(Exception):
    """An error of the HTTP layer itself: bad JSON, a missing token, a wrong media type."""

    def __init__(self, status, code, message, *, errors=None, headers=None, extra=None):
        super().__init__(str(message))
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors or {}
        self.headers = headers or {}
        self.extra = extra or {}


def is_api_request():
    """True for a request under /api, which must never get an HTML error page."""
    return request.path == "/api" or request.path.startswith("/api/")


def api_language():
    """The language of an API response: ?lang=, then Accept-Language, then the default."""
    negotiated()
    languages = current_app.config["LANGUAGES"]
    lang = request.args.get("lang")
    if lang in languages:
        return lang
    return (
        request.accept_languages.best_match(list(languages))
        or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def problem(status, code, detail, *, errors=None, headers=None, extra=None):
    """A problem+json response; lazy messages are rendered in the request's language."""
    with force_locale(api_language()):
        body = {
            "type": "about:blank",
            "title": HTTP_STATUS_CODES.get(status, "Error"),
            "status": status,
            "detail": str(detail),
            "code": code,
        }
        if errors:
            body["errors"] = {
                field: [str(message) for message in messages] for field, messages in errors.items()
            }
        body.update(extra or {})
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON
    )
    response.headers["Content-Type"] = PROBLEM_JSON
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401 and "WWW-Authenticate" not in response.headers:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _retry_after():
    limit = limiter.current_limit
    if limit is None:
        return "60"
    return str(max(1, int(limit.reset_at - time.time())))


def _http_error(error):
    status = error.code or 500
    headers = {}
    if status == 405:
        allowed = error.get_response().headers.get("Allow")
        if allowed:
            headers["Allow"] = allowed
    if status == 429:
        headers["Retry-After"] = _retry_after()
    detail = HTTP_DETAILS.get(status) or HTTP_STATUS_CODES.get(status, "Error")
    code = HTTP_CODES.get(status, "error")
    return problem(status, code, detail, headers=headers)


def _domain_error(error):
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
    return problem(error.status, error.code, error.message, errors=error.errors, headers=headers)


def _refused_by_the_database(_error):
    # A unique index or another rule refused what a request saved at the same moment.
    return _domain_error(ChangedMeanwhile())


def _every_connection_in_use(_error):
    # Every pooled connection stayed busy longer than a request waits for one.
    return _domain_error(DatabaseBusy())


def _api_error(error):
    return problem(
        error.status,
        error.code,
        error.message,
        errors=error.errors,
        headers=error.headers,
        extra=error.extra,
    )


def _server_error(error):
    if isinstance(error, HTTPException):
        return _http_error(error)
    log.exception("Unhandled error in the API", exc_info=error)
    return problem(500, "server_error", HTTP_DETAILS[500])


def register_handlers(blueprint):
    """Problem details for every error raised while a request of the blueprint runs."""
    blueprint.register_error_handler(HTTPException, _http_error)
    blueprint.register_error_handler(DomainError, _domain_error)
    blueprint.register_error_handler(IntegrityError, _refused_by_the_database)
    blueprint.register_error_handler(PoolTimeout, _every_connection_in_use)
    blueprint.register_error_handler(ApiError, _api_error)
    blueprint.register_error_handler(Exception, _server_error)


def init_problems(app):
    """Answer what routing refuses before any blueprint is known (an unknown path: 404,
    a wrong method: 405) with problem details under /api; elsewhere the HTML pages."""
    for code in (404, 405):
        app.register_error_handler(code, _unrouted)


def _unrouted(error):
    if is_api_request():
        return _http_error(error)
    for cls in type(error).__mro__:
        fallback = current_app.error_handler_spec[None][None].get(cls)
        if fallback is not None:
            return fallback(error)
    return error
