"""The home redirect: each signed-in user lands on their own pages."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.views.decorators.http import require_safe

from dispatchnode.web.access import home_for


@require_safe
def home(request):
    if not request.user.is_authenticated:
        return redirect_to_login("/")
    return redirect(home_for(request))
