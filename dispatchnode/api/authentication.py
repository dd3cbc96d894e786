from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from dispatchnode.accounts.models import ApiToken, hash_token_key
from dispatchnode.core.scoping import tenant_unscoped

_LAST_USED_GRANULARITY = timedelta(minutes=1)


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>`. The key is compared by its SHA-256; the token's
    organisation becomes the request's organisation."""

    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: use 'Token <key>'.")
        try:
            key = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid token header.") from exc
        with tenant_unscoped("find the organisation of an API token"):
            token = (
                ApiToken.objects.select_related("organization", "created_by")
                .filter(key_hash=hash_token_key(key))
                .first()
            )
        if token is None or not token.is_usable or not token.organization.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > _LAST_USED_GRANULARITY:
            ApiToken._base_manager.filter(pk=token.pk).update(last_used_at=now)
        user = token.created_by if token.created_by and token.created_by.is_active else None
        return (user or AnonymousUser(), token)

    def authenticate_header(self, request):
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "dispatchnode.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`; a key belongs to one organisation and has scopes.",
        }
