"""Clinic Portal: book a doctor in a few clicks."""

import os
import secrets

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import config

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": ["'self'", "data:"],
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "object-src": "'none'",
}


def create_app(overrides=None):
    """Build the portal: configuration, extensions, features. Nothing happens at import."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app = Flask(
        __name__,
        instance_path=os.path.join(root, "instance"),
        template_folder=os.path.join(root, "templates"),
        static_folder=os.path.join(root, "static"),
    )
    app.config.from_mapping(config.DEFAULTS)
    app.config.from_mapping(config.from_environment(app.instance_path))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = os.path.join(root, "translations")
    if overrides:
        app.config.from_mapping(overrides)
    _ensure_secret_key(app)

    if app.config["PROXY_FIX_X_FOR"]:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=1, x_host=1
        )

    _init_extensions(app)
    _register_blueprints(app)

    from portal import api, cli, web
    from portal import db as database
    from portal.booking import reminders
    from portal.extensions import db
    from portal.messages import delivery

    web.init_app(app)
    delivery.init_app(app, periodic=[reminders.queue_due_reminders])
    cli.init_app(app)
    api.init_app(app)
    # Last, so that its after-request function runs first: every other one (security
    # headers, remember-me cookie, rate limits) then sees the final answer.
    database.init_transactions(app, db.session)
    return app


def _ensure_secret_key(app):
    if app.config.get("SECRET_KEY"):
        return
    if app.config["ENV_NAME"] == "production":
        raise RuntimeError(
            "SECRET_KEY is not set. Set it in the environment to a long random value."
        )
    # A development instance keeps a random key of its own, so sessions survive restarts.
    os.makedirs(app.instance_path, exist_ok=True)
    path = os.path.join(app.instance_path, "secret_key")
    if not os.path.exists(path):
        with open(path, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        os.chmod(path, 0o600)
    with open(path) as handle:
        app.config["SECRET_KEY"] = handle.read().strip()


def _init_extensions(app):
    from portal import i18n
    from portal.extensions import (
        babel,
        csrf,
        db,
        limiter,
        login_manager,
        mail,
        migrate,
        talisman,
    )

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:"):
        # A second writer waits this long for the lock (the driver's busy timeout).
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {
            "timeout": app.config["SQLITE_BUSY_TIMEOUT_MS"] / 1000,
            **(options.get("connect_args") or {}),
        }
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    from portal import db as database

    with app.app_context():
        database.init_app(app, db.session)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(app.template_folder), "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    limiter.init_app(app)
    talisman.init_app(
        app,
        force_https=app.config["FORCE_HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        content_security_policy=CSP,
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
    )
    login_manager.init_app(app)
    mail.init_app(app)

    # Models first: the sign-in views build queries over them when they are imported.
    _import_models()
    from portal.auth import views as auth_views

    auth_views.init_login_manager(login_manager)

    from portal import revalidation
    from portal.audit import origin
    from portal.booking import availability, cards, picker

    availability.init_app(app)
    picker.init_app(app)
    cards.init_app(app)
    origin.init_app(app)
    revalidation.init_app(
        app,
        [
            os.path.dirname(os.path.abspath(__file__)),
            app.template_folder,
            app.config["BABEL_TRANSLATION_DIRECTORIES"],
        ],
    )


def _import_models():
    # Every model must be known before the first query and to Alembic.
    from portal.audit import models as _audit  # noqa: F401
    from portal.auth import models as _auth  # noqa: F401
    from portal.booking import models as _booking  # noqa: F401
    from portal.directory import models as _directory  # noqa: F401
    from portal.messages import models as _messages  # noqa: F401
    from portal.scheduling import models as _scheduling  # noqa: F401


def _register_blueprints(app):
    from portal.admin.views import bp as admin_bp
    from portal.auth.two_factor_views import bp as two_factor_bp
    from portal.auth.views import bp as auth_bp
    from portal.booking.schedule import bp as schedule_bp
    from portal.booking.time_off import bp as time_off_bp
    from portal.booking.views import bp as booking_bp
    from portal.care.views import bp as care_bp
    from portal.directory.views import bp as directory_bp
    from portal.home.views import bp as home_bp
    from portal.scheduling.views import bp as scheduling_bp

    app.register_blueprint(home_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(two_factor_bp)
    app.register_blueprint(booking_bp)
    app.register_blueprint(directory_bp)
    app.register_blueprint(care_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(schedule_bp, url_prefix="/doctor/schedule")
    app.register_blueprint(scheduling_bp, url_prefix="/doctor")
    app.register_blueprint(time_off_bp, url_prefix="/doctor")
