"""Today at a glance: the dashboard's home page."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_safe

from dispatchnode.web.access import office_view


@require_safe
@office_view
def today(request):
    return render(request, "dashboard/today.html", {"nav": "home"})
