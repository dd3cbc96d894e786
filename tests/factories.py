"""factory_boy factories for every model. Related rows are created in the same organisation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from bookings.models import (
    Appointment,
    Callback,
    CallSession,
    CallTurn,
    Holiday,
    Job,
    OnCallShift,
    SchedulingPolicy,
    ServiceType,
    Skill,
    Technician,
    TimeOff,
    VisitAction,
    WorkingHours,
)
from customers.merge import customer_merge
from customers.models import (
    Consent,
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
from dispatchnode.accounts.models import Membership, Organization, PhoneNumber, User
from dispatchnode.core.models import BackgroundRun
from integrations.models import WebhookEvent
from invoicing.models import (
    CreditNote,
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    Payment,
    PaymentRequest,
    PriceBookItem,
)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Acme Heating {n}")
    slug = factory.Sequence(lambda n: f"acme-{n}")
    timezone = "America/Chicago"
    tax_rate = Decimal("0.0825")
    office_phone = "+15125550199"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Pat"
    last_name = "Doe"
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.DISPATCHER


class PhoneNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhoneNumber

    organization = factory.SubFactory(OrganizationFactory)
    e164 = factory.Sequence(lambda n: f"+1512555{2000 + n:04d}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    organization = factory.SubFactory(OrganizationFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")


class ContactPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactPoint

    customer = factory.SubFactory(CustomerFactory)
    organization = factory.SelfAttribute("customer.organization")
    kind = ContactPoint.Kind.PHONE
    value = factory.Sequence(lambda n: f"+1512555{(n % 10000):04d}")
    is_primary = True


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    organization = factory.SubFactory(OrganizationFactory)
    channel = Consent.Channel.SMS
    address = factory.Sequence(lambda n: f"+1737555{(n % 10000):04d}")
    status = Consent.Status.OPTED_OUT
    source = Consent.Source.SMS_KEYWORD


class ServiceLocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceLocation

    customer = factory.SubFactory(CustomerFactory)
    organization = factory.SelfAttribute("customer.organization")
    raw_address = factory.Sequence(lambda n: f"{100 + n} Main St, Austin, TX 78701")
    street = factory.Sequence(lambda n: f"{100 + n} MAIN ST")
    city = "AUSTIN"
    state = "TX"
    postal_code = "78701"
    latitude = Decimal("30.267200")
    longitude = Decimal("-97.743100")
    geocode_quality = ServiceLocation.GeocodeQuality.ZIP_CENTROID
    is_primary = True


class EquipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Equipment

    location = factory.SubFactory(ServiceLocationFactory)
    organization = factory.SelfAttribute("location.organization")
    kind = Equipment.Kind.AIR_CONDITIONER
    category = "hvac"
    make = "Carrier"
    installed_on = dt.date(2018, 5, 1)


class CustomerNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerNote

    customer = factory.SubFactory(CustomerFactory)
    organization = factory.SelfAttribute("customer.organization")
    kind = CustomerNote.Kind.ACCESS
    body = "Gate code 4321"


class CustomerMergeFactory(factory.django.DjangoModelFactory):
    """A real merge, made by the service (so the snapshot and the hidden duplicate are real)."""

    class Meta:
        model = CustomerMerge

    organization = factory.SubFactory(OrganizationFactory)
    survivor = factory.SubFactory(
        CustomerFactory, organization=factory.SelfAttribute("..organization")
    )
    duplicate = factory.SubFactory(
        CustomerFactory, organization=factory.SelfAttribute("..organization")
    )
    source = CustomerMerge.Source.MANUAL

    @classmethod
    def _create(cls, model_class, *args, organization, **kwargs):
        return customer_merge(**kwargs)


class DuplicateReviewFactory(factory.django.DjangoModelFactory):
    """An open review of two customers of one organisation (the older one is `customer_a`)."""

    class Meta:
        model = DuplicateReview

    organization = factory.SubFactory(OrganizationFactory)
    customer_a = factory.SubFactory(
        CustomerFactory, organization=factory.SelfAttribute("..organization")
    )
    customer_b = factory.SubFactory(
        CustomerFactory, organization=factory.SelfAttribute("..organization")
    )
    probability = Decimal("0.870")
    source = DuplicateReview.Source.BATCH
    evidence = factory.LazyAttribute(
        lambda o: {
            "probability": float(o.probability),
            "fields": {
                "first_name": {"score": 0.95, "a": "BILL", "b": "WILLIAM", "how": "nickname"},
                "phone": {"score": 1.0, "a": "+15125550142", "b": "+15125550142", "how": "exact"},
            },
            "blocks": ["phone"],
        }
    )


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Skill

    organization = factory.SubFactory(OrganizationFactory)
    code = factory.Sequence(lambda n: f"skill-{n}")
    name = factory.Sequence(lambda n: f"Skill {n}")


class ServiceTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceType

    organization = factory.SubFactory(OrganizationFactory)
    code = factory.Sequence(lambda n: f"ac-repair-{n}")
    name = "AC repair"
    category = "hvac"
    kind = ServiceType.Kind.REPAIR
    default_duration_minutes = 120
    spoken_synonyms = ["blowing warm air", "ac not cooling"]


class TechnicianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Technician

    organization = factory.SubFactory(OrganizationFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    phone = factory.Sequence(lambda n: f"+1512555{(3000 + n) % 10000:04d}")
    color = "#16a34a"


class WorkingHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingHours

    technician = factory.SubFactory(TechnicianFactory)
    organization = factory.SelfAttribute("technician.organization")
    weekday = 0
    start_time = dt.time(8, 0)
    end_time = dt.time(17, 0)


class TimeOffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeOff

    technician = factory.SubFactory(TechnicianFactory)
    organization = factory.SelfAttribute("technician.organization")
    start = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=3))
    end = factory.LazyAttribute(lambda o: o.start + dt.timedelta(hours=8))


class OnCallShiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OnCallShift

    technician = factory.SubFactory(TechnicianFactory)
    organization = factory.SelfAttribute("technician.organization")
    start = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=1))
    end = factory.LazyAttribute(lambda o: o.start + dt.timedelta(hours=14))


class HolidayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Holiday

    organization = factory.SubFactory(OrganizationFactory)
    date = factory.Sequence(lambda n: dt.date(2030, 1, 1) + dt.timedelta(days=n))
    name = "Holiday"


class SchedulingPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SchedulingPolicy

    organization = factory.SubFactory(OrganizationFactory)


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    organization = factory.SubFactory(OrganizationFactory)
    number = factory.Sequence(lambda n: f"J-{1000 + n}")
    customer = factory.SubFactory(
        CustomerFactory, organization=factory.SelfAttribute("..organization")
    )
    location = factory.SubFactory(
        ServiceLocationFactory,
        customer=factory.SelfAttribute("..customer"),
        organization=factory.SelfAttribute("..organization"),
    )
    service_type = factory.SubFactory(
        ServiceTypeFactory, organization=factory.SelfAttribute("..organization")
    )
    description = "AC blowing warm air"


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    organization = factory.SubFactory(OrganizationFactory)
    job = factory.SubFactory(JobFactory, organization=factory.SelfAttribute("..organization"))
    technician = factory.SubFactory(
        TechnicianFactory, organization=factory.SelfAttribute("..organization")
    )
    start = factory.LazyFunction(
        lambda: (timezone.now() + dt.timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    )
    end = factory.LazyAttribute(lambda o: o.start + dt.timedelta(hours=2))


class VisitActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VisitAction

    appointment = factory.SubFactory(AppointmentFactory)
    organization = factory.SelfAttribute("appointment.organization")
    technician = factory.SelfAttribute("appointment.technician")
    key = factory.Sequence(lambda n: f"00000000-0000-4000-8000-{n:012d}")
    kind = "en_route"
    result = factory.LazyFunction(lambda: {"status": "en_route"})


class CallSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CallSession

    organization = factory.SubFactory(OrganizationFactory)
    call_sid = factory.Sequence(lambda n: f"CA{n:032d}")
    from_number = "+15125550142"
    to_number = "+15125550100"


class CallTurnFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CallTurn

    call = factory.SubFactory(CallSessionFactory)
    organization = factory.SelfAttribute("call.organization")
    sequence = factory.Sequence(lambda n: n)
    heard = "My AC is blowing warm air"
    said = "I can help with that."


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    customer = factory.SubFactory(CustomerFactory)
    organization = factory.SelfAttribute("customer.organization")
    channel = Message.Channel.SMS
    to_address = "+15125550142"
    body = "Your appointment is confirmed."


class PriceBookItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceBookItem

    organization = factory.SubFactory(OrganizationFactory)
    code = factory.Sequence(lambda n: f"SVC-{n}")
    name = "Diagnostic visit"
    unit_price = Decimal("89.00")


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice

    organization = factory.SubFactory(OrganizationFactory)
    number = factory.Sequence(lambda n: f"INV-{1000 + n}")
    customer = factory.SubFactory(
        CustomerFactory, organization=factory.SelfAttribute("..organization")
    )
    status = Invoice.Status.SENT
    subtotal = Decimal("100.00")
    tax_total = Decimal("8.25")
    total = Decimal("108.25")


class InvoiceLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InvoiceLine

    invoice = factory.SubFactory(InvoiceFactory)
    organization = factory.SelfAttribute("invoice.organization")
    description = "Diagnostic visit"
    quantity = Decimal("1")
    unit_price = Decimal("100.00")
    amount = Decimal("100.00")


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    invoice = factory.SubFactory(InvoiceFactory)
    organization = factory.SelfAttribute("invoice.organization")
    amount = Decimal("50.00")
    received_at = factory.LazyFunction(timezone.now)


class BackgroundRunFactory(factory.django.DjangoModelFactory):
    """A finished dedupe run (finished, so several can exist in one organisation)."""

    class Meta:
        model = BackgroundRun

    organization = factory.SubFactory(OrganizationFactory)
    kind = BackgroundRun.Kind.DEDUPE
    status = BackgroundRun.Status.SUCCEEDED
    params = factory.LazyFunction(lambda: {"merge": True})
    stage = "queueing for review"
    done = 3
    total = 3
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyFunction(timezone.now)
    result = factory.LazyFunction(
        lambda: {"customers": 6, "clusters": 1, "merged": 1, "queued": 1, "merges": [], "stats": {}}
    )


class CallbackFactory(factory.django.DjangoModelFactory):
    """An open call back of an unbooked call."""

    class Meta:
        model = Callback

    call = factory.SubFactory(
        CallSessionFactory,
        outcome="no_booking",
        action_items=["Call back: the caller did not book"],
    )
    organization = factory.SelfAttribute("call.organization")
    reason = "Call back: the caller did not book"


class WebhookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEvent

    organization = factory.SubFactory(OrganizationFactory)
    provider = "stripe"
    event_id = factory.Sequence(lambda n: f"evt_test_{n:06d}")
    type = "payment_intent.succeeded"
    payload = factory.LazyAttribute(lambda o: {"id": o.event_id, "type": o.type})


class CreditNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditNote

    invoice = factory.SubFactory(InvoiceFactory)
    organization = factory.SelfAttribute("invoice.organization")
    number = factory.Sequence(lambda n: f"CN-2026-{n + 1:06d}")
    amount = Decimal("5.00")
    reason = "Goodwill"


class InvoiceEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InvoiceEvent

    invoice = factory.SubFactory(InvoiceFactory)
    organization = factory.SelfAttribute("invoice.organization")
    kind = InvoiceEvent.Kind.SENT
    note = "To sms +15125550142"


class PaymentRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaymentRequest

    invoice = factory.SubFactory(InvoiceFactory)
    organization = factory.SelfAttribute("invoice.organization")
    provider = "stripe"
    provider_id = factory.Sequence(lambda n: f"cs_test_{n:08d}")
    url = "https://checkout.stripe.com/c/pay/cs_test"
    amount = Decimal("108.25")


class FollowUpRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUpRule

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Tune-up reminder {n}")
    trigger = FollowUpRule.Trigger.JOB_COMPLETED
    channel = FollowUpRule.Channel.SMS
    body = "Hi {first_name}, time for your tune-up with {company}."
    delay = dt.timedelta(days=30)


class FollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUp

    organization = factory.SubFactory(OrganizationFactory)
    rule = factory.SubFactory(
        FollowUpRuleFactory, organization=factory.SelfAttribute("..organization")
    )
    customer = factory.SubFactory(
        CustomerFactory, organization=factory.SelfAttribute("..organization")
    )
    object_type = "job"
    object_id = factory.Sequence(lambda n: 100_000 + n)
    scheduled_for = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=1))
