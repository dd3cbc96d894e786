from __future__ import annotations

from dispatchnode.accounts.models import Organization, PhoneNumber


def organization_by_number(*, e164: str) -> Organization | None:
    """The organisation that answers a dialled number (a call's `To`), or None."""
    number = (
        PhoneNumber.objects.select_related("organization")
        .filter(e164=e164, is_active=True, organization__is_active=True)
        .first()
    )
    return number.organization if number else None
