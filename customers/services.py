"""Writes of the customers app: plain functions with keyword-only arguments."""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone

from customers import enqueue
from customers.dedupe import Progress, dedupe_records
from customers.intake import match_records_for
from customers.keys import customer_refresh_name_key
from customers.matching import compare
from customers.merge import customer_merge
from customers.models import Consent, ContactPoint, Customer, DuplicateReview
from customers.reviews import duplicate_review_open
from dispatchnode.accounts.models import Organization
from dispatchnode.core.errors import ApplicationError
from dispatchnode.core.models import BackgroundRun
from dispatchnode.core.phones import phone_to_e164
from dispatchnode.core.runs import background_run_create

logger = logging.getLogger(__name__)


# --- matching keys and batch deduplication ------------------------------------------------------
def customers_refresh_name_keys(*, organization) -> int:
    """Recompute every customer's stored blocking key (after an import or a bulk load that did
    not go through intake). Returns how many changed."""
    changed = []
    for customer in Customer.objects.filter(organization=organization).only(
        "pk", "first_name", "last_name", "company_name", "name_key"
    ):
        before = customer.name_key
        customer_refresh_name_key(customer)
        if customer.name_key != before:
            changed.append(customer)
    Customer.objects.bulk_update(changed, ["name_key"], batch_size=1000)
    return len(changed)


@dataclass
class DedupeReport:
    customers: int
    clusters: int
    merged: int
    queued: int
    stats: dict = field(default_factory=dict)
    merges: list[int] = field(default_factory=list)  # CustomerMerge ids, to undo a run


def organization_dedupe(
    *,
    organization,
    merge: bool = True,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> DedupeReport:
    """Find duplicate clusters across the organisation's customers; merge each cluster into its
    oldest customer (when `merge`) and queue uncertain pairs for review.

    Pairs a person already judged (dismissed or merged in the review queue) are left alone.
    `dry_run` finds and counts, and changes nothing.
    Each merge is its own transaction, so a failure half-way keeps what was done, and every
    merge can be undone from its record.
    """
    load_started = time.perf_counter()
    stored = match_records_for(organization=organization)  # in id order: the oldest first
    ids, records = list(stored), list(stored.values())
    loaded = time.perf_counter()
    decided = set(
        DuplicateReview.objects.filter(organization=organization)
        .exclude(status=DuplicateReview.Status.OPEN)
        .values_list("customer_a_id", "customer_b_id")
    )
    result = dedupe_records(
        records,
        auto_threshold=float(organization.match_auto_threshold),
        review_threshold=float(organization.match_review_threshold),
        progress=progress,
        is_decided=lambda i, j: (min(ids[i], ids[j]), max(ids[i], ids[j])) in decided,
    )
    report = DedupeReport(
        customers=len(ids), clusters=len(result.clusters), merged=0, queued=0, stats=result.stats
    )
    report.stats["load_s"] = round(loaded - load_started, 3)
    if dry_run:
        report.queued = len(result.review_pairs)
        return report
    by_id = {}
    if merge and result.clusters:
        wanted = {ids[i] for members in result.clusters for i in members}
        by_id = Customer.objects.in_bulk(wanted)
        done = 0
        total = sum(len(members) - 1 for members in result.clusters)
        for members in result.clusters:
            survivor = by_id[ids[members[0]]]  # indices are in id order: the oldest survives
            for index in members[1:]:
                comparison = compare(records[members[0]], records[index])
                merge_record = customer_merge(
                    survivor=survivor,
                    duplicate=by_id[ids[index]],
                    source="batch",
                    probability=round(comparison.probability, 3),
                    evidence=comparison.evidence,
                )
                survivor.refresh_from_db()
                report.merges.append(merge_record.pk)
                report.merged += 1
                done += 1
                if progress:
                    progress("merging", done, total)
    pairs = result.review_pairs
    if not merge:
        pairs = sorted(
            pairs + [(i, j, result.scores[(i, j)]) for i, j in _cluster_pairs(result, records)]
        )
    for done, (i, j, _p) in enumerate(pairs, start=1):
        live = list(
            Customer.objects.filter(pk__in=[ids[i], ids[j]], merged_into__isnull=True).order_by(
                "pk"
            )
        )
        if len(live) == 2:
            comparison = compare(records[i], records[j])
            review = duplicate_review_open(
                organization=organization,
                customer_a=live[0],
                customer_b=live[1],
                probability=Decimal(str(round(comparison.probability, 3))),
                evidence=comparison.evidence,
                source="batch",
            )
            report.queued += review is not None
        if progress:
            progress("queueing for review", done, len(pairs))
    return report


def dedupe_report_dict(report: DedupeReport) -> dict:
    """The report as a run's `result` (JSON)."""
    return {
        "customers": report.customers,
        "clusters": report.clusters,
        "merged": report.merged,
        "queued": report.queued,
        "merges": report.merges,
        "stats": report.stats,
    }


@transaction.atomic
def dedupe_run_start(*, organization: Organization, merge: bool = True, user=None) -> BackgroundRun:
    """Queue a batch dedupe of the organisation as a `BackgroundRun`; its task is sent once this
    transaction commits (it runs right then in inline mode). A second run while one is queued or
    running is a `Conflict`."""
    run = background_run_create(
        organization=organization,
        kind=BackgroundRun.Kind.DEDUPE,
        params={"merge": merge},
        user=user,
    )
    transaction.on_commit(partial(_dedupe_run_enqueue, run.pk))
    return run


def _dedupe_run_enqueue(run_id: int) -> None:
    try:
        enqueue.task_send(enqueue.ORGANIZATION_DEDUPE, run_id)
    except Exception as error:  # the broker is down: say so on the row instead of a stuck run
        logger.warning("dedupe run %s could not be queued: %s", run_id, error)
        now = timezone.now()
        BackgroundRun.objects.filter(pk=run_id, status=BackgroundRun.Status.QUEUED).update(
            status=BackgroundRun.Status.FAILED,
            error=f"Could not be queued: {error}",
            finished_at=now,
            updated_at=now,
        )


def _cluster_pairs(result, records) -> list[tuple[int, int]]:
    """The scored pairs inside clusters: queued for review instead of merged when merging is off."""
    return [
        (i, j)
        for members in result.clusters
        for x, i in enumerate(members)
        for j in members[x + 1 :]
        if (i, j) in result.scores
    ]


# --- Consent (opt-outs) ---------------------------------------------------------------------

# Twilio's default opt-out and opt-in keywords: a reply that is exactly one of these (any case,
# trailing "." or "!") changes the sender's consent. OPTOUT is Twilio's newer synonym.
SMS_OPT_OUT_KEYWORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout"}
)
SMS_OPT_IN_KEYWORDS = frozenset({"start", "yes", "unstop"})
SMS_HELP_KEYWORDS = frozenset({"help", "info"})


def sms_keyword_reply(*, organization: Organization, body: str) -> str:
    """The reply carriers require to HELP/INFO, STOP (and synonyms) and START: who we are, how
    to reach us, how to opt out or back in. "" when the body is no keyword."""
    keyword = (body or "").strip().lower().rstrip(".!")
    phone = organization.office_phone
    reach = f" Call {phone}." if phone else ""
    if keyword in SMS_HELP_KEYWORDS:
        return (
            f"{organization.name}: appointment and service messages.{reach} Reply STOP to opt out."
        )
    if keyword in SMS_OPT_OUT_KEYWORDS:
        return (
            f"{organization.name}: you are unsubscribed and will get no more texts from us. "
            "Reply START to opt back in."
        )
    if keyword in SMS_OPT_IN_KEYWORDS:
        return (
            f"{organization.name}: you are opted back in to texts.{reach} Reply HELP for help, "
            "STOP to opt out."
        )
    return ""


_MIRROR_FLAG = {Consent.Channel.SMS: "sms_opt_out", Consent.Channel.EMAIL: "email_opt_out"}
_CONTACT_KIND = {
    Consent.Channel.SMS: ContactPoint.Kind.PHONE,
    Consent.Channel.EMAIL: ContactPoint.Kind.EMAIL,
}


def consent_address(*, organization: Organization, channel: str, address: str) -> str:
    """The form consent is keyed by: E.164 for SMS (InvalidPhoneNumber if it is none), the
    trimmed lower-cased address for email."""
    if channel == Consent.Channel.SMS:
        return phone_to_e164(address, region=organization.country or "US")
    if channel == Consent.Channel.EMAIL:
        return (address or "").strip().lower()
    raise ApplicationError(f"{channel!r} is not a consent channel.", code="unknown_channel")


def consent_sms_keyword_apply(
    *, organization: Organization, address: str, body: str, now: dt.datetime | None = None
) -> Consent | None:
    """Apply an inbound SMS that is an opt-out or opt-in keyword to its sender's consent; None
    when the body is no keyword or the sender is no phone number (a short code, say)."""
    keyword = (body or "").strip().lower().rstrip(".!")
    if keyword not in SMS_OPT_OUT_KEYWORDS and keyword not in SMS_OPT_IN_KEYWORDS:
        return None
    try:
        e164 = consent_address(organization=organization, channel="sms", address=address)
    except ApplicationError:
        return None
    opted_out = keyword in SMS_OPT_OUT_KEYWORDS
    return consent_set(
        organization=organization,
        status=Consent.Status.OPTED_OUT if opted_out else Consent.Status.OPTED_IN,
        channel=Consent.Channel.SMS,
        address=e164,
        source=Consent.Source.SMS_KEYWORD,
        note=f"Replied {keyword.upper()}.",
        now=now,
    )


@transaction.atomic
def consent_set(
    *,
    organization: Organization,
    channel: str,
    address: str,
    status: str,
    source: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> Consent:
    """Record that `address` may (`opted_in`) or may no longer (`opted_out`) be messaged on
    `channel` by this organisation.

    Lock (or create) the address's consent row and move it to `status`. Already there: the row
    is returned unchanged (a retried webhook writes nothing). The customers' contact points with
    that value get the mirrored flag."""
    now = now or timezone.now()
    address = consent_address(organization=organization, channel=channel, address=address)
    lookup = {"organization": organization, "channel": channel, "address": address}
    consent = Consent.objects.select_for_update().filter(**lookup).first()
    if consent is None:
        try:
            with transaction.atomic():
                consent = Consent(**lookup, status=status, source=source, changed_at=now, note=note)
                consent.full_clean()
                consent.save()
        except IntegrityError:  # a concurrent first write of the same address won
            consent = Consent.objects.select_for_update().get(**lookup)
        else:
            consent_mirror_sync(consent=consent)
            return consent
    if consent.status == status:
        consent_mirror_sync(consent=consent)  # a contact added since gets the flag
        return consent
    consent.status, consent.source, consent.changed_at = status, source, now
    consent.note = note[:300]
    consent.full_clean()
    consent.save(update_fields=["status", "source", "changed_at", "note", "updated_at"])
    consent_mirror_sync(consent=consent)
    return consent


def consent_mirror_sync(*, consent: Consent) -> int:
    """Copy the consent onto the organisation's contact points with that value (their
    `sms_opt_out` / `email_opt_out`, which the API shows); the number of rows changed."""
    flag = _MIRROR_FLAG[consent.channel]
    opted_out = consent.status == Consent.Status.OPTED_OUT
    return (
        ContactPoint.objects.filter(
            organization_id=consent.organization_id,
            kind=_CONTACT_KIND[consent.channel],
            value=consent.address,
        )
        .exclude(**{flag: opted_out})
        .update(**{flag: opted_out, "updated_at": timezone.now()})
    )
