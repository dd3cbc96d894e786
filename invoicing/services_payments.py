"""Writes of payments: recording them, refunds and credit notes, disputes, pay links.

Every write locks the invoice row first, so two payments (a webhook and a cashier, two
deliveries of one event) are applied one after the other and the balance check sees the
other's effect. The invoice's figures move together:

- `amount_paid` is what was collected and kept: payments less refunds and disputed amounts;
- `credited` is the sum of credit notes (a refund always comes with one: the customer gets the
  money back and no longer owes it);
- `balance` = total − credited − amount_paid; the status follows from it (see
  `invoice_settle`): nothing collected → sent, some → partially paid, none left → paid. A paid
  invoice closes its job.

Gateway payments are idempotent by the provider's payment id, refunds by the provider's
refund id, so a webhook delivered twice (or two events for one payment) records it once.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from bookings.models import Job
from bookings.rules import job_transition_check
from dispatchnode.core.errors import ApplicationError, Conflict, NotFound
from dispatchnode.core.outbox import event_actor, outbox_emit
from dispatchnode.core.services import sequence_next
from invoicing.gateways import GatewayError, gateway_for, gateway_get
from invoicing.models import CreditNote, Invoice, InvoiceEvent, Payment, PaymentRequest

CENT = Decimal("0.01")
MANUAL_METHODS = (
    Payment.Method.CASH,
    Payment.Method.CHECK,
    Payment.Method.CARD,
    Payment.Method.ACH,
    Payment.Method.OTHER,
)
PAY_LINK_MIN_LIFETIME = dt.timedelta(minutes=10)


def money_parse(value, *, field: str = "amount") -> Decimal:
    """A positive amount with at most two decimals, or an ApplicationError naming `field`."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ApplicationError(f"The {field} must be a number.", code="invalid_amount") from None
    if not amount.is_finite() or amount <= 0:
        raise ApplicationError(f"The {field} must be above zero.", code="invalid_amount")
    if amount != amount.quantize(CENT):
        raise ApplicationError(f"The {field} has at most two decimals.", code="invalid_amount")
    return amount


def payment_record(
    *,
    invoice: Invoice,
    amount,
    currency: str,
    method: str,
    provider: str = "manual",
    provider_payment_id: str = "",
    reference: str = "",
    received_at: dt.datetime | None = None,
    actor=None,
) -> Payment:
    """Record money received against `invoice`.

    The same `(provider, provider_payment_id)` again returns the payment already recorded and
    changes nothing. Refused, with nothing written: an amount that is not a positive number of
    cents (400 `invalid_amount`), another currency (400 `currency_mismatch`), a void invoice
    (409 `invoice_void`), more than the balance (409 `exceeds_balance`, with the balance).
    A payment on a draft issues it (the technician collected on site).
    """
    amount = money_parse(amount)
    currency = (currency or "").strip().upper()
    if method not in Payment.Method.values:
        raise ApplicationError(
            f"Unknown payment method {method!r}; use one of {', '.join(MANUAL_METHODS)}.",
            code="invalid_method",
        )
    now = timezone.now()
    with transaction.atomic():
        invoice = invoice_locked(invoice)
        if provider_payment_id:
            existing = Payment.objects.filter(
                organization_id=invoice.organization_id,
                provider=provider,
                provider_payment_id=provider_payment_id,
            ).first()
            if existing is not None:
                if existing.invoice_id != invoice.pk:
                    raise Conflict(
                        f"Payment {provider_payment_id} is recorded on another invoice.",
                        code="payment_elsewhere",
                    )
                return existing
        if currency != invoice.currency:
            raise ApplicationError(
                f"Invoice {invoice.number} is in {invoice.currency}, not {currency or '(none)'}.",
                code="currency_mismatch",
            )
        if invoice.status == Invoice.Status.VOID:
            raise Conflict(f"Invoice {invoice.number} is void.", code="invoice_void")
        if amount > invoice.balance:
            raise Conflict(
                f"{amount} {currency} is more than the balance of invoice {invoice.number} "
                f"({invoice.balance} {invoice.currency}).",
                code="exceeds_balance",
                balance=str(invoice.balance),
            )
        payment = Payment.objects.create(
            organization_id=invoice.organization_id,
            invoice=invoice,
            amount=amount,
            currency=currency,
            method=method,
            status=Payment.Status.SUCCEEDED,
            received_at=received_at or now,
            provider=provider,
            provider_payment_id=provider_payment_id,
            reference=reference[:100],
            recorded_by=actor if event_actor(actor) else None,
        )
        invoice.amount_paid += amount
        invoice_history_add(
            invoice, InvoiceEvent.Kind.PAYMENT, f"{amount} {currency} by {method}", actor
        )
        invoice_settle(invoice, now=now, actor=actor)
        outbox_emit(
            organization=invoice.organization,
            topic="payment.recorded",
            payload={
                "payment": payment.pk,
                "invoice": invoice.pk,
                "amount": str(amount),
                "currency": currency,
                "method": method,
                "provider": provider,
                "balance": str(invoice.balance),
                "actor": event_actor(actor),
            },
            aggregate=invoice,
        )
    return payment


def payment_refund(
    *,
    payment: Payment,
    amount,
    reason: str,
    provider_refund_id: str = "",
    actor=None,
) -> CreditNote:
    """Give `amount` of `payment` back, with a credit note of the same amount (numbered
    `CN-<year>-<000001>`): the invoice's balance does not reopen. Idempotent by
    `provider_refund_id`. More than the payment still holds is a Conflict."""
    amount = money_parse(amount)
    now = timezone.now()
    with transaction.atomic():
        invoice = invoice_locked(payment.invoice)
        if provider_refund_id:
            existing = CreditNote.objects.filter(
                organization_id=invoice.organization_id, provider_refund_id=provider_refund_id
            ).first()
            if existing is not None:
                return existing
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        holds = min(payment.kept, invoice.amount_paid)
        if amount > holds:
            raise Conflict(
                f"Payment {payment.pk} holds {holds} {payment.currency}; "
                f"{amount} cannot be refunded.",
                code="exceeds_payment",
            )
        payment.refunded_amount += amount
        if payment.kept == 0 and payment.disputed_amount == 0:
            payment.status = Payment.Status.REFUNDED
        payment.save(update_fields=["refunded_amount", "status", "updated_at"])
        note = CreditNote.objects.create(
            organization_id=invoice.organization_id,
            number=_credit_note_number(invoice.organization, now=now),
            invoice=invoice,
            payment=payment,
            amount=amount,
            currency=payment.currency,
            reason=(reason or "Refund")[:300],
            provider_refund_id=provider_refund_id,
            actor=actor if event_actor(actor) else None,
        )
        invoice.amount_paid -= amount
        invoice.credited += amount
        invoice_history_add(
            invoice, InvoiceEvent.Kind.REFUND, f"{note.number}: {amount} ({reason})", actor
        )
        invoice_settle(invoice, now=now, actor=actor)
        _emit_credit(invoice, note, topic="payment.refunded", actor=actor)
    return note


def refund_issue(*, payment: Payment, amount, reason: str, actor=None) -> CreditNote:
    """Refund through the gateway that took the payment (then `payment_refund`), or record a
    refund of a manual payment (cash handed back). The gateway is called with no transaction
    open and a key that makes a retry of the same refund one refund at the provider."""
    amount = money_parse(amount)
    if payment.provider == "manual":
        return payment_refund(payment=payment, amount=amount, reason=reason, actor=actor)
    gateway = gateway_get(payment.provider)
    if gateway is None:
        raise GatewayError(f"No {payment.provider} gateway is configured.", retryable=False)
    refunds = CreditNote.objects.filter(payment=payment).count()
    refund_id = gateway.refund_create(
        payment=payment,
        amount=amount,
        reason=reason,
        idempotency_key=f"payment:{payment.pk}:refund:{refunds + 1}:{amount}",
    )
    return payment_refund(
        payment=payment, amount=amount, reason=reason, provider_refund_id=refund_id, actor=actor
    )


def credit_note_issue(*, invoice: Invoice, amount, reason: str, actor=None) -> CreditNote:
    """Lower what the customer owes on a sent invoice (a goodwill discount, a line that should
    not have been billed) without editing the invoice: at most the open balance."""
    amount = money_parse(amount)
    if not (reason or "").strip():
        raise ApplicationError("Say why the invoice is credited.", code="reason_required")
    now = timezone.now()
    with transaction.atomic():
        invoice = invoice_locked(invoice)
        if invoice.status == Invoice.Status.VOID:
            raise Conflict(f"Invoice {invoice.number} is void.", code="invoice_void")
        if amount > invoice.balance:
            raise Conflict(
                f"{amount} is more than the balance of {invoice.number} ({invoice.balance}); "
                "refund a payment instead.",
                code="exceeds_balance",
                balance=str(invoice.balance),
            )
        note = CreditNote.objects.create(
            organization_id=invoice.organization_id,
            number=_credit_note_number(invoice.organization, now=now),
            invoice=invoice,
            amount=amount,
            currency=invoice.currency,
            reason=reason.strip()[:300],
            actor=actor if event_actor(actor) else None,
        )
        invoice.credited += amount
        invoice_history_add(
            invoice, InvoiceEvent.Kind.CREDIT_NOTE, f"{note.number}: {amount}", actor
        )
        invoice_settle(invoice, now=now, actor=actor)
        _emit_credit(invoice, note, topic="invoice.credited", actor=actor)
    return note


def payment_dispute_open(*, payment: Payment, amount) -> Payment:
    """A card dispute holds `amount` of `payment`: it no longer counts as paid and the balance
    reopens. Idempotent: the held amount is set, not added."""
    amount = money_parse(amount)
    with transaction.atomic():
        invoice = invoice_locked(payment.invoice)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        held = min(amount, payment.amount - payment.refunded_amount)
        change = held - payment.disputed_amount
        if change == 0 and payment.status == Payment.Status.DISPUTED:
            return payment
        payment.disputed_amount = held
        payment.status = Payment.Status.DISPUTED
        payment.save(update_fields=["disputed_amount", "status", "updated_at"])
        invoice.amount_paid -= change
        invoice_history_add(
            invoice, InvoiceEvent.Kind.DISPUTE, f"{held} held by a card dispute", None
        )
        invoice_settle(invoice, now=timezone.now(), actor=None)
    return payment


def payment_dispute_close(*, payment: Payment, won: bool) -> Payment:
    """Won: the held amount counts as paid again. Lost: it stays out (the balance stays open
    for the office to collect another way). Idempotent."""
    with transaction.atomic():
        invoice = invoice_locked(payment.invoice)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status != Payment.Status.DISPUTED:
            return payment
        if won:
            invoice.amount_paid += payment.disputed_amount
            payment.disputed_amount = Decimal("0")
            payment.status = Payment.Status.SUCCEEDED
        else:
            payment.status = Payment.Status.FAILED
        payment.save(update_fields=["disputed_amount", "status", "updated_at"])
        outcome = "won" if won else "lost"
        invoice_history_add(invoice, InvoiceEvent.Kind.DISPUTE, f"Dispute {outcome}", None)
        invoice_settle(invoice, now=timezone.now(), actor=None)
    return payment


def invoice_checkout(
    *, invoice: Invoice, success_url: str, cancel_url: str, now: dt.datetime | None = None
) -> PaymentRequest:
    """A pay link for the invoice's balance: an open one that still has a while to live is
    reused; otherwise the organisation's gateway makes one (called with no transaction open,
    with a key that makes a retry the same link at the provider)."""
    now = now or timezone.now()
    invoice = Invoice.objects.select_related("organization").get(pk=invoice.pk)
    if invoice.status == Invoice.Status.VOID:
        raise Conflict(f"Invoice {invoice.number} is void.", code="invoice_void")
    if invoice.balance <= 0:
        raise Conflict(f"Invoice {invoice.number} is paid.", code="invoice_paid")
    reusable = (
        PaymentRequest.objects.filter(
            invoice=invoice,
            status=PaymentRequest.Status.OPEN,
            amount=invoice.balance,
            expires_at__gt=now + PAY_LINK_MIN_LIFETIME,
        )
        .order_by("-id")
        .first()
    )
    if reusable is not None:
        return reusable
    gateway = gateway_for(organization=invoice.organization)
    if gateway is None:
        raise Conflict(
            "Online payment is not set up for this company; please call the office to pay.",
            code="no_gateway",
        )
    attempt = PaymentRequest.objects.filter(invoice=invoice).count() + 1
    link = gateway.checkout_create(
        invoice=invoice,
        amount=invoice.balance,
        success_url=success_url,
        cancel_url=cancel_url,
        idempotency_key=f"invoice:{invoice.pk}:checkout:{attempt}:{invoice.balance}",
    )
    with transaction.atomic():
        request, _ = PaymentRequest.objects.get_or_create(
            organization_id=invoice.organization_id,
            provider=link.provider,
            provider_id=link.provider_id,
            defaults={
                "invoice": invoice,
                "url": link.url,
                "amount": invoice.balance,
                "currency": invoice.currency,
                "expires_at": link.expires_at,
            },
        )
    return request


def payment_request_completed(
    *,
    organization,
    provider: str,
    provider_id: str,
    invoice_id: int | None,
    amount,
    currency: str,
    provider_payment_id: str,
    received_at: dt.datetime | None = None,
    method: str = Payment.Method.CARD,
) -> Payment:
    """A gateway says a pay link (or a payment carrying our invoice id) was paid: record it
    on that invoice of `organization`. An invoice of another organisation, or none, is a
    NotFound and nothing is written."""
    request = None
    if provider_id:
        request = (
            PaymentRequest.objects.filter(
                organization=organization, provider=provider, provider_id=provider_id
            )
            .select_related("invoice")
            .first()
        )
    invoice = request.invoice if request is not None else None
    if invoice is None and invoice_id:
        try:
            invoice = Invoice.objects.filter(organization=organization, pk=int(invoice_id)).first()
        except (TypeError, ValueError):
            invoice = None
    if invoice is None:
        raise NotFound(
            f"No invoice {invoice_id or '(none given)'} in {organization.name}.",
            code="invoice_not_found",
        )
    with transaction.atomic():
        payment = payment_record(
            invoice=invoice,
            amount=amount,
            currency=currency,
            method=method,
            provider=provider,
            provider_payment_id=provider_payment_id,
            received_at=received_at,
        )
        if request is not None and request.status != PaymentRequest.Status.COMPLETED:
            request.status = PaymentRequest.Status.COMPLETED
            request.save(update_fields=["status", "updated_at"])
    return payment


# --- helpers --------------------------------------------------------------------------------


def invoice_locked(invoice: Invoice) -> Invoice:
    return (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=invoice.pk, organization_id=invoice.organization_id)
    )


def invoice_status_for(invoice: Invoice) -> str:
    """The status the figures give: void stays void, an unsent draft with nothing collected
    stays a draft, otherwise paid / partially paid / sent by the balance."""
    if invoice.status == Invoice.Status.VOID:
        return Invoice.Status.VOID
    if invoice.balance <= 0:
        return Invoice.Status.PAID
    if invoice.amount_paid > 0:
        return Invoice.Status.PARTIALLY_PAID
    if invoice.status == Invoice.Status.DRAFT:
        return Invoice.Status.DRAFT
    return Invoice.Status.SENT


def invoice_settle(invoice: Invoice, *, now: dt.datetime, actor) -> None:
    """Save the figures and the status they give; a newly paid invoice closes its job."""
    before = invoice.status
    invoice.status = invoice_status_for(invoice)
    if invoice.status != Invoice.Status.DRAFT and invoice.issued_at is None:
        invoice.issued_at = now
    paid_now = invoice.status == Invoice.Status.PAID and before != Invoice.Status.PAID
    if paid_now:
        invoice.paid_at = now
    elif invoice.status != Invoice.Status.PAID:
        invoice.paid_at = None
    invoice.save(
        update_fields=["amount_paid", "credited", "status", "issued_at", "paid_at", "updated_at"]
    )
    if paid_now:
        invoice_history_add(invoice, InvoiceEvent.Kind.PAID, "", actor)
        job_closed = _job_close(invoice)
        outbox_emit(
            organization=invoice.organization,
            topic="invoice.paid",
            payload={
                "invoice": invoice.pk,
                "number": invoice.number,
                "customer": invoice.customer_id,
                "job": invoice.job_id,
                "job_closed": job_closed,
                "total": str(invoice.total),
                "actor": event_actor(actor),
            },
            aggregate=invoice,
        )


def _job_close(invoice: Invoice) -> bool:
    if invoice.job_id is None:
        return False
    job = Job.objects.select_for_update(of=("self",)).get(pk=invoice.job_id)
    if job.status not in (Job.Status.COMPLETED, Job.Status.INVOICED):
        return False
    job_transition_check(job=job, to=Job.Status.CLOSED)
    job.status = Job.Status.CLOSED
    job.save(update_fields=["status", "updated_at"])
    return True


def invoice_history_add(invoice: Invoice, kind: str, note: str, actor) -> InvoiceEvent:
    return InvoiceEvent.objects.create(
        organization_id=invoice.organization_id,
        invoice=invoice,
        kind=kind,
        version=invoice.version,
        note=note[:500],
        actor=actor if event_actor(actor) else None,
    )


def _credit_note_number(organization, *, now: dt.datetime) -> str:
    value = sequence_next(organization=organization, name="credit_note")
    return f"CN-{now.astimezone(organization.tzinfo).year}-{value:06d}"


def _emit_credit(invoice: Invoice, note: CreditNote, *, topic: str, actor) -> None:
    outbox_emit(
        organization=invoice.organization,
        topic=topic,
        payload={
            "invoice": invoice.pk,
            "credit_note": note.pk,
            "number": note.number,
            "amount": str(note.amount),
            "payment": note.payment_id,
            "balance": str(invoice.balance),
            "actor": event_actor(actor),
        },
        aggregate=invoice,
    )
