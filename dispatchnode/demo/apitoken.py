"""The demo API token: fixed by DEMO_API_TOKEN, or generated once and kept in
VAR_DIR/demo_api_token (mode 0600) so that every run can print the same key."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from dispatchnode.accounts.models import ApiToken, Organization, User, hash_token_key
from dispatchnode.accounts.services import IssuedToken, api_token_issue, api_token_revoke
from dispatchnode.core.varfiles import demo_api_token_file
from dispatchnode.demo import data
from dispatchnode.demo.context import DemoSeedError


def token_file() -> Path:
    return demo_api_token_file()


def _read_token_file() -> str:
    try:
        return token_file().read_text().strip()
    except OSError:
        return ""


def write_token_file(key: str) -> None:
    path = token_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    path.chmod(0o600)


def ensure_api_token(*, organization: Organization, owner: User) -> tuple[str, str]:
    """The demo token's key, and the key to store in the token file ("" when nothing changed).

    DEMO_API_TOKEN fixes the key. Otherwise the key lives in VAR_DIR/demo_api_token (0600) and is
    reused while its token is usable; a missing file or a stale key means a new token. Other
    tokens named "Demo API token" are revoked either way.
    """
    fixed = settings.DEMO_API_TOKEN
    key = fixed or _read_token_file()
    token = ApiToken.objects.filter(key_hash=hash_token_key(key)).first() if key else None
    if token is not None and token.organization_id != organization.pk:
        raise DemoSeedError("DEMO_API_TOKEN is already the key of another organisation's token.")
    store = ""
    if fixed:
        if token is None:
            token = _issue(organization, owner=owner, key=fixed).token
        elif not token.is_usable or token.scopes != data.API_TOKEN_SCOPES:
            token.revoked_at = token.expires_at = None
            token.scopes = list(data.API_TOKEN_SCOPES)
            token.full_clean()
            token.save(update_fields=["revoked_at", "expires_at", "scopes", "updated_at"])
    elif token is None or not token.is_usable:
        issued = _issue(organization, owner=owner, key=None)
        token, key = issued.token, issued.key
        store = key
    for other in ApiToken.objects.filter(
        organization=organization, name=data.API_TOKEN_NAME, revoked_at__isnull=True
    ).exclude(pk=token.pk):
        api_token_revoke(token=other)
    return key, store


def _issue(organization: Organization, *, owner: User, key: str | None) -> IssuedToken:
    try:
        return api_token_issue(
            organization=organization,
            name=data.API_TOKEN_NAME,
            scopes=list(data.API_TOKEN_SCOPES),
            created_by=owner,
            key=key,
        )
    except ValueError as exc:
        raise DemoSeedError(f"DEMO_API_TOKEN: {exc}") from exc
