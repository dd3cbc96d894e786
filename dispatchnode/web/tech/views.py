"""The technician's pages."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_safe

from dispatchnode.web.access import technician_view


@require_safe
@technician_view
def day(request):
    return render(request, "tech/day.html", {})
