"""What the API tests share: the routes registered under /api/v1/ (found through the URL
resolver, never listed by hand) and, per model, a maker that creates one complete object for an
organisation (with the nested rows its endpoint renders).

A viewset whose model has no maker here fails the tenant-isolation meta-test: a new endpoint
cannot ship without it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.viewsets import ViewSetMixin

from bookings.models import (
    Appointment,
    CallSession,
    Job,
    ServiceType,
    Skill,
    Technician,
)
from customers.merge import customer_merge
from customers.models import (
    ContactPoint,
    Customer,
    CustomerMerge,
    CustomerNote,
    DuplicateReview,
    Equipment,
    FollowUp,
    FollowUpRule,
    Message,
    ServiceLocation,
)
from customers.reviews import duplicate_review_open
from dispatchnode.core.models import BackgroundRun
from invoicing.models import Invoice, Payment, PriceBookItem
from tests import factories

API_PREFIX = "api/v1/"


@dataclass(frozen=True)
class ApiRoute:
    """One router registration: `api:<basename>-list` and `api:<basename>-detail`."""

    basename: str
    viewset: type
    actions: frozenset[str]

    @property
    def model(self) -> type:
        return self.viewset.queryset.model

    @property
    def has_objects(self) -> bool:
        """A resource with a list or detail route; the reports have collection actions only
        (their tenant isolation is tested in tests/api/test_reports.py)."""
        return bool({"list", "retrieve"} & self.actions)

    @property
    def list_url(self) -> str:
        return reverse(f"api:{self.basename}-list")

    def detail_url(self, pk) -> str:
        return reverse(f"api:{self.basename}-detail", args=[pk])


def object_routes() -> list[ApiRoute]:
    """The registrations that serve objects (a list or a detail route)."""
    return [route for route in api_routes() if route.has_objects]


def api_views() -> list[tuple[str, object]]:
    """(route, view callback) for every URL pattern under /api/v1/."""
    found = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith(API_PREFIX):
                found.append((route, pattern.callback))

    walk(get_resolver().url_patterns, "")
    return found


def api_routes() -> list[ApiRoute]:
    """Every viewset registered under /api/v1/, with the actions its routes map to."""
    viewsets: dict[str, type] = {}
    actions: dict[str, set[str]] = {}
    for _route, callback in api_views():
        cls = getattr(callback, "cls", None)
        if cls is None or not issubclass(cls, ViewSetMixin):
            continue
        basename = callback.initkwargs["basename"]
        viewsets[basename] = cls
        actions.setdefault(basename, set()).update(callback.actions.values())
    return [
        ApiRoute(basename=name, viewset=viewsets[name], actions=frozenset(actions[name]))
        for name in sorted(viewsets)
    ]


# --- makers: one complete object of a model for an organisation -----------------------------


def make_customer(organization) -> Customer:
    customer = factories.CustomerFactory(organization=organization)
    factories.ContactPointFactory(customer=customer)
    factories.ContactPointFactory(customer=customer, is_primary=False)
    factories.ContactPointFactory(
        customer=customer,
        kind=ContactPoint.Kind.EMAIL,
        value=f"customer{customer.pk}@example.com",
    )
    return customer


def make_customer_merge(organization) -> CustomerMerge:
    return customer_merge(
        survivor=make_customer(organization),
        duplicate=make_customer(organization),
        probability=0.97,
        evidence={"probability": 0.97, "fields": {}, "blocks": ["phone"]},
    )


def make_duplicate_review(organization) -> DuplicateReview:
    a, b = make_customer(organization), make_customer(organization)
    factories.ServiceLocationFactory(customer=a)
    factories.ServiceLocationFactory(customer=b)
    return duplicate_review_open(
        organization=organization,
        customer_a=a,
        customer_b=b,
        probability=0.88,
        evidence={
            "probability": 0.88,
            "fields": {"last_name": {"score": 0.9, "a": "SMITH", "b": "SMYTH", "how": "typo"}},
            "blocks": ["address"],
        },
        source=DuplicateReview.Source.BATCH,
    )


def make_location(organization) -> ServiceLocation:
    return factories.ServiceLocationFactory(
        customer=factories.CustomerFactory(organization=organization)
    )


def make_equipment(organization) -> Equipment:
    return factories.EquipmentFactory(location=make_location(organization))


def make_note(organization) -> CustomerNote:
    return factories.CustomerNoteFactory(
        customer=factories.CustomerFactory(organization=organization)
    )


def make_message(organization) -> Message:
    return factories.MessageFactory(customer=factories.CustomerFactory(organization=organization))


def make_skill(organization) -> Skill:
    return factories.SkillFactory(organization=organization)


def make_service_type(organization) -> ServiceType:
    return factories.ServiceTypeFactory(
        organization=organization, required_skill=make_skill(organization)
    )


def make_technician(organization) -> Technician:
    technician = factories.TechnicianFactory(organization=organization)
    technician.skills.set([make_skill(organization), make_skill(organization)])
    factories.WorkingHoursFactory(technician=technician, weekday=0)
    factories.WorkingHoursFactory(technician=technician, weekday=1)
    return technician


def make_job(organization) -> Job:
    return factories.JobFactory(organization=organization)


def make_appointment(organization) -> Appointment:
    return factories.AppointmentFactory(organization=organization)


def make_call(organization) -> CallSession:
    job = make_job(organization)
    call = factories.CallSessionFactory(
        organization=organization, customer=job.customer, job=job, outcome="booked"
    )
    factories.CallTurnFactory(call=call, sequence=1)
    factories.CallTurnFactory(call=call, sequence=2)
    return call


def make_invoice(organization) -> Invoice:
    job = make_job(organization)
    invoice = factories.InvoiceFactory(organization=organization, customer=job.customer, job=job)
    factories.InvoiceLineFactory(invoice=invoice, position=1)
    factories.InvoiceLineFactory(
        invoice=invoice,
        position=2,
        description="Refrigerant",
        unit_price=Decimal("0.00"),
        amount=Decimal("0.00"),
    )
    return invoice


def make_payment(organization) -> Payment:
    return factories.PaymentFactory(
        invoice=factories.InvoiceFactory(organization=organization),
        received_at=dt.datetime(2025, 6, 2, 15, 0, tzinfo=dt.UTC),
    )


def make_price_book_item(organization) -> PriceBookItem:
    return factories.PriceBookItemFactory(organization=organization)


def make_followup_rule(organization) -> FollowUpRule:
    return factories.FollowUpRuleFactory(organization=organization)


def make_followup(organization) -> FollowUp:
    return factories.FollowUpFactory(organization=organization)


def make_background_run(organization) -> BackgroundRun:
    return factories.BackgroundRunFactory(organization=organization)


MAKERS: dict[type, Callable] = {
    Customer: make_customer,
    CustomerMerge: make_customer_merge,
    DuplicateReview: make_duplicate_review,
    ServiceLocation: make_location,
    Equipment: make_equipment,
    CustomerNote: make_note,
    Message: make_message,
    FollowUpRule: make_followup_rule,
    FollowUp: make_followup,
    Skill: make_skill,
    ServiceType: make_service_type,
    Technician: make_technician,
    Job: make_job,
    Appointment: make_appointment,
    CallSession: make_call,
    Invoice: make_invoice,
    Payment: make_payment,
    PriceBookItem: make_price_book_item,
    BackgroundRun: make_background_run,
}
