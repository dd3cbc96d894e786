"""Writes of invoicing: completing a job into its draft invoice.

Invoicing sits above bookings, so it reads the price book and writes the job here; the jobs API
(bookings) reaches `job_complete` through the completer that `invoicing.apps` registers.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from bookings.models import Appointment, Job
from bookings.rules import APPOINTMENT_OPEN_STATUSES
from bookings.services_visits import job_status_advance
from dispatchnode.core.errors import Conflict
from dispatchnode.core.outbox import event_actor, outbox_emit
from dispatchnode.core.services import sequence_next
from invoicing.lines import Line, invoice_lines_parse, invoice_totals
from invoicing.models import Invoice, InvoiceLine, PriceBookItem
from invoicing.services_sending import invoice_send

INVOICE_NUMBER_PREFIX = "INV"
PNG_DATA_URL = "data:image/png;base64,"
SIGNATURE_MAX_BYTES = 512 * 1024


def job_complete(
    *,
    job: Job,
    notes: str = "",
    diagnostic_notes: str = "",
    lines: Iterable[Line] = (),
    signature_png: str | bytes | None = None,
    actor=None,
    now: dt.datetime | None = None,
    send: bool = True,
) -> Job:
    """Complete `job` from any open state and record its lines as a draft invoice.

    The office completes on a technician's behalf, so a job that is still requested, scheduled or
    en route walks forward through `bookings.rules.JOB_TRANSITIONS` (every step legal) to
    completed; its open visits become completed (`finished_at`). `notes` are the work performed
    (`Job.work_notes`), `diagnostic_notes` what was found. `lines` are `(item, quantity)` pairs of
    the organisation's active price book items (an item or its id); a bad id, another
    organisation's or an inactive item, or a quantity that is not above zero is a
    ValidationError on `lines` and nothing is written. `signature_png` is a PNG (bytes or a
    `data:image/png;base64,` URL) stored with the default storage as `Job.signature`.

    Money: each line's amount is quantity × unit price rounded half-up to cents; each taxable
    line's tax is amount × the organisation's `tax_rate`, rounded half-up to cents per line;
    the subtotal and the tax total are the sums of those rounded figures and the total is their
    sum, so the invoice always adds up line by line. The invoice is numbered
    `INV-<year>-<000123>` from the organisation's "invoice" sequence. Completing a completed job
    again is a Conflict (the job has its invoice already).

    With `send` (the default) an invoice with something to pay is issued and queued to the
    customer by email and SMS in the same transaction (`invoicing.services_sending.
    invoice_send`); the messages leave after commit. Emits "job.completed" with the invoice
    id; the returned job has `invoice` set.
    """
    now = now or timezone.now()
    organization = job.organization
    parsed = _with_service_line(job, invoice_lines_parse(organization=organization, lines=lines))
    signature = _signature_parse(signature_png)
    with transaction.atomic():
        job.refresh_from_db(
            from_queryset=Job.objects.select_for_update(of=("self",)).select_related("organization")
        )
        if job.status not in Job.OPEN_STATUSES:
            raise Conflict(
                f"Job {job.number} is {job.get_status_display().lower()}; it cannot be completed.",
                code="not_completable",
                status=job.status,
            )
        visits = list(
            Appointment.objects.select_for_update()
            .filter(job_id=job.pk, status__in=APPOINTMENT_OPEN_STATUSES)
            .order_by("pk")
        )
        for visit in visits:
            visit.status = Appointment.Status.COMPLETED
            visit.started_at = visit.started_at or now
            visit.finished_at = now
            visit.save(update_fields=["status", "started_at", "finished_at", "updated_at"])
        job_status_advance(job, to=Job.Status.COMPLETED)
        job.completed_at = now
        fields = ["completed_at", "updated_at"]
        if notes:
            job.work_notes = notes
            fields.append("work_notes")
        if diagnostic_notes:
            job.diagnostic_notes = diagnostic_notes
            fields.append("diagnostic_notes")
        if signature is not None:
            job.signature.save(f"{organization.pk}/{job.number}.png", signature, save=False)
            fields.append("signature")
        job.save(update_fields=fields)
        invoice = _invoice_create(job=job, lines=parsed, now=now)
        if send and invoice.total > 0:  # nothing billed: a draft for the office to look at
            invoice_send(invoice=invoice, actor=actor, now=now, only_if_unsent=True)
        outbox_emit(
            organization=organization,
            topic="job.completed",
            payload={
                "job": job.pk,
                "number": job.number,
                "customer": job.customer_id,
                "invoice": invoice.pk,
                "invoice_number": invoice.number,
                "total": str(invoice.total),
                "appointments": [visit.pk for visit in visits],
                "actor": event_actor(actor),
            },
            aggregate=job,
        )
    job.invoice = invoice
    return job


def _with_service_line(job: Job, parsed: list) -> list:
    """The job's flat-rate service from the price book comes first, unless the technician's
    lines already hold it (or the service type has no price book item)."""
    if job.service_type_id is None:
        return parsed
    item = (
        PriceBookItem.objects.filter(
            organization_id=job.organization_id,
            service_type_id=job.service_type_id,
            is_active=True,
        )
        .order_by("id")
        .first()
    )
    if item is None or any(line_item.pk == item.pk for line_item, _ in parsed):
        return parsed
    return [(item, Decimal(1)), *parsed]


def _signature_parse(signature: str | bytes | None) -> ContentFile | None:
    if not signature:
        return None
    if isinstance(signature, str):
        if not signature.startswith(PNG_DATA_URL):
            raise ValidationError({"signature": ["The signature must be a PNG data URL."]})
        try:
            signature = base64.b64decode(signature[len(PNG_DATA_URL) :], validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError({"signature": ["The signature is not valid base64."]}) from None
    if not signature.startswith(b"\x89PNG\r\n\x1a\n") or len(signature) > SIGNATURE_MAX_BYTES:
        raise ValidationError({"signature": ["The signature must be a PNG under 512 KB."]})
    return ContentFile(signature)


def _invoice_number(*, organization, now: dt.datetime) -> str:
    value = sequence_next(organization=organization, name="invoice")
    year = now.astimezone(organization.tzinfo).year
    return f"{INVOICE_NUMBER_PREFIX}-{year}-{value:06d}"


def _invoice_create(*, job: Job, lines, now: dt.datetime) -> Invoice:
    organization = job.organization
    tax_rate = organization.tax_rate
    figures, subtotal, tax_total = invoice_totals(
        lines=[(qty, item.unit_price, item.taxable) for item, qty in lines], tax_rate=tax_rate
    )
    if subtotal + tax_total < 0:
        raise ValidationError({"lines": ["The discounts are larger than the work: total < 0."]})
    invoice = Invoice.objects.create(
        organization=organization,
        number=_invoice_number(organization=organization, now=now),
        customer_id=job.customer_id,
        job=job,
        status=Invoice.Status.DRAFT,
        currency=organization.currency,
        tax_rate=tax_rate,
        subtotal=subtotal,
        tax_total=tax_total,
        total=subtotal + tax_total,
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            organization=organization,
            invoice=invoice,
            position=position,
            item=item,
            description=item.name[:300],
            quantity=qty,
            unit_price=item.unit_price,
            taxable=item.taxable,
            amount=amount,
        )
        for position, ((item, qty), (amount, _tax)) in enumerate(zip(lines, figures, strict=True))
    )
    return invoice
