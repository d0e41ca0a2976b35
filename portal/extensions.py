"""Flask extensions, created unbound and initialised in create_app."""

from flask import current_app, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf import CSRFProtect

from portal.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
mail = Mail()
limiter = Limiter(key_func=get_remote_address)

# Pages with no rate limit of their own that are asked for more than any other: Flask-
# Limiter's checks before and after each request cost them a fifth of their time. The
# portal sets no default or application-wide limits, so skipping the checks there
# changes nothing; should it ever set some (RATELIMIT_DEFAULT, RATELIMIT_APPLICATION),
# these pages are checked like the rest.
UNLIMITED_ENDPOINTS = frozenset({"booking.slots", "booking.doctor"})


@limiter.request_filter
def _nothing_to_limit():
    config = current_app.config
    return (
        request.endpoint in UNLIMITED_ENDPOINTS
        and not config.get("RATELIMIT_DEFAULT")
        and not config.get("RATELIMIT_APPLICATION")
    )


talisman = Talisman()
