"""Secrets at rest: `EncryptedTextField` stores Fernet ciphertext and reads back plain text."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from dispatchnode.accounts.models import Organization
from dispatchnode.core import fields
from tests import factories


@pytest.fixture
def encryption_key(settings):
    """`encryption_key("k1,k2")` switches FIELD_ENCRYPTION_KEY; the cached cipher follows."""

    def use(value: str) -> None:
        settings.FIELD_ENCRYPTION_KEY = value
        fields._fernet.cache_clear()

    yield use
    fields._fernet.cache_clear()  # the next use re-reads the restored setting


def raw_token(organization) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT twilio_auth_token FROM accounts_organization WHERE id = %s", [organization.pk]
        )
        return cursor.fetchone()[0]


def test_the_column_holds_ciphertext_and_reads_back_plain(db):
    # given an organisation saved with a Twilio auth token
    org = factories.OrganizationFactory(twilio_auth_token="tok-secret-123")

    # when the row is read raw and through the ORM
    raw = raw_token(org)
    loaded = Organization.objects.get(pk=org.pk)
    listed = Organization.objects.filter(pk=org.pk).values_list("twilio_auth_token", flat=True)

    # then the column holds Fernet ciphertext and the ORM gives the token back
    assert raw.startswith("fernet:")
    assert "tok-secret-123" not in raw
    assert loaded.twilio_auth_token == "tok-secret-123"
    assert list(listed) == ["tok-secret-123"]


def test_the_same_value_encrypts_differently_each_time(db):
    # when two organisations store the same token
    first = factories.OrganizationFactory(twilio_auth_token="same")
    second = factories.OrganizationFactory(twilio_auth_token="same")

    # then the ciphertexts differ (no equality leak between rows)
    assert raw_token(first) != raw_token(second)


def test_empty_and_legacy_plain_values_pass_through(db):
    # given an organisation without a token and one written before encryption existed
    empty = factories.OrganizationFactory(twilio_auth_token="")
    legacy = factories.OrganizationFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_organization SET twilio_auth_token = %s WHERE id = %s",
            ["plain-old", legacy.pk],
        )

    # then empty stays empty and the legacy value reads as written
    assert raw_token(empty) == ""
    assert Organization.objects.get(pk=empty.pk).twilio_auth_token == ""
    assert Organization.objects.get(pk=legacy.pk).twilio_auth_token == "plain-old"


def test_key_rotation_keeps_old_values_readable(db, encryption_key):
    # given a token stored under an old key
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    encryption_key(old_key)
    org = factories.OrganizationFactory(twilio_auth_token="tok-before-rotation")
    stored_under_old = raw_token(org)

    # when the new key is put first and the old one kept after it
    encryption_key(f"{new_key},{old_key}")
    read_back = Organization.objects.get(pk=org.pk)
    read_back.save()
    stored_under_new = raw_token(org)

    # then the old value still reads, and a re-save encrypts with the new key
    assert read_back.twilio_auth_token == "tok-before-rotation"
    assert Fernet(old_key.encode()).decrypt(stored_under_old[len("fernet:") :].encode()) == (
        b"tok-before-rotation"
    )
    assert Fernet(new_key.encode()).decrypt(stored_under_new[len("fernet:") :].encode()) == (
        b"tok-before-rotation"
    )


def test_dropping_the_old_key_too_early_fails_loudly(db, encryption_key):
    # given a token stored under a key that is then replaced without keeping it
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    encryption_key(old_key)
    org = factories.OrganizationFactory(twilio_auth_token="tok")
    encryption_key(new_key)

    # when the row is read, then the error names the setting instead of returning garbage
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY"):
        Organization.objects.get(pk=org.pk)


def test_a_malformed_key_is_a_configuration_error(db, encryption_key):
    # given a key that is not a Fernet key
    encryption_key("not-a-fernet-key")

    # when something is encrypted, then the configuration is blamed
    with pytest.raises(ImproperlyConfigured, match="Fernet"):
        fields.encrypt_text("x")
