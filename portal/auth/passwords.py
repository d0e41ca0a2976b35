"""Password rules and hashing."""

import base64
import hashlib
from functools import cache

import bcrypt
from flask import current_app
from flask_babel import lazy_gettext as _l
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 10
MAX_LENGTH = 256


@cache
def _common_passwords():
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problems(password, *, email="", full_name=""):
    """Reasons a password is refused, as translatable messages; empty when it is good."""
    if len(password) < MIN_LENGTH:
        return [_l("Use at least %(count)d characters.", count=MIN_LENGTH)]
    if len(password) > MAX_LENGTH:
        return [_l("Use at most %(count)d characters.", count=MAX_LENGTH)]
    lowered = password.lower()
    email, full_name = (email or "").lower(), (full_name or "").lower()
    personal = {email, email.split("@")[0], full_name} - {""}
    if lowered in _common_passwords() or lowered in personal or len(set(lowered)) < 4:
        return [_l("This password is too easy to guess. Choose another.")]
    return []


def _prehash(password):
    # bcrypt reads at most 72 bytes; a digest first keeps every character significant.
    return base64.b64encode(hashlib.sha256(password.encode()).digest())


def hash_password(password):
    """A bcrypt hash of the password."""
    rounds = current_app.config["BCRYPT_ROUNDS"]
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode()


def check_password(password_hash, password):
    """Whether the password matches the hash; always takes the time of a bcrypt check."""
    if not password_hash:
        # Spend the same time as a real check, so timing does not reveal unknown emails.
        bcrypt.checkpw(_prehash(password), _dummy_hash())
        return False
    return bcrypt.checkpw(_prehash(password), password_hash.encode())


@cache
def _dummy_hash():
    return bcrypt.hashpw(b"not a password", bcrypt.gensalt(current_app.config["BCRYPT_ROUNDS"]))
