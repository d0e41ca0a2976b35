"""The OpenAPI 3.1 document, built from the operations' declarations and models."""

import re

from pydantic.json_schema import models_json_schema

from portal.api import schemas
from portal.api.blueprints import MAX_ID
from portal.api.routing import FORM, JSON, OPERATIONS

REF = "#/components/schemas/{model}"
PROBLEM_JSON = "application/problem+json"
TOKEN_URL = "/api/v1/auth/token"  # noqa: S105  (a URL, not a secret)

ERRORS = {
    400: "Malformed or invalid input: `invalid_json` (not JSON, or no body), "
    "`invalid_request` (the body or query does not match this document), "
    "`validation_failed` (it matches, but breaks a rule of the product), both with "
    "`errors` per field; `invalid_token` (activation) and other stable codes.",
    401: "No token, or a bad or expired one (`not_authenticated`, `invalid_token`); on "
    "the token endpoint, wrong credentials (`invalid_grant`).",
    403: "Authenticated but not allowed (`forbidden`).",
    404: "Not found, or not the caller's to see (`not_found`).",
    409: "Conflicts with the current state (`slot_unavailable`, `too_late_to_cancel`, "
    "`not_changeable`, `idempotency_key_reused`, `conflict`).",
    413: "The body is over 1 MiB (`too_large`).",
    415: "The body is not JSON (`unsupported_media_type`).",
    429: "Too many requests (`rate_limited`); retry after `Retry-After` seconds.",
    503: "The database is unreachable (`unavailable`).",
}

ERROR_HEADERS = {
    401: {
        "WWW-Authenticate": {
            "description": "The Bearer challenge.",
            "required": True,
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds to wait.",
            "required": True,
            "schema": {"type": "string"},
        }
    },
}

DESCRIPTION = """\
The JSON API of Clinic Portal: the same operations and rules as the web pages.

* **Authentication**: get tokens at `POST /api/v1/auth/token` (OAuth 2.0 password grant,
  form or JSON) and send `Authorization: Bearer <access_token>`. Access tokens last
  15 minutes; refresh tokens are single use. The session cookie never authenticates.
* **Times** are ISO 8601 with an explicit UTC offset; a time without one is refused (400).
  Dates are `YYYY-MM-DD`, wall-clock times `HH:MM`.
* **Lists** are paginated: `?page=1&per_page=20` (at most 100), answering
  `{"items", "page", "per_page", "total"}`. Unknown query parameters are ignored;
  unknown body fields are refused (400).
* **Errors** are RFC 9457 problem details (`application/problem+json`) with a stable
  `code`, and `errors` per field on validation errors. 404 also answers for records the
  caller may not see.
* **Languages**: translated texts follow `?lang=` or `Accept-Language` (en, fr).
"""


def _strip_null(schema):
    """A query parameter is never null: drop the null branch pydantic adds to optionals."""
    options = schema.get("anyOf")
    if options:
        kept = [option for option in options if option.get("type") != "null"]
        if len(kept) == 1:
            rest = {key: value for key, value in schema.items() if key != "anyOf"}
            schema = {**kept[0], **rest}
    if "default" in schema and schema["default"] is None:
        del schema["default"]
    schema.pop("title", None)
    return schema


def _path(rule):
    return "/api/v1" + re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def _path_parameters(rule):
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        }
        for name in re.findall(r"<(?:[a-z]+:)?([a-z_]+)>", rule)
    ]


def _query_parameters(model):
    if model is None:
        return []
    schema = model.model_json_schema(ref_template=REF)
    parameters = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        field_schema = _strip_null(dict(schema["properties"][key]))
        description = field_schema.pop("description", None)
        parameter = {"name": key, "in": "query", "required": False, "schema": field_schema}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _security(auth):
    if auth == "required":
        return [{"OAuth2": []}]
    if auth == "optional":
        return [{}, {"OAuth2": []}]
    return []


def _success(spec):
    response = {"description": "OK" if spec.status == 200 else "Created"}
    if spec.status == 204:
        return {"description": "Done; no content."}
    if spec.status == 202:
        return {"description": "Accepted; no content."}
    if spec.media_type == JSON and spec.response is not None:
        response["content"] = {JSON: {"schema": {"$ref": REF.format(model=spec.response.__name__)}}}
    elif spec.media_type != JSON:
        response["content"] = {spec.media_type: {"schema": {"type": "string"}}}
    headers = {}
    if spec.location:
        headers["Location"] = {
            "description": "The URL of the new record.",
            "required": True,
            "schema": {"type": "string"},
        }
    if spec.idempotent_key:
        headers["Idempotent-Replayed"] = {
            "description": "`true` when this is the stored answer to an earlier request.",
            "schema": {"type": "string", "enum": ["true"]},
        }
    if spec.revalidated:
        headers["ETag"] = {
            "description": "Send it back in `If-None-Match` to get 304 while the answer "
            "is the same.",
            "schema": {"type": "string"},
        }
    if headers:
        response["headers"] = headers
    return response


def _operation(spec):
    document = {
        "operationId": spec.name,
        "summary": spec.summary,
        "tags": [spec.tag],
        "security": _security(spec.auth),
        "parameters": _path_parameters(spec.rule) + _query_parameters(spec.query),
        "responses": {str(spec.status): _success(spec)},
    }
    if spec.description:
        document["description"] = spec.description
    if spec.idempotent_key:
        document["parameters"].append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "Makes the request safe to retry for 24 hours.",
                "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"},
            }
        )
    if spec.revalidated:
        document["parameters"].append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "description": "The ETag of an earlier answer: 304 while it is still the answer.",
                "schema": {"type": "string"},
            }
        )
        document["responses"]["304"] = {
            "description": "Not modified: the answer with the ETag you sent is still the "
            "answer; no body."
        }
    if spec.translated:
        document["parameters"].append(
            {
                "name": "Accept-Language",
                "in": "header",
                "required": False,
                "description": "Language of translated texts, when `lang` is not given.",
                "schema": {"type": "string", "examples": ["fr"]},
            }
        )
    if spec.body is not None:
        reference = {"schema": {"$ref": REF.format(model=spec.body.__name__)}}
        content = {JSON: reference}
        if spec.form:
            content[FORM] = reference
        document["requestBody"] = {"required": spec.body_required, "content": content}
    for status in spec.errors:
        document["responses"][str(status)] = {"$ref": f"#/components/responses/Error{status}"}
    return document


def _models():
    models = {(schemas.Problem, "serialization")}
    for spec in OPERATIONS:
        if spec.body is not None:
            models.add((spec.body, "validation"))
        if spec.response is not None:
            models.add((spec.response, "serialization"))
    return sorted(models, key=lambda item: item[0].__name__)


def build_document():
    """The whole OpenAPI 3.1 document."""
    _keys, definitions = models_json_schema(_models(), ref_template=REF)
    paths = {}
    for spec in OPERATIONS:
        paths.setdefault(_path(spec.rule), {})[spec.method.lower()] = _operation(spec)
    problem = {"$ref": REF.format(model="Problem")}
    responses = {
        f"Error{status}": {
            "description": description,
            "content": {PROBLEM_JSON: {"schema": problem}},
            **({"headers": ERROR_HEADERS[status]} if status in ERROR_HEADERS else {}),
        }
        for status, description in ERRORS.items()
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Clinic Portal API", "version": "1.0.0", "description": DESCRIPTION},
        "tags": [
            {"name": name}
            for name in (
                "Accounts",
                "Departments",
                "Clinics",
                "Doctors",
                "Availability",
                "Appointments",
                "Patients",
                "Settings",
                "Messages",
                "Operations",
            )
        ],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": definitions.get("$defs", {}),
            "responses": responses,
            "securitySchemes": {
                "OAuth2": {
                    "type": "oauth2",
                    "description": "Sign in with your email and password.",
                    "flows": {
                        "password": {
                            "tokenUrl": TOKEN_URL,
                            "refreshUrl": TOKEN_URL,
                            "scopes": {},
                        }
                    },
                }
            },
        },
    }
