"""Customer search, the customer 360 page (with merge undo), and the duplicate review queue."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from bookings import selectors_office as bookings_office
from customers import merge as merging
from customers import reviews
from customers import selectors_office as office
from customers.models import DuplicateReview
from dispatchnode.core.errors import ApplicationError
from dispatchnode.web.access import office_view
from dispatchnode.web.days import local_today
from invoicing import selectors as invoicing
from invoicing import selectors_office as invoicing_office


@require_safe
@office_view
def customer_search(request):
    text = request.GET.get("q", "").strip()[:200]
    results = office.customer_search_results(organization=request.organization, text=text)
    return render(
        request,
        "dashboard/customers.html",
        {"nav": "customers", "q": text, "results": results},
    )


@require_safe
@office_view
def customer_detail(request, pk: int):
    org = request.organization
    customer = office.customer_profile(organization=org, pk=pk)
    if customer is None:
        raise Http404("No such customer.")
    today = local_today(org)
    return render(
        request,
        "dashboard/customer.html",
        {
            "nav": "customers",
            "customer": customer,
            "jobs": bookings_office.customer_jobs(organization=org, customer=customer),
            "calls": list(bookings_office.customer_calls(organization=org, customer=customer)[:20]),
            "invoices": list(
                invoicing_office.customer_invoices(organization=org, customer=customer)
            ),
            "balance": invoicing.customer_balance(organization=org, customer=customer, today=today),
            "timeline": office.customer_messages(organization=org, customer=customer),
            "followups": office.customer_followups(organization=org, customer=customer),
            "merges": office.customer_merges(organization=org, customer=customer),
        },
    )


@require_POST
@office_view
def merge_undo(request, pk: int):
    merge = office.customer_merge_get(organization=request.organization, pk=pk)
    if merge is None:
        raise Http404("No such merge.")
    try:
        merging.customer_unmerge(merge=merge, actor=request.user)
    except ApplicationError as error:
        messages.error(request, f"The merge was not undone: {error}")
    else:
        messages.success(
            request,
            f"Merge undone: {merge.duplicate.display_name or 'the duplicate'} "
            f"(#{merge.duplicate_id}) is a separate customer again.",
        )
    return redirect("dashboard:customer", pk=merge.survivor_id)


@dataclass(frozen=True)
class ReviewCard:
    review: DuplicateReview
    a: office.CustomerCard
    b: office.CustomerCard
    evidence: list[office.EvidenceRow]


@require_safe
@office_view
def duplicate_list(request):
    org = request.organization
    open_reviews = office.open_duplicate_reviews(organization=org)
    ids = [c.pk for r in open_reviews for c in (r.customer_a, r.customer_b)]
    job_counts = bookings_office.job_counts_by_customer(organization=org, customer_ids=ids)
    cards = [
        ReviewCard(
            review=r,
            a=office.customer_card(r.customer_a, job_count=job_counts.get(r.customer_a_id, 0)),
            b=office.customer_card(r.customer_b, job_count=job_counts.get(r.customer_b_id, 0)),
            evidence=office.evidence_rows(r.evidence),
        )
        for r in open_reviews
    ]
    return render(
        request,
        "dashboard/duplicates.html",
        {
            "nav": "duplicates",
            "cards": cards,
            "total": office.open_duplicate_review_count(organization=org),
        },
    )


def _review_or_404(request, pk: int) -> DuplicateReview:
    review = office.duplicate_review_get(organization=request.organization, pk=pk)
    if review is None:
        raise Http404("No such review.")
    return review


@require_POST
@office_view
def duplicate_merge(request, pk: int):
    review = _review_or_404(request, pk)
    keep = request.POST.get("keep", "a")
    survivor = review.customer_b if keep == "b" else review.customer_a
    try:
        merge = merging.duplicate_review_merge(review=review, actor=request.user, survivor=survivor)
    except ApplicationError as error:
        messages.error(request, f"Not merged: {error}")
    else:
        messages.success(
            request,
            f"Merged #{merge.duplicate_id} into {merge.survivor.display_name or 'the customer'} "
            f"(#{merge.survivor_id}). Undo it from the customer's page if that was wrong.",
        )
    return redirect("dashboard:duplicates")


@require_POST
@office_view
def duplicate_dismiss(request, pk: int):
    review = _review_or_404(request, pk)
    try:
        reviews.duplicate_review_dismiss(review=review, actor=request.user)
    except ApplicationError as error:
        messages.error(request, f"Not dismissed: {error}")
    else:
        messages.success(request, "Marked as different people; this pair will not come back.")
    return redirect("dashboard:duplicates")
