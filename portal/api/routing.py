"""Declaring an API operation once: its route, input and output models and errors.

`operation()` registers a view on the API blueprint and records what the OpenAPI
document needs, so the document and the behaviour come from the same declaration. The
wrapper authenticates, parses the query and the body with pydantic models and hands the
view plain, validated values; the view calls a service and returns `reply(...)`.
"""

import functools
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ValidationError

from portal.api.blueprints import bp
from portal.api.problems import HTTP_DETAILS, ApiError
from portal.api.security import caller
from portal.errors import ValidationFailed

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

INVALID_JSON = _l("Send a valid JSON document.")
NOT_VALID = _l("This value is not valid.")

OPERATIONS = []


@dataclass
class Operation:
    """What the OpenAPI document says about one route and method."""

    rule: str
    method: str
    name: str
    summary: str
    description: str
    tag: str
    auth: str  # "required", "optional" or "none"
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    errors: tuple = ()
    form: bool = False
    media_type: str = JSON
    location: bool = False
    headers: dict = field(default_factory=dict)
    translated: bool = False
    idempotent_key: bool = False
    body_required: bool = True
    revalidated: bool = False  # an ETag, and 304 for If-None-Match (revalidation.py)


def operation(
    rule,
    method,
    *,
    summary,
    tag,
    auth="required",
    description="",
    body=None,
    query=None,
    response=None,
    status=200,
    errors=(),
    form=False,
    media_type=JSON,
    location=False,
    translated=False,
    idempotent_key=False,
    body_required=True,
    revalidated=False,
):
    """Register the decorated view for `method rule` and describe it for OpenAPI.

    The view receives the path values, `caller` (the authenticated user, or None when
    auth is optional), `query` and `body` (validated models) as keyword arguments.
    """

    def decorate(view):
        spec = Operation(
            rule=rule,
            method=method,
            name=view.__name__,
            summary=summary,
            description=description or (view.__doc__ or "").strip(),
            tag=tag,
            auth=auth,
            body=body,
            query=query,
            response=response,
            status=status,
            errors=tuple(sorted(set(errors) | _implied_errors(auth, body, query))),
            form=form,
            media_type=media_type,
            location=location,
            translated=translated,
            idempotent_key=idempotent_key,
            body_required=body_required,
            revalidated=revalidated,
        )
        OPERATIONS.append(spec)

        @functools.wraps(view)
        def handler(**path):
            kwargs = dict(path)
            if auth != "none":
                kwargs["caller"] = caller(required=auth == "required")
            if query is not None:
                kwargs["query"] = parse_query(query)
            if body is not None:
                kwargs["body"] = parse_body(body, form=form, required=body_required)
            return view(**kwargs)

        bp.add_url_rule(rule, endpoint=view.__name__, view_func=handler, methods=[method])
        return view

    return decorate


def _implied_errors(auth, body, query):
    errors = set()
    if auth == "required" or auth == "optional":
        errors.add(401)
    if body is not None:
        errors |= {400, 413, 415}
    if query is not None:
        errors.add(400)
    return errors


# Reading input -----------------------------------------------------------------------


def _has_body():
    return bool(request.content_length) or bool(request.get_data(cache=True))


def parse_body(model, *, form=False, required=True):
    """The request body validated by the model; problem details for every way it can
    be wrong (415 not JSON, 400 invalid_json, 400 validation_failed, 413 too large)."""
    raw = request.get_data(cache=True) if _has_body() else b""
    mimetype = request.mimetype
    if form and mimetype == FORM:
        data = {key: request.form.get(key) for key in request.form}
        _check_text(data)
        return _validate(model, json.dumps(data), strict=False)
    if not raw:
        if mimetype and mimetype != JSON and not (form and mimetype == FORM):
            raise _unsupported()
        if required:
            raise ApiError(400, "invalid_json", INVALID_JSON)
        return _validate(model, "{}")
    if mimetype != JSON and not mimetype.endswith("+json"):
        raise _unsupported()
    try:
        data = json.loads(raw.decode("utf-8"))
        _check_text(data)
    except (UnicodeDecodeError, ValueError, RecursionError):
        # RecursionError: nested deeper than the parser or the check can follow.
        raise ApiError(400, "invalid_json", INVALID_JSON) from None
    return _validate(model, raw)


def _unsupported():
    return ApiError(415, "unsupported_media_type", HTTP_DETAILS[415])


def parse_query(model):
    """Query parameters validated by the model; unknown parameters are ignored."""
    data = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in request.args:
            data[key] = request.args.get(key)
    _check_text(data)
    for key, value in list(data.items()):
        # An unencoded "+" in a query string arrives as a space: "09:30:00 02:00".
        data[key] = re.sub(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$", r"\1+\2", value)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise _validation_failed(error) from None


def _validate(model, raw, *, strict=None):
    try:
        return model.model_validate_json(raw, strict=strict)
    except ValidationError as error:
        raise _validation_failed(error) from None


def _check_text(value, path=()):
    """Refuse text that no database can store: NUL characters and lone surrogates."""
    problems = {}

    def walk(item, where):
        if isinstance(item, str):
            if "\x00" in item or not _encodable(item):
                problems[_field_name(where) or "body"] = [NOT_VALID]
        elif isinstance(item, dict):
            for key, inner in item.items():
                if "\x00" in key or not _encodable(key):
                    problems[_field_name(where) or "body"] = [NOT_VALID]
                else:
                    walk(inner, (*where, key))
        elif isinstance(item, list):
            for index, inner in enumerate(item):
                walk(inner, (*where, index))

    walk(value, path)
    if problems:
        raise ValidationFailed(errors=problems)


def _encodable(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _field_name(location):
    name = ""
    for part in location:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += ("." if name else "") + str(part)
    return name


class InvalidRequest(ValidationFailed):
    """The request does not match the operation's schema in the OpenAPI document."""

    code = "invalid_request"


# Refusals that the document cannot express (a far-away year): rules, not schema.
_RULE_ERRORS = frozenset({"datetime_range", "date_range"})


def _validation_failed(error):
    errors = {}
    kinds = set()
    for item in error.errors(include_url=False):
        name = _field_name(item["loc"]) or "body"
        errors.setdefault(name, []).append(_message(item))
        kinds.add(item["type"])
    if kinds <= _RULE_ERRORS:
        return ValidationFailed(errors=errors)
    return InvalidRequest(errors=errors)


def _message(item):
    kind = item["type"]
    context = item.get("ctx") or {}
    if kind in ("missing", "string_too_short"):
        return _l("This field is required.")
    if kind == "extra_forbidden":
        return _l("This field cannot be changed.")
    if kind == "timezone_aware":
        return _l("Give the time with its UTC offset.")
    if kind.startswith("datetime"):
        return _l("Enter a date and time with its time zone.")
    if kind.startswith("date"):
        return _l("Enter a date as YYYY-MM-DD.")
    if kind == "wall_clock":
        return _l("Enter a time as hours and minutes.")
    if kind == "string_too_long":
        return _l("Use at most %(count)d characters.", count=context.get("max_length", 0))
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _l("Enter a whole number.")
    if kind in ("greater_than_equal", "greater_than"):
        limit = context.get("ge", context.get("gt"))
        return _l("Enter a number of at least %(limit)s.", limit=limit)
    if kind in ("less_than_equal", "less_than"):
        limit = context.get("le", context.get("lt"))
        return _l("Enter a number of at most %(limit)s.", limit=limit)
    if kind in ("bool_type", "bool_parsing"):
        return _l("Enter true or false.")
    if kind in ("literal_error", "enum"):
        return _l("Choose one of: %(choices)s.", choices=context.get("expected", ""))
    if kind == "string_type":
        return _l("Enter text.")
    return NOT_VALID


@contextmanager
def field_names(**renames):
    """Report a service's field names under the API's names (starts_at -> start)."""
    try:
        yield
    except ValidationFailed as error:
        errors = {}
        for name, messages in error.errors.items():
            head, dot, rest = name.partition(".")
            errors[renames.get(head, head) + dot + rest] = messages
        error.errors = errors
        raise


# Writing output ----------------------------------------------------------------------


def reply(model, *, status=200, location=None, headers=None):
    """A JSON response from a response model; fields left unset are left out."""
    body = model.model_dump_json(exclude_unset=True)
    response = current_app.response_class(body, status=status, mimetype=JSON)
    if location:
        response.headers["Location"] = location
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def accepted():
    """202: taken on; what follows happens later (a message on its way)."""
    return current_app.response_class(status=202)


def no_content():
    """204: done, nothing to say."""
    return current_app.response_class(status=204)
