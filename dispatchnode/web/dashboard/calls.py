"""Today's calls, one call's transcript, and the callback queue (claim, close)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from bookings import selectors_office as office
from bookings import services_callbacks
from bookings.models import Callback
from dispatchnode.core.errors import ApplicationError
from dispatchnode.web.access import office_view
from dispatchnode.web.days import local_today


@require_safe
@office_view
def call_list(request):
    org = request.organization
    today = local_today(org)
    calls = office.calls_on_local_day(organization=org, day=today)
    return render(
        request,
        "dashboard/calls.html",
        {
            "nav": "calls",
            "today": today,
            "in_progress": [c for c in calls if not c.outcome],
            "finished": [c for c in calls if c.outcome],
        },
    )


@require_safe
@office_view
def call_detail(request, pk: int):
    call = office.call_get(organization=request.organization, pk=pk)
    if call is None:
        raise Http404("No such call.")
    return render(
        request,
        "dashboard/call.html",
        {"nav": "calls", "call": call, "callback": getattr(call, "callback", None)},
    )


@require_safe
@office_view
def callback_list(request):
    org = request.organization
    today = local_today(org)
    return render(
        request,
        "dashboard/callbacks.html",
        {
            "nav": "callbacks",
            "queue": list(office.callback_queue(organization=org)),
            "closed": list(office.callbacks_closed_on_local_day(organization=org, day=today)),
            "outcomes": Callback.Outcome.choices,
        },
    )


def _callback_or_404(request, pk: int) -> Callback:
    callback = office.callback_get(organization=request.organization, pk=pk)
    if callback is None:
        raise Http404("No such call back.")
    return callback


@require_POST
@office_view
def callback_claim(request, pk: int):
    callback = _callback_or_404(request, pk)
    try:
        services_callbacks.callback_claim(callback=callback, actor=request.user)
    except ApplicationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "The call back is yours. Close it when you have called.")
    return redirect("dashboard:callbacks")


@require_POST
@office_view
def callback_close(request, pk: int):
    callback = _callback_or_404(request, pk)
    try:
        services_callbacks.callback_close(
            callback=callback,
            actor=request.user,
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
        )
    except ApplicationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Call back closed.")
    return redirect("dashboard:callbacks")
