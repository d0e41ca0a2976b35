"""Configuration: defaults here, secrets and the database from the environment."""

import os
from datetime import timedelta

LANGUAGES = {"en": "English", "fr": "Français"}


def from_environment(instance_path):
    """Settings read from the environment, with defaults for a development machine."""
    env = os.environ
    env_name = env.get("PORTAL_ENV", "production")
    production = env_name == "production"
    default_db = "sqlite:///" + os.path.join(instance_path, "portal.db")
    return {
        "ENV_NAME": env_name,
        "SECRET_KEY": env.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(env.get("DATABASE_URL", default_db)),
        # Seconds a pooled connection may sit unused before it is checked (db.py).
        "DATABASE_PING_AFTER_IDLE": float(env.get("DATABASE_PING_AFTER_IDLE", "10")),
        # On SQLite, how long a write waits for another writer's lock before the request
        # answers 503 (db.py).
        "SQLITE_BUSY_TIMEOUT_MS": int(env.get("SQLITE_BUSY_TIMEOUT_MS", "10000")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", str(production)) == "True",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", str(production)) == "True",
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        # Sessions end after this long without a request, and this long after signing in
        # whatever the use (auth/views.py); staff are admins and doctors. "Keep me signed
        # in" (patients only) lasts the patients' lifetime.
        "SESSION_IDLE_MINUTES_STAFF": int(env.get("SESSION_IDLE_MINUTES_STAFF", "30")),
        "SESSION_IDLE_MINUTES_PATIENT": int(env.get("SESSION_IDLE_MINUTES_PATIENT", "120")),
        "SESSION_LIFETIME_HOURS_STAFF": int(env.get("SESSION_LIFETIME_HOURS_STAFF", "12")),
        "SESSION_LIFETIME_HOURS_PATIENT": int(env.get("SESSION_LIFETIME_HOURS_PATIENT", "720")),
        "FORCE_HTTPS": env.get("FORCE_HTTPS", "False") == "True",
        "PROXY_FIX_X_FOR": int(env.get("PROXY_FIX_X_FOR", "0")),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        # Failed sign-ins, at the form and the token endpoint together (auth/limits.py).
        "LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS": env.get(
            "LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS", "5 per 15 minutes"
        ),
        "LOGIN_LIMIT_PER_ACCOUNT": env.get("LOGIN_LIMIT_PER_ACCOUNT", "50 per hour"),
        "LOGIN_LIMIT_PER_ADDRESS": env.get("LOGIN_LIMIT_PER_ADDRESS", "20 per 15 minutes"),
        # Against accounts made by the dozen and mailboxes flooded with links.
        "REGISTER_LIMIT_PER_ADDRESS": env.get("REGISTER_LIMIT_PER_ADDRESS", "10 per hour"),
        "PASSWORD_RESET_LIMIT_PER_ADDRESS": env.get(
            "PASSWORD_RESET_LIMIT_PER_ADDRESS", "5 per 15 minutes"
        ),
        "VERIFY_RESEND_LIMIT": env.get("VERIFY_RESEND_LIMIT", "3 per hour"),
        # Wrong two-factor codes per account, over every pending sign-in.
        "OTP_LIMIT_PER_ACCOUNT": env.get("OTP_LIMIT_PER_ACCOUNT", "10 per 15 minutes"),
        "CORS_ORIGINS": [o.strip() for o in env.get("CORS_ORIGINS", "").split(",") if o.strip()],
        "API_ACCESS_TOKEN_MINUTES": int(env.get("API_ACCESS_TOKEN_MINUTES", "15")),
        # Free-slot computations each worker keeps: a doctor's two-week strip each, about
        # 25 kB for a full-time doctor; 0 computes every time. See booking/availability.
        "SLOT_CACHE_SIZE": int(env.get("SLOT_CACHE_SIZE", "1024")),
        # Rendered day-slots partials each worker keeps, about 7 kB each; 0 renders every
        # time. See booking/picker.day_slots_html.
        "SLOT_PICKER_CACHE_SIZE": int(env.get("SLOT_PICKER_CACHE_SIZE", "4096")),
        # Rendered doctor cards (a doctor with their next free times, in a list of
        # results) each worker keeps, about 2 kB each; 0 renders every time. See
        # booking/cards.py.
        "SLOT_CARD_CACHE_SIZE": int(env.get("SLOT_CARD_CACHE_SIZE", "4096")),
        # Lists of doctors each worker keeps (the API's pages, Find a doctor's, a
        # department's and a clinic's, Find's filters), by the directory's version
        # (directory/directory_version.py), up to 25 kB each; 0 keeps none.
        "DIRECTORY_CACHE_SIZE": int(env.get("DIRECTORY_CACHE_SIZE", "512")),
        # Mail (Flask-Mailman). With no MAIL_SERVER a development portal writes each
        # message to instance/mail (and shows it on the Mailbox page) instead of sending.
        "MAIL_BACKEND": env.get("MAIL_BACKEND")
        or ("smtp" if production or env.get("MAIL_SERVER") else "file"),
        "MAIL_FILE_PATH": os.path.join(instance_path, "mail"),
        "MAIL_SERVER": env.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(env.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": env.get("MAIL_USE_TLS", "False") == "True",
        "MAIL_USE_SSL": env.get("MAIL_USE_SSL", "False") == "True",
        "MAIL_USERNAME": env.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "Clinic Portal <no-reply@localhost>"),
        "MAIL_TIMEOUT": int(env.get("MAIL_TIMEOUT", "20")),
        # The address links in messages start with when no request gives one (reminders).
        "PORTAL_URL": env.get("PORTAL_URL", "http://127.0.0.1:5000"),
        # Celery: with no broker the portal delivers by itself (messages/delivery.py).
        "CELERY_BROKER_URL": env.get("CELERY_BROKER_URL") or None,
        "CELERY_QUEUE": env.get("CELERY_QUEUE", "portal"),
        # Without a broker: whether this process runs its own courier thread.
        "MESSAGES_COURIER": env.get("MESSAGES_COURIER", "True") == "True",
    }


DEFAULTS = {
    "WTF_CSRF_TIME_LIMIT": None,
    "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    "BABEL_DEFAULT_LOCALE": "en",
    "BABEL_DEFAULT_TIMEZONE": "UTC",
    "LANGUAGES": LANGUAGES,
    "RATELIMIT_HEADERS_ENABLED": True,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "BCRYPT_ROUNDS": 12,
    "API_REFRESH_TOKEN_DAYS": 30,
    "API_HEALTH_LIMIT": "30 per minute",
    # A message is tried this many times, waiting 1, 2, 4... times the retry seconds.
    "MESSAGES_MAX_ATTEMPTS": 5,
    "MESSAGES_RETRY_SECONDS": 60,
    # How often reminders are looked for and queued messages handed over again.
    "MESSAGES_TICK_SECONDS": 60,
}


def normalise_database_url(url):
    """Accept the postgres:// scheme that hosting platforms hand out."""
    if url.startswith("postgres://"):
        return "postgresql://" + url[len("postgres://") :]
    return url
