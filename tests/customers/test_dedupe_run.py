"""Batch deduplication of an organisation's stored customers: `organization_dedupe`, the
`dedupe` command and the Celery task (its run record: tests/customers/test_dedupe_runs.py)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from customers.intake import customer_find_or_create
from customers.merge import customer_unmerge
from customers.models import Customer, CustomerMerge, DuplicateReview
from customers.reviews import duplicate_review_dismiss
from customers.services import dedupe_run_start, organization_dedupe
from customers.tasks import organization_dedupe_task

pytestmark = pytest.mark.django_db


def add(org, first, last, *, phone="", email="", address=""):
    """Load a customer the way an old import would: no matching at the door (that is the point
    of the batch job), but stored through the same normalisation."""
    org.match_auto_threshold = org.match_review_threshold = 1
    result = customer_find_or_create(
        organization=org,
        first_name=first,
        last_name=last,
        phone=phone,
        email=email,
        address=address,
        source="import",
    )
    assert result.decision == "created"
    return result.customer


@pytest.fixture
def base(org):
    people = {
        "william": add(
            org,
            "William",
            "Jenkins",
            phone="512-555-0101",
            address="123 Oak Street, Austin, TX 78702",
        ),
        "bill": add(
            org,
            "Bill",
            "Jenkins",
            phone="(512) 555-0101",
            email="bill@jenkins.net",
            address="123 Oak St, Austin TX 78702",
        ),
        "mary": add(
            org, "Mary", "Jenkins", phone="512-555-0101", address="123 Oak St, Austin TX 78702"
        ),
        "john": add(
            org, "John", "Smith", phone="512-555-0142", address="9 Elm St, Austin TX 78704"
        ),
        "john_jr": add(
            org, "John", "Smith Jr", phone="512-555-0143", address="9 Elm St, Austin TX 78704"
        ),
        "unsure": add(org, "W.", "Jenkins", address="123 Oak St, Austin TX 78702"),
    }
    org.refresh_from_db()  # the real thresholds again
    return people


def test_clusters_merge_into_the_oldest_and_uncertain_pairs_are_queued(org, base):
    report = organization_dedupe(organization=org)
    assert (report.customers, report.clusters, report.merged) == (6, 1, 1)
    merge = CustomerMerge.objects.get()
    assert (merge.survivor, merge.duplicate, merge.source) == (
        base["william"],
        base["bill"],
        "batch",
    )
    assert merge.evidence["fields"]["first_name"]["how"] == "nickname"
    live = set(Customer.objects.filter(organization=org, merged_into__isnull=True))
    assert live == {base[k] for k in ("william", "mary", "john", "john_jr", "unsure")}
    assert base["william"].contacts.filter(value="bill@jenkins.net").exists()
    queued = {frozenset((r.customer_a_id, r.customer_b_id)) for r in DuplicateReview.objects.all()}
    assert frozenset((base["william"].pk, base["unsure"].pk)) in queued
    family = {base["mary"].pk, base["john"].pk, base["john_jr"].pk}
    assert not any(pair & family for pair in queued), "households are not even queued"


def test_a_second_run_changes_nothing_and_respects_decisions(org, base):
    organization_dedupe(organization=org)
    review = DuplicateReview.objects.get(customer_b=base["unsure"])
    duplicate_review_dismiss(review=review)
    again = organization_dedupe(organization=org)
    assert (again.merged, again.queued) == (0, 0)
    assert DuplicateReview.objects.get(pk=review.pk).status == DuplicateReview.Status.DISMISSED


def test_an_undone_batch_merge_is_not_redone_blindly(org, base):
    organization_dedupe(organization=org)
    customer_unmerge(merge=CustomerMerge.objects.get())
    assert Customer.objects.get(pk=base["bill"].pk).merged_into is None
    report = organization_dedupe(organization=org, merge=False)
    assert report.merged == 0
    pair = DuplicateReview.objects.get(customer_a=base["william"], customer_b=base["bill"])
    assert pair.status == DuplicateReview.Status.OPEN


def test_the_dedupe_command_shows_progress_and_the_result(org, base):
    out, err = io.StringIO(), io.StringIO()
    call_command("dedupe", organization=org.slug, stdout=out, stderr=err)
    assert "6 customers" in out.getvalue()
    assert "1 merged" in out.getvalue()
    assert "scoring" in err.getvalue()
    assert "100 %" in err.getvalue()


def test_the_dedupe_command_names_an_unknown_organisation(org):
    with pytest.raises(CommandError, match="No organisation 'nope'"):
        call_command("dedupe", organization="nope")


def test_batch_dedupe_never_crosses_organisations(org, other_org, base):
    add(
        other_org,
        "William",
        "Jenkins",
        phone="512-555-0101",
        address="123 Oak Street, Austin, TX 78702",
    )
    organization_dedupe(organization=other_org)
    assert not CustomerMerge.objects.filter(organization=other_org).exists()
    assert Customer.objects.filter(organization=other_org, merged_into__isnull=True).count() == 1


def test_the_task_records_what_it_did_on_its_run(org, base):
    run = dedupe_run_start(organization=org)
    organization_dedupe_task.apply(args=[run.pk])
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert run.result["merged"] == 1
    assert run.result["merges"] == list(CustomerMerge.objects.values_list("pk", flat=True))


def test_a_dry_run_counts_and_changes_nothing(org, base):
    out = io.StringIO()
    call_command("dedupe", organization=org.slug, dry_run=True, stdout=out, stderr=io.StringIO())
    assert "1 clusters would be merged" in out.getvalue()
    assert "Nothing was changed" in out.getvalue()
    assert not CustomerMerge.objects.exists()
    assert not DuplicateReview.objects.exists()
