"""How many SQL statements each page runs, counted in-process on the engine (one request
each, through a test client): kept in every report, and the only count when the
database has no pg_stat_statements."""

from datetime import date, timedelta
from urllib.parse import urlencode

from dataset import DEMO_PASSWORD
from sqlalchemy import create_engine, event, text

HTMX = {"HX-Request": "true"}


def portal_app(database_url, **extra):
    """The portal on the benchmark's database, configured like production over HTTP."""
    from portal import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "bench-in-process",
            "SESSION_COOKIE_SECURE": False,
            **extra,
        }
    )


def busiest_patient_email(database_url):
    """The patient with the most appointments: the fullest lists to render."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        email = connection.scalar(
            text(
                "SELECT u.email FROM users u JOIN patients p ON p.user_id = u.id "
                "JOIN appointments a ON a.patient_id = p.id "
                "GROUP BY u.email ORDER BY count(*) DESC, u.email LIMIT 1"
            )
        )
    engine.dispose()
    return email


def count_queries(database_url, *, doctor_id, day, start, api_start, patient_email):
    """Run each page once through a test client, counting the SQL statements it sends.
    `start` is booked through the HTML form and `api_start` (of the same doctor) through
    the API, so both must be free."""
    from portal.extensions import db

    app = portal_app(database_url, WTF_CSRF_ENABLED=False)
    with app.app_context():
        engine = db.engine
    client = app.test_client()
    statements = []

    def listener(_conn, _cursor, statement, _parameters, _context, _executemany):
        statements.append(" ".join(statement.split())[:200])

    pages = {}

    def measure(name, path, method="GET", **options):
        statements.clear()
        event.listen(engine, "before_cursor_execute", listener)
        try:
            response = client.open(path, method=method, **options)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        pages[name] = {
            "request": f"{method} {path}",
            "status": response.status_code,
            "queries": len(statements),
            "statements": list(statements),
        }

    week_end = (date.fromisoformat(day) + timedelta(days=6)).isoformat()
    slots = f"/api/v1/doctors/{doctor_id}/slots"
    measure("api-doctors", "/api/v1/doctors?page=1&per_page=20")
    measure("api-slots-day", f"{slots}?{urlencode({'from': day, 'to': day})}")
    measure("api-slots-week", f"{slots}?{urlencode({'from': day, 'to': week_end})}")
    measure("html-find", "/find")
    measure("html-partial", f"/doctors/{doctor_id}/slots?day={day}", headers=HTMX)
    measure("html-doctor", f"/doctors/{doctor_id}")
    token = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": patient_email, "password": DEMO_PASSWORD},
    )
    if token.status_code != 200:
        raise RuntimeError(f"no API token for {patient_email}: {token.status_code}")
    measure(
        "api-book",
        "/api/v1/appointments",
        method="POST",
        json={"doctor_id": doctor_id, "start": api_start, "reason": "Query count"},
        headers={"Authorization": f"Bearer {token.get_json()['access_token']}"},
    )
    signed_in = client.post("/login", data={"email": patient_email, "password": DEMO_PASSWORD})
    if signed_in.status_code != 303:
        raise RuntimeError(f"could not sign in {patient_email}: {signed_in.status_code}")
    booking = f"/doctors/{doctor_id}/book"
    measure("html-confirm", f"{booking}?{urlencode({'start': start})}", headers=HTMX)
    measure(
        "html-book",
        booking,
        method="POST",
        data={"start": start, "reason": "Query count"},
        headers=HTMX,
    )
    measure("html-my-appointments", "/appointments")
    measure("html-patient-home", "/patient")
    engine.dispose()
    return pages
