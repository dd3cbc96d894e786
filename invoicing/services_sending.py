"""Writes that change an issued invoice: sending it, revising it, voiding it, its public link.

An invoice once sent is never edited silently: `invoice_revise` keeps the lines and totals it
replaces in the invoice's history and raises its version; a change that would leave the
customer having paid more than the new total must be a credit note or a refund instead.

Sending stores the messages in the caller's transaction (`customers.messaging`), so the email
and the SMS leave after commit through the outbox, each on the customer's timeline with its
delivery status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from bookings.models import Job
from customers.messaging import email_queue, sms_queue
from customers.models import ContactPoint, Message
from dispatchnode.core.errors import Conflict
from dispatchnode.core.outbox import event_actor, outbox_emit
from invoicing.lines import Line, invoice_lines_parse, invoice_totals
from invoicing.models import Invoice, InvoiceEvent, InvoiceLine, new_public_token
from invoicing.services_payments import invoice_history_add, invoice_locked, invoice_settle

CHANNELS = ("email", "sms")


def invoice_public_url(invoice: Invoice) -> str:
    """The customer's page for the invoice: no login, the token is the key."""
    base = settings.PUBLIC_BASE_URL or "http://127.0.0.1:8000"
    return f"{base}/i/{invoice.public_token}/"


def invoice_send(
    *,
    invoice: Invoice,
    channels: Iterable[str] = CHANNELS,
    actor=None,
    now: dt.datetime | None = None,
    only_if_unsent: bool = False,
) -> list[Message]:
    """Issue `invoice` (a draft becomes sent, due after the organisation's payment terms) and
    queue it to the customer: an email (text and HTML, with the lines, the totals and the
    link) to their primary email and an SMS with the link to their primary mobile. Sending
    again resends. With `only_if_unsent`, an invoice sent before is left alone (the automatic
    send after completion). Returns the messages queued (a message refused for an opt-out is
    stored too, as suppressed)."""
    now = now or timezone.now()
    channels = tuple(channels)
    with transaction.atomic():
        invoice = invoice_locked(invoice)
        if invoice.status == Invoice.Status.VOID:
            raise Conflict(f"Invoice {invoice.number} is void; it cannot be sent.", code="void")
        if only_if_unsent and invoice.sent_at is not None:
            return []
        organization = invoice.organization
        if invoice.status == Invoice.Status.DRAFT:
            invoice.status = Invoice.Status.SENT
            invoice.issued_at = invoice.issued_at or now
        if invoice.due_date is None:
            today = now.astimezone(organization.tzinfo).date()
            invoice.due_date = today + dt.timedelta(days=organization.invoice_terms_days)
        invoice.sent_at = now
        invoice.save(update_fields=["status", "issued_at", "due_date", "sent_at", "updated_at"])
        invoice_settle(invoice, now=now, actor=actor)  # a $0 invoice is paid on issue
        messages = _messages_queue(invoice=invoice, channels=channels)
        sent_to = ", ".join(f"{m.channel} {m.to_address}" for m in messages) or "nobody"
        invoice_history_add(invoice, InvoiceEvent.Kind.SENT, f"To {sent_to}"[:500], actor)
        outbox_emit(
            organization=organization,
            topic="invoice.sent",
            payload={
                "invoice": invoice.pk,
                "number": invoice.number,
                "customer": invoice.customer_id,
                "messages": [m.pk for m in messages],
                "actor": event_actor(actor),
            },
            aggregate=invoice,
        )
    return messages


def invoice_revise(*, invoice: Invoice, lines: Iterable[Line], reason: str, actor=None) -> Invoice:
    """Replace the invoice's lines. A draft changes in place; a sent invoice becomes a new
    version, with the old lines and totals kept in its history and `reason` said. A version
    whose total is below what was already paid is refused: refund the difference instead."""
    reason = (reason or "").strip()
    with transaction.atomic():
        invoice = invoice_locked(invoice)
        if invoice.status in (Invoice.Status.VOID, Invoice.Status.PAID):
            raise Conflict(
                f"Invoice {invoice.number} is {invoice.get_status_display().lower()}; issue a "
                "credit note or a new invoice instead.",
                code="not_revisable",
            )
        if invoice.status != Invoice.Status.DRAFT and not reason:
            raise Conflict("A sent invoice is revised only with a reason.", code="reason_required")
        parsed = invoice_lines_parse(organization=invoice.organization, lines=lines)
        figures, subtotal, tax_total = invoice_totals(
            lines=[(qty, item.unit_price, item.taxable) for item, qty in parsed],
            tax_rate=invoice.tax_rate,
        )
        total = subtotal + tax_total
        if total - invoice.credited < invoice.amount_paid:
            raise Conflict(
                f"The new total {total} is below what was paid ({invoice.amount_paid}); refund "
                "the difference instead.",
                code="below_paid",
            )
        snapshot = _snapshot(invoice)
        if invoice.status != Invoice.Status.DRAFT:
            invoice.version += 1
        invoice.lines.all().delete()
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                organization_id=invoice.organization_id,
                invoice=invoice,
                position=position,
                item=item,
                description=item.name[:300],
                quantity=qty,
                unit_price=item.unit_price,
                taxable=item.taxable,
                amount=amount,
            )
            for position, ((item, qty), (amount, _)) in enumerate(zip(parsed, figures, strict=True))
        )
        invoice.subtotal, invoice.tax_total, invoice.total = subtotal, tax_total, total
        invoice.save(update_fields=["subtotal", "tax_total", "total", "version", "updated_at"])
        InvoiceEvent.objects.create(
            organization_id=invoice.organization_id,
            invoice=invoice,
            kind=InvoiceEvent.Kind.REVISED,
            version=invoice.version,
            note=(reason or "Draft edited")[:500],
            snapshot=snapshot,
            actor=actor if event_actor(actor) else None,
        )
        invoice_settle(invoice, now=timezone.now(), actor=actor)
        outbox_emit(
            organization=invoice.organization,
            topic="invoice.revised",
            payload={"invoice": invoice.pk, "version": invoice.version, "total": str(total)},
            aggregate=invoice,
        )
    return invoice


def invoice_void(*, invoice: Invoice, reason: str, actor=None) -> Invoice:
    """Void an invoice nothing was paid on (refund first otherwise)."""
    with transaction.atomic():
        invoice = invoice_locked(invoice)
        if invoice.status == Invoice.Status.VOID:
            return invoice
        if invoice.amount_paid > 0:
            raise Conflict(
                f"{invoice.amount_paid} was paid on {invoice.number}; refund it before voiding.",
                code="has_payments",
            )
        invoice.status = Invoice.Status.VOID
        invoice.save(update_fields=["status", "updated_at"])
        invoice_history_add(invoice, InvoiceEvent.Kind.VOIDED, reason or "Voided", actor)
        outbox_emit(
            organization=invoice.organization,
            topic="invoice.voided",
            payload={"invoice": invoice.pk, "number": invoice.number},
            aggregate=invoice,
        )
    return invoice


def invoice_link_rotate(*, invoice: Invoice, actor=None) -> Invoice:
    """Revoke the invoice's public link: the old URL is a 404 from now on, a new one works."""
    with transaction.atomic():
        invoice = invoice_locked(invoice)
        invoice.public_token = new_public_token()
        invoice.save(update_fields=["public_token", "updated_at"])
        invoice_history_add(invoice, InvoiceEvent.Kind.LINK_ROTATED, "", actor)
    return invoice


# --- helpers --------------------------------------------------------------------------------


def _contact(invoice: Invoice, kind: str) -> str:
    return (
        ContactPoint.objects.filter(
            organization_id=invoice.organization_id,
            customer_id=invoice.customer_id,
            kind=kind,
            is_valid=True,
        )
        .order_by("-is_primary", "id")
        .values_list("value", flat=True)
        .first()
        or ""
    )


def _messages_queue(*, invoice: Invoice, channels: tuple[str, ...]) -> list[Message]:
    organization = invoice.organization
    customer = invoice.customer
    context = {
        "invoice": invoice,
        "organization": organization,
        "customer": customer,
        "lines": list(invoice.lines.order_by("position", "id")),
        "url": invoice_public_url(invoice),
    }
    job = Job.objects.filter(pk=invoice.job_id).first() if invoice.job_id else None
    messages = []
    email = _contact(invoice, ContactPoint.Kind.EMAIL) if "email" in channels else ""
    if email:
        messages.append(
            email_queue(
                organization=organization,
                to=email,
                subject=f"Invoice {invoice.number} from {organization.name}",
                body=render_to_string("invoicing/email.txt", context),
                html=render_to_string("invoicing/email.html", context),
                customer=customer,
                job=job,
                purpose="invoice",
            )
        )
    phone = _contact(invoice, ContactPoint.Kind.PHONE) if "sms" in channels else ""
    if phone:
        messages.append(
            sms_queue(
                organization=organization,
                to=phone,
                body=render_to_string("invoicing/sms.txt", context).strip(),
                customer=customer,
                job=job,
                purpose="invoice",
            )
        )
    return messages


def _snapshot(invoice: Invoice) -> dict:
    return {
        "version": invoice.version,
        "subtotal": str(invoice.subtotal),
        "tax_total": str(invoice.tax_total),
        "total": str(invoice.total),
        "lines": [
            {
                "item": line.item_id,
                "description": line.description,
                "quantity": str(line.quantity),
                "unit_price": str(line.unit_price),
                "taxable": line.taxable,
                "amount": str(line.amount),
            }
            for line in invoice.lines.order_by("position", "id")
        ],
    }
