"""The conventions every endpoint follows: problem details, JSON only, no cookie auth,
languages, CORS, the OpenAPI document and Swagger UI."""

from portal import create_app
from tests.api.conftest import PROBLEM, assert_problem
from tests.conftest import config_for


def test_an_unknown_path_is_a_problem_not_a_page(api):
    body = assert_problem(api.get("/nothing-here"), 404, "not_found")
    assert body["title"] == "Not Found"


def test_a_wrong_method_is_405_with_allow(api):
    response = api.put("/me")
    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_a_body_over_one_mebibyte_is_413(api, patient):
    response = api.patch(
        "/me",
        user=patient.user,
        data=b'{"full_name": "' + b"x" * (1024 * 1024) + b'"}',
        content_type="application/json",
    )
    assert_problem(response, 413, "too_large")


def test_a_body_that_is_not_json_is_415(api, patient):
    response = api.patch("/me", user=patient.user, data="full_name=X", content_type="text/plain")
    assert_problem(response, 415, "unsupported_media_type")


def test_malformed_json_is_400_invalid_json(api, patient):
    response = api.patch("/me", user=patient.user, data="{", content_type="application/json")
    assert_problem(response, 400, "invalid_json")


def test_a_missing_body_is_400_invalid_json(api, patient):
    assert_problem(api.patch("/me", user=patient.user), 400, "invalid_json")


def test_unknown_body_fields_are_refused_per_field(api, patient):
    response = api.patch("/me", user=patient.user, json={"full_name": "Ana", "role": "admin"})
    body = assert_problem(response, 400, "invalid_request")
    assert list(body["errors"]) == ["role"]


def test_wrong_types_are_reported_per_field(api, admin):
    response = api.patch("/settings", user=admin, json={"horizon_days": "30"})
    body = assert_problem(response, 400, "invalid_request")
    assert body["errors"] == {"horizon_days": ["Enter a whole number."]}


def test_unknown_query_parameters_are_ignored(api):
    assert api.get("/departments?colour=blue").status_code == 200


def test_a_time_without_an_offset_is_refused(api, patient, open_doctor):
    response = api.post(
        "/appointments",
        user=patient.user,
        json={"doctor_id": open_doctor.id, "start": "2030-01-07T10:00:00"},
    )
    body = assert_problem(response, 400, "invalid_request")
    assert body["errors"] == {"start": ["Give the time with its UTC offset."]}


def test_text_no_database_can_store_is_refused(api, patient):
    response = api.patch("/me", user=patient.user, json={"full_name": "A\u0000B"})
    body = assert_problem(response, 400, "validation_failed")
    assert "full_name" in body["errors"]


def test_problem_details_follow_the_request_language(api, patient):
    response = api.patch(
        "/me", user=patient.user, json={"bogus": 1}, headers={"Accept-Language": "fr"}
    )
    body = assert_problem(response, 400, "invalid_request")
    assert body["detail"] == "Veuillez vérifier les champs indiqués."


def test_no_token_is_401_with_a_bearer_challenge(api):
    response = api.get("/me")
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_bad_token_is_401_invalid_token(api):
    response = api.get("/me", headers={"Authorization": "Bearer not-a-token"})
    assert_problem(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_signed_in_browser_session_does_not_authenticate_the_api(api, auth, client, patient):
    assert auth.login(patient.user).status_code == 303
    assert client.get("/patient").status_code == 200
    assert_problem(client.get("/api/v1/me"), 401, "not_authenticated")


def test_api_writes_need_no_csrf_token(app, api, patient):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = api.patch("/me", user=patient.user, json={"full_name": "Ana Lima"})
        page = app.test_client().post("/language", data={"lang": "fr"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 200
    assert page.status_code == 400  # the HTML forms still need their token


def test_a_server_error_is_a_problem(api, admin, monkeypatch):
    from portal.booking import services

    def broken(**_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "read_booking_settings", broken)
    response = api.get("/settings", user=admin)
    body = assert_problem(response, 500, "server_error")
    assert "boom" not in body["detail"]


def test_html_pages_keep_their_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.content_type.startswith("text/html")


def test_cors_is_off_by_default(api):
    response = api.get("/departments", headers={"Origin": "https://app.example.org"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_allows_the_configured_origins_only():
    app = create_app(config_for("sqlite://", CORS_ORIGINS=["https://app.example.org"]))
    client = app.test_client()
    allowed = client.options(
        "/api/v1/me",
        headers={
            "Origin": "https://app.example.org",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.org"
    assert "PATCH" in allowed.headers["Access-Control-Allow-Methods"]
    other = client.get("/api/v1/openapi.json", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    page = client.get("/login", headers={"Origin": "https://app.example.org"})
    assert "Access-Control-Allow-Origin" not in page.headers


def test_the_openapi_document_describes_every_route(app, api):
    document = api.get("/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    documented = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    routed = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or rule.endpoint == "api.openapi":
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<id:{name}>", "{" + name + "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routed.add((method, path))
    assert documented == routed
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation["summary"], (method, path)
            assert operation["responses"], (method, path)
            if operation["security"] != []:
                assert "401" in operation["responses"], (method, path)
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])
    flows = document["components"]["securitySchemes"]["OAuth2"]["flows"]
    assert flows["password"]["tokenUrl"] == "/api/v1/auth/token"


def test_swagger_ui_is_served_from_this_site_under_the_csp(api, client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<script>" not in html
    assert "http://" not in html
    assert "https://" not in html
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe" not in policy
    for asset in (
        "/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui-5.35.0/swagger-ui.css",
        "/api/docs/static/docs.js",
    ):
        assert asset in html
        with client.get(asset) as response:
            assert response.status_code == 200
    with client.get("/static/vendor/swagger-ui-5.35.0/LICENSE") as response:
        assert response.status_code == 200


def test_json_answers_say_so(api):
    response = api.get("/departments")
    assert response.headers["Content-Type"] == "application/json"
    assert PROBLEM not in response.headers["Content-Type"]
