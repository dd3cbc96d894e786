"""Follow-ups for the office: the rules (the owner edits them) and what is scheduled or went
out lately. Every write calls `customers.followups.followup_rule_update`."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from customers import followups
from customers.models import FollowUp
from dispatchnode.accounts.models import Membership
from dispatchnode.core.errors import ApplicationError
from dispatchnode.web.access import office_view

RECENT = 50


def _is_owner(request) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and membership.role == Membership.Role.OWNER


@require_safe
@office_view
def followup_page(request):
    org = request.organization
    followups.followup_rules_default_ensure(organization=org)
    rules = list(
        followups.followup_rule_list(organization=org)
        .annotate(
            scheduled=Count("followups", filter=Q(followups__status=FollowUp.Status.SCHEDULED)),
            sent=Count("followups", filter=Q(followups__status=FollowUp.Status.SENT)),
        )
        .order_by("trigger", "name")
    )
    upcoming = list(
        followups.followup_list(organization=org)
        .filter(status=FollowUp.Status.SCHEDULED)
        .select_related("customer")
        .order_by("scheduled_for", "id")[:RECENT]
    )
    recent = list(
        followups.followup_list(organization=org)
        .exclude(status=FollowUp.Status.SCHEDULED)
        .select_related("customer")
        .order_by("-updated_at", "-id")[:RECENT]
    )
    return render(
        request,
        "dashboard/followups.html",
        {
            "nav": "followups",
            "rules": rules,
            "upcoming": upcoming,
            "recent": recent,
            "can_edit": _is_owner(request),
        },
    )


@require_POST
@office_view
def followup_rule_edit(request, pk: int):
    rule = followups.followup_rule_list(organization=request.organization).filter(pk=pk).first()
    if rule is None:
        raise Http404("No such rule.")
    if not _is_owner(request):
        messages.error(request, "Only the owner edits follow-up rules.")
        return redirect("dashboard:followups")
    try:
        hours = float(request.POST.get("delay_hours", ""))
    except ValueError:
        messages.error(request, "The delay is a number of hours.")
        return redirect("dashboard:followups")
    try:
        followups.followup_rule_update(
            rule=rule,
            is_active=request.POST.get("is_active") == "on",
            delay=dt.timedelta(hours=hours),
            body=request.POST.get("body", rule.body),
        )
    except (ApplicationError, ValueError, OverflowError) as error:
        messages.error(request, getattr(error, "message", str(error)))
    else:
        messages.success(request, f"“{rule.name}” saved.")
    return redirect("dashboard:followups")
