"""Encrypted model fields for secrets at rest (provider credentials, Twilio auth tokens).

The key is `FIELD_ENCRYPTION_KEY` (a Fernet key). In DEBUG without one, a key is derived from
SECRET_KEY so local development works; production refuses to start without a real key.
Several comma-separated keys rotate: the first encrypts, all decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

_PREFIX = "fernet:"


@cache
def _fernet() -> MultiFernet:
    raw = settings.FIELD_ENCRYPTION_KEY
    if raw:
        keys = [k.strip() for k in raw.split(",") if k.strip()]
    else:
        digest = hashlib.sha256(("field-encryption:" + settings.SECRET_KEY).encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be one or more comma-separated Fernet keys"
        ) from exc


def encrypt_text(value: str) -> str:
    return _PREFIX + _fernet().encrypt(value.encode()).decode()


def decrypt_text(value: str) -> str:
    if not value.startswith(_PREFIX):
        return value  # written before encryption was enabled
    try:
        return _fernet().decrypt(value[len(_PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "An encrypted value cannot be decrypted with FIELD_ENCRYPTION_KEY "
            "(was the key changed without keeping the old one for rotation?)"
        ) from exc


class EncryptedTextField(models.TextField):
    """A text field stored encrypted; reads return plain text."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt_text(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_text(value)


class EncryptedJSONField(models.TextField):
    """A JSON document stored encrypted (credential sets of integrations)."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return {}
        return json.loads(decrypt_text(value))

    def to_python(self, value):
        if isinstance(value, dict | list) or value is None:
            return value
        return json.loads(value)

    def get_prep_value(self, value):
        if value is None:
            return None
        return encrypt_text(json.dumps(value, sort_keys=True))


class HttpsURLField(models.URLField):
    """A URL field whose form assumes https:// for a bare domain (Django 6's default, now)."""

    def formfield(self, **kwargs):
        kwargs.setdefault("assume_scheme", "https")
        return super().formfield(**kwargs)
