"""Merging duplicate customers, undoing a merge exactly, and merging a reviewed pair.

A merge re-points every row that belongs to the duplicate (contacts, locations, notes, messages,
jobs, calls, invoices, and any model added later with a foreign key to `Customer`) to the
survivor, fills the survivor's blank fields from the duplicate, and hides the duplicate behind
`merged_into`. Everything it changes is written to `CustomerMerge.snapshot`, so undo can put
each row and value back; undo restores a value only while it is still what the merge wrote, so
edits made since the merge are never clobbered.

Both customer rows are locked in id order for the whole transaction: two concurrent merges of
A into B and B into A serialise, and the second finds its survivor merged away (a Conflict, never
a cycle).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from customers.keys import customer_refresh_name_key
from customers.models import ContactPoint, Customer, CustomerMerge, DuplicateReview
from customers.reviews import duplicate_review_lock_open, probability_decimal
from dispatchnode.accounts.models import User
from dispatchnode.core.errors import ApplicationError, Conflict, NotFound
from dispatchnode.core.outbox import outbox_emit

# Relations to Customer the merge never moves: the merge's own bookkeeping.
_NOT_MOVED = (Customer, CustomerMerge, DuplicateReview)
# Which rows share one "primary" per customer: a primary phone and a primary email may coexist.
_PRIMARY_SCOPE: dict[type[models.Model], tuple[str, ...]] = {ContactPoint: ("kind",)}
# Survivor fields filled from the duplicate when blank.
_FILLED_WHEN_BLANK = ("first_name", "last_name", "company_name")
# The more current relationship wins: someone who is a customer in either record is a customer.
_LEAD_STATUS_RANK = {
    Customer.LeadStatus.LEAD: 0,
    Customer.LeadStatus.LOST: 1,
    Customer.LeadStatus.INACTIVE: 2,
    Customer.LeadStatus.ACTIVE: 3,
}
_OPT_OUT_FLAGS = ("sms_opt_out", "email_opt_out")


# --- Pure helpers -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Relation:
    """One foreign key to Customer that a merge re-points."""

    model: type[models.Model]
    field: str  # the FK's name on `model`

    @property
    def label(self) -> str:
        return self.model._meta.label_lower


def customer_relations() -> list[Relation]:
    """Every one-to-many (or one-to-one) relation to Customer from any installed app, except the
    merge's own bookkeeping. Found at call time, so a model added later is moved too."""
    return [
        Relation(model=rel.related_model, field=rel.field.name)
        for rel in Customer._meta.related_objects
        if (rel.one_to_many or rel.one_to_one) and rel.related_model not in _NOT_MOVED
    ]


def survivor_changes(*, survivor: Customer, duplicate: Customer) -> dict[str, Any]:
    """The survivor's new field values (only those that change): blanks filled from the
    duplicate, do-not-service wins with its reason, tags unioned, the more current lead status."""
    changes: dict[str, Any] = {}
    for name in _FILLED_WHEN_BLANK:
        if not getattr(survivor, name) and getattr(duplicate, name):
            changes[name] = getattr(duplicate, name)
    if duplicate.do_not_service:
        if not survivor.do_not_service:
            changes["do_not_service"] = True
        reason = survivor.do_not_service_reason if survivor.do_not_service else ""
        if not reason and duplicate.do_not_service_reason != survivor.do_not_service_reason:
            changes["do_not_service_reason"] = duplicate.do_not_service_reason
    tags = list(survivor.tags or [])
    merged_tags = tags + [tag for tag in (duplicate.tags or []) if tag not in tags]
    if merged_tags != tags:
        changes["tags"] = merged_tags
    rank = _LEAD_STATUS_RANK
    if rank.get(duplicate.lead_status, -1) > rank.get(survivor.lead_status, -1):
        changes["lead_status"] = duplicate.lead_status
    return changes


def _name_key_refreshed(customer: Customer, changed) -> list[str]:
    """Recompute the matcher's stored name key when a name changed; the fields to save."""
    person_changed = bool(set(changed) & {"first_name", "last_name"})
    company_counts = "company_name" in changed and not (customer.first_name or customer.last_name)
    if not (person_changed or company_counts):
        return []
    customer_refresh_name_key(customer)
    return ["name_key"]


def merge_refusal(*, survivor: Customer, duplicate: Customer) -> ApplicationError | None:
    """Why these two customers cannot be merged (as the error to raise), or None if they can."""
    if survivor.organization_id != duplicate.organization_id:
        return NotFound("Customer not found.")
    if survivor.pk == duplicate.pk:
        return Conflict("A customer cannot be merged into itself.", code="merge_same_customer")
    if duplicate.merged_into_id is not None:
        return Conflict(
            f"Customer #{duplicate.pk} is already merged into #{duplicate.merged_into_id}.",
            code="merge_already_merged",
        )
    if survivor.merged_into_id is not None:
        return Conflict(
            f"Customer #{survivor.pk} is merged into #{survivor.merged_into_id}; "
            "merge into that customer instead.",
            code="merge_survivor_merged",
        )
    return None


def merge_moved_counts(merge: CustomerMerge) -> dict[str, int]:
    """Rows moved per model label (the `moved` of the outbox events and the API)."""
    return {
        label: sum(len(ids) for ids in fields.values())
        for label, fields in merge.snapshot.get("moved", {}).items()
    }


def merge_kept_counts(merge: CustomerMerge) -> dict[str, int]:
    """Rows left on the duplicate per model label (they collided with the survivor's)."""
    return {
        label: sum(len(ids) for ids in fields.values())
        for label, fields in merge.snapshot.get("kept", {}).items()
    }


def merge_undo_missing(merge: CustomerMerge) -> dict[str, list[int]]:
    """Moved rows the undo could not bring back (deleted or moved elsewhere since the merge)."""
    return merge.snapshot.get("undo", {}).get("missing", {})


def _ids(values: Iterable[int]) -> list[int]:
    return sorted(set(values))


# --- Locking ----------------------------------------------------------------------------------


def _lock_customers(*customers: Customer) -> dict[int, Customer]:
    """Fresh, locked rows, locked one by one in id order so two merges never deadlock."""
    locked = {}
    for pk in sorted({c.pk for c in customers}):
        locked[pk] = Customer.objects.select_for_update().get(pk=pk)
    return locked


# --- Moving rows ------------------------------------------------------------------------------


def _unique_sets(relation: Relation) -> list[tuple[tuple[str, ...], models.Q | None]]:
    """Unique field sets of the related model that include the FK to Customer (with the
    constraint's condition): rows colliding on one of them cannot move."""
    meta = relation.model._meta
    sets: list[tuple[tuple[str, ...], models.Q | None]] = []
    if meta.get_field(relation.field).unique:
        sets.append(((relation.field,), None))
    for fields in meta.unique_together:
        sets.append((tuple(fields), None))
    for constraint in meta.total_unique_constraints + [
        c for c in meta.constraints if isinstance(c, models.UniqueConstraint) and c.condition
    ]:
        if constraint.fields:
            sets.append((tuple(constraint.fields), constraint.condition))
    return [(fields, condition) for fields, condition in sets if relation.field in fields]


def _colliding_ids(relation: Relation, *, survivor: Customer, duplicate: Customer) -> set[int]:
    """The duplicate's rows that would break a unique constraint on the survivor: they stay."""
    manager = relation.model._base_manager
    kept: set[int] = set()
    for fields, condition in _unique_sets(relation):
        others = [f for f in fields if f != relation.field]
        rows = manager.filter(condition) if condition is not None else manager.all()
        taken = set(rows.filter(**{relation.field: survivor}).values_list(*others, "pk"))
        taken_keys = {row[:-1] for row in taken}
        for row in rows.filter(**{relation.field: duplicate}).values_list(*others, "pk"):
            if row[:-1] in taken_keys:
                kept.add(row[-1])
    return kept


def _primary_ids_to_demote(
    relation: Relation, moving: list[int], *, survivor: Customer
) -> list[int]:
    """Moved rows that were primary where the survivor already has a primary of the same scope
    (for contacts: the same kind). The survivor's primaries stay primary."""
    model = relation.model
    if "is_primary" not in {f.name for f in model._meta.concrete_fields} or not moving:
        return []
    scope = _PRIMARY_SCOPE.get(model, ())
    manager = model._base_manager
    survivor_primary = set(
        manager.filter(**{relation.field: survivor}, is_primary=True).values_list(*scope, "pk")
    )
    scopes_taken = {row[:-1] for row in survivor_primary}
    candidates = manager.filter(pk__in=moving, is_primary=True).values_list(*scope, "pk")
    return [row[-1] for row in candidates if row[:-1] in scopes_taken]


def _opt_out_changes(*, kept_contact_ids: set[int], survivor: Customer) -> list[dict[str, Any]]:
    """An opt-out on a contact that stays behind is carried to the survivor's same contact, with
    the previous flags recorded: a merge never loses an opt-out."""
    changes = []
    kept = ContactPoint.objects.filter(pk__in=kept_contact_ids)
    for contact in kept:
        target = ContactPoint.objects.get(customer=survivor, kind=contact.kind, value=contact.value)
        before = {flag: getattr(target, flag) for flag in _OPT_OUT_FLAGS}
        after = {flag: before[flag] or getattr(contact, flag) for flag in _OPT_OUT_FLAGS}
        if after != before:
            changes.append({"id": target.pk, "before": before, "after": after})
    return changes


def _move_rows(*, survivor: Customer, duplicate: Customer) -> dict[str, Any]:
    """Re-point the duplicate's rows to the survivor; return what undo needs."""
    moved: dict[str, dict[str, list[int]]] = {}
    kept: dict[str, dict[str, list[int]]] = {}
    demoted: dict[str, list[int]] = {}
    opt_outs: list[dict[str, Any]] = []
    for relation in customer_relations():
        manager = relation.model._base_manager
        colliding = _colliding_ids(relation, survivor=survivor, duplicate=duplicate)
        moving = _ids(
            manager.filter(**{relation.field: duplicate})
            .exclude(pk__in=colliding)
            .values_list("pk", flat=True)
        )
        if relation.model is ContactPoint and colliding:
            opt_outs = _opt_out_changes(kept_contact_ids=colliding, survivor=survivor)
        demote = _primary_ids_to_demote(relation, moving, survivor=survivor)
        if demote:
            manager.filter(pk__in=demote).update(is_primary=False)
            demoted.setdefault(relation.label, []).extend(demote)
        if moving:
            manager.filter(pk__in=moving).update(**{relation.field: survivor})
            moved.setdefault(relation.label, {})[relation.field] = moving
        if colliding:
            kept.setdefault(relation.label, {})[relation.field] = _ids(colliding)
    for change in opt_outs:
        ContactPoint.objects.filter(pk=change["id"]).update(**change["after"])
    return {"moved": moved, "kept": kept, "demoted": demoted, "opt_outs": opt_outs}


# --- Merge and undo ---------------------------------------------------------------------------


@transaction.atomic
def customer_merge(
    *,
    survivor: Customer,
    duplicate: Customer,
    source: str = CustomerMerge.Source.MANUAL,
    actor: User | None = None,
    probability: float | None = None,
    evidence: dict | None = None,
) -> CustomerMerge:
    """Merge `duplicate` into `survivor`; the duplicate stays as a hidden row for undo.

    Raises NotFound for another organisation's customer, Conflict for the same customer, a
    customer already merged away, or a survivor that is itself merged away (pass the real one).
    """
    if survivor.organization_id != duplicate.organization_id:
        raise NotFound("Customer not found.")  # before locking: another tenant's row is untouched
    locked = _lock_customers(survivor, duplicate)
    survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
    if refusal := merge_refusal(survivor=survivor, duplicate=duplicate):
        raise refusal  # decided on the locked rows: a concurrent merge has committed by now

    changes = survivor_changes(survivor=survivor, duplicate=duplicate)
    fields = {
        name: {"before": getattr(survivor, name), "after": value} for name, value in changes.items()
    }
    snapshot = _move_rows(survivor=survivor, duplicate=duplicate)
    snapshot["survivor"] = fields
    if changes:
        for name, value in changes.items():
            setattr(survivor, name, value)
        survivor.full_clean()
        survivor.save(
            update_fields=[*changes, *_name_key_refreshed(survivor, changes), "updated_at"]
        )
    duplicate.merged_into = survivor
    duplicate.save(update_fields=["merged_into", "updated_at"])

    merge = CustomerMerge(
        organization_id=survivor.organization_id,
        survivor=survivor,
        duplicate=duplicate,
        source=source,
        probability=probability_decimal(probability),
        evidence=evidence or {},
        snapshot=snapshot,
        performed_by=actor,
    )
    merge.full_clean()
    merge.save()
    _close_pair_review(merge=merge, actor=actor)
    outbox_emit(
        organization=survivor.organization,
        topic="customer.merged",
        aggregate=survivor,
        payload={
            "merge_id": merge.pk,
            "survivor_id": survivor.pk,
            "duplicate_id": duplicate.pk,
            "moved": merge_moved_counts(merge),
        },
    )
    return merge


def _close_pair_review(*, merge: CustomerMerge, actor: User | None) -> None:
    """An open review of exactly this pair is decided by the merge, whichever path made it."""
    a, b = sorted((merge.survivor_id, merge.duplicate_id))
    DuplicateReview.objects.filter(
        organization_id=merge.organization_id,
        customer_a_id=a,
        customer_b_id=b,
        status=DuplicateReview.Status.OPEN,
    ).update(
        status=DuplicateReview.Status.MERGED,
        decided_by=actor,
        decided_at=timezone.now(),
        merge=merge,
        updated_at=timezone.now(),
    )


def _restore_rows(snapshot: dict[str, Any], *, survivor: Customer, duplicate: Customer) -> dict:
    """Move recorded rows back (only those still on the survivor); return the ids not found."""
    missing: dict[str, list[int]] = {}
    back_by_label: dict[str, list[int]] = {}
    models_by_label = {r.label: r.model for r in customer_relations()}
    for label, by_field in snapshot.get("moved", {}).items():
        model = models_by_label.get(label)
        for field, ids in by_field.items():
            if model is None:  # the model is gone from the project
                missing.setdefault(label, []).extend(ids)
                continue
            manager = model._base_manager
            back = _ids(
                manager.filter(pk__in=ids, **{field: survivor}).values_list("pk", flat=True)
            )
            manager.filter(pk__in=back).update(**{field: duplicate})
            back_by_label.setdefault(label, []).extend(back)
            if gone := sorted(set(ids) - set(back)):
                missing.setdefault(label, []).extend(gone)
    for label, ids in snapshot.get("demoted", {}).items():
        if back := set(ids) & set(back_by_label.get(label, ())):
            models_by_label[label]._base_manager.filter(pk__in=back).update(is_primary=True)
    for change in snapshot.get("opt_outs", []):
        ContactPoint.objects.filter(pk=change["id"], **change["after"]).update(**change["before"])
    restored = {label: len(ids) for label, ids in back_by_label.items() if ids}
    return {"restored": restored, "missing": missing}


@transaction.atomic
def customer_unmerge(*, merge: CustomerMerge, actor: User | None = None) -> Customer:
    """Undo a merge: the duplicate's rows, the survivor's values and the contact flags go back.

    Rows created on the survivor since the merge stay with it; a moved row deleted (or moved to
    another customer) since is skipped and listed in `snapshot["undo"]["missing"]`; a survivor
    value edited since the merge is kept. Refused when already undone, or when the survivor has
    since been merged into someone else (undo that later merge first).
    """
    locked = _lock_customers(merge.survivor, merge.duplicate)
    survivor, duplicate = locked[merge.survivor_id], locked[merge.duplicate_id]
    merge = CustomerMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise Conflict("This merge has already been undone.", code="merge_already_undone")
    if survivor.merged_into_id is not None:
        raise Conflict(
            f"Customer #{survivor.pk} has since been merged into #{survivor.merged_into_id}: "
            "undo that later merge first.",
            code="merge_undo_later_first",
        )

    result = _restore_rows(merge.snapshot, survivor=survivor, duplicate=duplicate)
    restored_fields = [
        name
        for name, values in merge.snapshot.get("survivor", {}).items()
        if getattr(survivor, name) == values["after"]
    ]
    for name in restored_fields:
        setattr(survivor, name, merge.snapshot["survivor"][name]["before"])
    if restored_fields:
        refreshed = _name_key_refreshed(survivor, restored_fields)
        survivor.save(update_fields=[*restored_fields, *refreshed, "updated_at"])
    duplicate.merged_into = None
    duplicate.save(update_fields=["merged_into", "updated_at"])

    merge.undone_at = timezone.now()
    merge.undone_by = actor
    merge.snapshot = {**merge.snapshot, "undo": result}
    merge.save(update_fields=["undone_at", "undone_by", "snapshot", "updated_at"])
    DuplicateReview.objects.filter(merge=merge).update(
        status=DuplicateReview.Status.OPEN,
        decided_by=None,
        decided_at=None,
        merge=None,
        updated_at=timezone.now(),
    )
    outbox_emit(
        organization=survivor.organization,
        topic="customer.unmerged",
        aggregate=duplicate,
        payload={
            "merge_id": merge.pk,
            "survivor_id": survivor.pk,
            "duplicate_id": duplicate.pk,
            "moved": result["restored"],
            "missing": result["missing"],
        },
    )
    return duplicate


@transaction.atomic
def duplicate_review_merge(
    *, review: DuplicateReview, actor: User | None = None, survivor: Customer | None = None
) -> CustomerMerge:
    """Merge the pair; by default the older record (the lower id) survives. The review is
    marked merged and linked to the merge (by `customer_merge`, whatever path merges a pair)."""
    _lock_customers(review.customer_a, review.customer_b)  # customers first, as every merge
    review = duplicate_review_lock_open(review)
    pair = {review.customer_a_id: review.customer_a, review.customer_b_id: review.customer_b}
    survivor_id = review.customer_a_id if survivor is None else survivor.pk
    if survivor_id not in pair:
        raise ApplicationError(
            "The survivor must be one of the two customers of the review.",
            code="review_survivor_not_in_pair",
        )
    (duplicate_id,) = set(pair) - {survivor_id}
    return customer_merge(
        survivor=pair[survivor_id],
        duplicate=pair[duplicate_id],
        source=CustomerMerge.Source.REVIEW,
        actor=actor,
        probability=review.probability,
        evidence=review.evidence,
    )
