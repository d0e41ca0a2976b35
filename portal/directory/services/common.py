"""What the directory services share: validation helpers and the audit of changes."""

import re
from datetime import date
from decimal import Decimal
from functools import cache
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l

from portal.audit.services import record_event
from portal.auth import services as auth
from portal.auth.models import Role

TRANSLATED_LANGUAGES = ("fr",)
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")


@cache
def time_zones():
    """Every IANA time zone name, sorted."""
    return tuple(sorted(available_timezones() - {"localtime", "Factory"}))


def require_admin(actor):
    auth.require_role(actor, Role.ADMIN)


def clean_text(errors, field, value, *, required=False, limit=255, name=False):
    """The text stripped; what is wrong with it goes into `errors`. A `name` (of a
    person or a record) also refuses invisible text-direction characters."""
    value = (value or "").strip()
    if required and not value:
        errors[field] = [_l("This field is required.")]
    elif len(value) > limit:
        errors[field] = [_l("Use at most %(count)d characters.", count=limit)]
    elif name and not auth.DIRECTION_CONTROLS.isdisjoint(value):
        errors[field] = [auth.DIRECTION_CONTROLS_MESSAGE]
    return value


def like_pattern(text):
    return "%" + text.strip().replace("\\", "").replace("%", "").replace("_", "") + "%"


def apply_changes(record, values):
    """Apply values to a record; the audit's {field: [old, new]} of what really changed."""
    changes = {}
    for name, value in values.items():
        old = getattr(record, name)
        if old != value:
            changes[name] = [plain_value(old), plain_value(value)]
            setattr(record, name, value)
    return changes


def audit_changes(actor, record, entity_type, changes):
    """Record an `<entity>.updated` event when something really changed."""
    if changes:
        record_event(
            actor=actor,
            action=f"{entity_type}.updated",
            entity_type=entity_type,
            entity_id=record.id,
            changes=changes,
        )


def plain_value(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def clean_translations(errors, translations, limits):
    cleaned = {}
    for lang, fields in (translations or {}).items():
        if lang not in TRANSLATED_LANGUAGES or not isinstance(fields, dict):
            errors["translations"] = [_l("Translations are for French (fr) only.")]
            continue
        texts = {}
        for field, limit in limits.items():
            text = clean_text(
                errors,
                f"translations.{lang}.{field}",
                fields.get(field),
                limit=limit,
                name=field == "name",
            )
            if text:
                texts[field] = text
        unknown = set(fields) - set(limits)
        if unknown:
            errors["translations"] = [_l("Unknown translated field.")]
        if texts:
            cleaned[lang] = texts
    return cleaned
