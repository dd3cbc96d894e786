"""The technician's pages: my day, a visit's job page with its completion form, the three taps
(On my way, Start, Complete), and the service worker and manifest that make it work on a weak
signal.

Every tap carries an idempotency key (the page's `tech.js` makes one per tap and queues it while
offline; without JavaScript the form carries one made by the server), and is applied exactly
once through `bookings.services_visits.visit_action_run`: the answer to a replay is the first
answer. A request that asks for JSON (`Accept: application/json`, as `tech.js` sends) gets JSON;
a plain form post is redirected back to the page with a message.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from urllib.parse import quote_plus

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from bookings import selectors
from bookings.models import Appointment, VisitAction
from bookings.rules import APPOINTMENT_OPEN_STATUSES
from bookings.services_visits import appointment_en_route, appointment_start, visit_action_run
from dispatchnode.core.errors import ApplicationError
from dispatchnode.web.access import technician_view
from dispatchnode.web.days import day_parse, local_today
from invoicing.selectors import price_book_item_list
from invoicing.services import job_complete

STATIC = Path(__file__).resolve().parents[1] / "static" / "web"
BLANK_LINES = 3


def _day_from(request) -> dt.date:
    day, problem = day_parse(request.organization, request.GET.get("date"))
    if problem:
        messages.error(request, problem)
    return day


def _day_context(request, day: dt.date) -> dict:
    visits = list(
        selectors.technician_day(
            organization=request.organization, technician=request.technician, day=day
        )
    )
    return {
        "day": day,
        "is_today": day == local_today(request.organization),
        "previous_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1),
        "visits": visits,
        "signature": _day_signature(visits),
        "new_key": uuid.uuid4,
    }


def _day_signature(visits: list[Appointment]) -> str:
    """Changes when a visit is added, moved, removed or changes status: the poll compares it."""
    return "|".join(f"{v.pk}:{v.start.isoformat()}:{v.status}" for v in visits)


@require_safe
@technician_view
def day(request):
    the_day = _day_from(request)
    return render(request, "tech/day.html", _day_context(request, the_day))


@require_safe
@technician_view
def day_fragment(request):
    """The day's list alone, polled by htmx every few seconds so changes show up live."""
    the_day = _day_from(request)
    return render(request, "tech/_day_list.html", _day_context(request, the_day))


def _visit_or_404(request, pk: int) -> Appointment:
    visit = selectors.technician_visit_get(
        organization=request.organization, technician=request.technician, pk=pk
    )
    if visit is None:
        raise Http404("No such visit.")
    return visit


def _visit_page(request, visit: Appointment, *, form=None, errors=None, status=200):
    items = list(
        price_book_item_list(organization=request.organization)
        .filter(is_active=True)
        .order_by("kind", "name")
    )
    context = selectors.visit_context(organization=request.organization, appointment=visit)
    form = form or {}
    lines = list(zip(form.get("item", []), form.get("quantity", []), strict=False))
    lines += [("", "1")] * max(0, BLANK_LINES - len(lines))
    return render(
        request,
        "tech/visit.html",
        {
            "visit": visit,
            "job": visit.job,
            "ctx": context,
            "items": items,
            "form": form,
            "lines": lines,
            "errors": errors or {},
            "key": uuid.uuid4(),
            "maps_url": _maps_url(visit),
            "completable": visit.status in APPOINTMENT_OPEN_STATUSES,
        },
        status=status,
    )


def _maps_url(visit: Appointment) -> str:
    return f"https://maps.google.com/?q={quote_plus(visit.job.location.one_line)}"


@require_safe
@technician_view
def visit(request, pk: int):
    return _visit_page(request, _visit_or_404(request, pk))


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _answer(request, visit: Appointment, *, ok: bool, body: dict, status: int, message: str):
    if _wants_json(request):
        return JsonResponse({"ok": ok, "message": message, **body}, status=status)
    (messages.success if ok else messages.error)(request, message)
    return redirect(reverse("tech:visit", args=[visit.pk]))


def _run(request, visit: Appointment, *, kind: str, perform, done: str):
    try:
        action, replayed = visit_action_run(
            technician=request.technician,
            appointment=visit,
            key=request.POST.get("key", ""),
            kind=kind,
            perform=perform,
        )
    except ApplicationError as exc:
        return _answer(
            request,
            visit,
            ok=False,
            body=exc.as_dict(),
            status=exc.status_code,
            message=exc.message,
        )
    body = {"result": action.result, "replayed": replayed, "key": action.key}
    return _answer(request, visit, ok=True, body=body, status=200, message=done)


@require_POST
@technician_view
def en_route(request, pk: int):
    visit = _visit_or_404(request, pk)
    raw_eta = request.POST.get("eta_minutes", "").strip()
    eta = int(raw_eta) if raw_eta.isdigit() else None

    def perform():
        done = appointment_en_route(appointment=visit, actor=request.user, eta_minutes=eta)
        return {"status": done.status}

    return _run(
        request,
        visit,
        kind=VisitAction.Kind.EN_ROUTE,
        perform=perform,
        done="On your way: the customer has been sent your arrival time.",
    )


@require_POST
@technician_view
def start(request, pk: int):
    visit = _visit_or_404(request, pk)

    def perform():
        return {"status": appointment_start(appointment=visit, actor=request.user).status}

    return _run(request, visit, kind=VisitAction.Kind.START, perform=perform, done="Work started.")


@require_http_methods(["GET", "HEAD", "POST"])
@technician_view
def complete(request, pk: int):
    """GET: the job page at its completion form. POST: complete the visit (the same service as
    `POST /api/v1/jobs/{id}/complete/`); lines whose item is left empty are ignored."""
    visit = _visit_or_404(request, pk)
    if request.method in ("GET", "HEAD"):
        return _visit_page(request, visit)
    items = request.POST.getlist("item")
    quantities = request.POST.getlist("quantity")
    lines = [
        (item, quantity.strip() or "1")
        for item, quantity in zip(items, quantities, strict=False)
        if item
    ]

    def perform():
        job = job_complete(
            job=visit.job,
            notes=request.POST.get("notes", "").strip(),
            diagnostic_notes=request.POST.get("diagnostic_notes", "").strip(),
            lines=lines,
            signature_png=request.POST.get("signature", "") or None,
            actor=request.user,
        )
        return {"status": job.status, "invoice": job.invoice.pk, "number": job.invoice.number}

    try:
        return _run(
            request,
            visit,
            kind=VisitAction.Kind.COMPLETE,
            perform=perform,
            done="Visit completed; the office has the invoice draft.",
        )
    except ValidationError as exc:
        errors = exc.message_dict
        if _wants_json(request):
            return JsonResponse(
                {
                    "ok": False,
                    "message": " ".join(m for msgs in errors.values() for m in msgs),
                    "errors": errors,
                },
                status=400,
            )
        form = {key: request.POST.getlist(key) for key in ("item", "quantity")}
        form.update({key: request.POST.get(key, "") for key in ("notes", "diagnostic_notes")})
        return _visit_page(request, visit, form=form, errors=errors, status=400)


# --- weak-signal support: public, fetched by the browser itself ------------------------------


@require_safe
@never_cache
def service_worker(request):
    """`/tech/sw.js`: scope /tech/; caches the pages opened (network first) and static files."""
    body = (STATIC / "tech-sw.js").read_text()
    assets = [
        static("web/app.css"),
        static("web/tech.css"),
        static("web/tech.js"),
        static("web/vendor/htmx-2.0.11.min.js"),
        static("web/tech-icon-192.png"),
    ]
    body = body.replace("__ASSETS__", str(assets).replace("'", '"'))
    response = HttpResponse(body, content_type="application/javascript")
    response["Service-Worker-Allowed"] = "/tech/"
    return response


@require_safe
def manifest(request):
    """`/tech/manifest.webmanifest`: install the day page like an app."""
    return JsonResponse(
        {
            "name": "DispatchNode — My day",
            "short_name": "My day",
            "start_url": "/tech/",
            "scope": "/tech/",
            "display": "standalone",
            "background_color": "#f5f7f9",
            "theme_color": "#1b2430",
            "icons": [
                {"src": static("web/tech-icon-192.png"), "sizes": "192x192", "type": "image/png"},
                {"src": static("web/tech-icon-512.png"), "sizes": "512x512", "type": "image/png"},
            ],
        },
        content_type="application/manifest+json",
    )
