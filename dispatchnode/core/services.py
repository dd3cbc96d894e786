"""Writes of the shared kernel: per-organisation sequences (the outbox is `core.outbox`)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from dispatchnode.core.models import Sequence

# --- Sequences ------------------------------------------------------------------------------


@transaction.atomic
def sequence_next(*, organization, name: str) -> int:
    """The next value of a per-organisation counter, safe under concurrency."""
    Sequence.objects.get_or_create(organization=organization, name=name)
    Sequence.objects.filter(organization=organization, name=name).update(
        last_value=F("last_value") + 1
    )
    return (
        Sequence.objects.select_for_update()
        .values_list("last_value", flat=True)
        .get(organization=organization, name=name)
    )
