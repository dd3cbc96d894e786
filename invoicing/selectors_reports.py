"""Reports for the owner: revenue by source (what the AI brought in), customer lifetime value,
the repeat-customer rate, retention by cohort and receivables by age.

Every report is a handful of grouped SQL aggregates whatever the data's size: Python only
reshapes the grouped rows (sources × buckets, cohort months × months), never one row per
customer, job or payment. Days and months are the organisation's own (its timezone).

Definitions (also in docs/dashboard.md):
- *collected*: what payments kept (`amount − refunded − disputed`, `Payment.kept`), on the day
  they were received; failed and pending payments count nothing;
- *invoiced*: invoices issued in the period, neither draft nor void, net of credit notes (a
  refund comes with one);
- *source*: the job's source, or the customer's for an invoice without a job; imports and CRM
  syncs are one "Imported" source;
- *completed job*: a job with a completion time that was not cancelled afterwards.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    DateField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek

from bookings.models import Job
from bookings.selectors import local_day_bounds
from customers.models import Source
from dispatchnode.accounts.models import Organization
from dispatchnode.core.money import ZERO, money
from invoicing.models import Invoice, Payment

MONEY = DecimalField(max_digits=14, decimal_places=2)

# --- The invoicing names the reports read, in one place -------------------------------------

RECEIVABLE_STATUSES = (Invoice.Status.SENT, Invoice.Status.PARTIALLY_PAID)
NOT_BILLED_STATUSES = (Invoice.Status.DRAFT, Invoice.Status.VOID)
# A refunded or disputed payment stays in: it counts what it still keeps (`Payment.kept`). A
# failed one (a declined card, a lost dispute) counts nothing.
COLLECTED_PAYMENT_STATUSES = (
    Payment.Status.SUCCEEDED,
    Payment.Status.REFUNDED,
    Payment.Status.DISPUTED,
)


def net_collected() -> ExpressionWrapper:
    """What a payment brought in and kept: its amount less refunds and disputed amounts
    (`Payment.kept`, in SQL)."""
    return ExpressionWrapper(
        F("amount") - F("refunded_amount") - F("disputed_amount"), output_field=MONEY
    )


def keeps_money() -> Q:
    """A payment that still keeps something."""
    return Q(amount__gt=F("refunded_amount") + F("disputed_amount"))


def invoice_billed() -> ExpressionWrapper:
    """What an invoice bills once its credit notes (refunds among them) are taken off."""
    return ExpressionWrapper(F("total") - F("credited"), output_field=MONEY)


def invoice_balance() -> ExpressionWrapper:
    """What is still owed on an invoice (`Invoice.balance`, in SQL)."""
    return ExpressionWrapper(F("total") - F("credited") - F("amount_paid"), output_field=MONEY)


def collected_payments(*, organization: Organization) -> QuerySet[Payment]:
    return Payment.objects.filter(organization=organization, status__in=COLLECTED_PAYMENT_STATUSES)


def completed_jobs(*, organization: Organization) -> QuerySet[Job]:
    return Job.objects.filter(organization=organization, completed_at__isnull=False).exclude(
        status=Job.Status.CANCELLED
    )


# --- Sources -----------------------------------------------------------------------------------

AI = "ai_call"
IMPORTED = "imported"
# (key, label) in the order the reports show them; the AI first.
SOURCE_GROUPS: tuple[tuple[str, str], ...] = (
    (AI, "AI call"),
    ("staff", "Staff call"),
    ("online", "Online"),
    ("api", "API"),
    (IMPORTED, "Imported"),
    ("referral", "Referral"),
)
SOURCE_LABELS = dict(SOURCE_GROUPS)
_GROUP_OF = {
    Source.AI_CALL: AI,
    Source.STAFF: "staff",
    Source.ONLINE: "online",
    Source.API: "api",
    Source.IMPORT: IMPORTED,
    Source.CRM_SYNC: IMPORTED,
    Source.REFERRAL: "referral",
}


def source_group(source: str | None) -> str:
    """The report's source for a job's or customer's `source` (unknown values are Staff)."""
    return _GROUP_OF.get(source, "staff")


# --- Periods -----------------------------------------------------------------------------------

BUCKETS = ("month", "week")
MAX_PERIOD_DAYS = 366 * 5  # five years of months, or 261 weeks


def local_range(*, start: dt.date, end: dt.date, tz: zoneinfo.ZoneInfo):
    """[start of `start`, end of `end`) as aware datetimes in the organisation's timezone."""
    return local_day_bounds(start, tz=tz)[0], local_day_bounds(end, tz=tz)[1]


def default_period(*, today: dt.date, months: int = 12) -> tuple[dt.date, dt.date]:
    """The last `months` calendar months up to `today` (this month included)."""
    return month_add(today.replace(day=1), -(months - 1)), today


def month_add(day: dt.date, months: int) -> dt.date:
    """The first of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def months_between(first: dt.date, second: dt.date) -> int:
    return (second.year - first.year) * 12 + second.month - first.month


def bucket_starts(*, start: dt.date, end: dt.date, bucket: str) -> list[dt.date]:
    """The first day of every month (or Monday of every week) that the period touches."""
    if bucket == "week":
        day, step = start - dt.timedelta(days=start.weekday()), dt.timedelta(days=7)
        starts = []
        while day <= end:
            starts.append(day)
            day += step
        return starts
    return [month_add(start.replace(day=1), n) for n in range(months_between(start, end) + 1)]


def _trunc(field: str, *, bucket: str, tz: zoneinfo.ZoneInfo):
    kind = TruncWeek if bucket == "week" else TruncMonth
    return kind(field, tzinfo=tz, output_field=DateField())


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _share(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """`part / whole` as a percentage with one decimal, None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


# --- Revenue by source -------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceRevenue:
    source: str
    label: str
    collected: Decimal
    invoiced: Decimal
    jobs: int
    share: Decimal | None  # % of everything collected in the period


@dataclass(frozen=True)
class RevenueBucket:
    start: dt.date
    collected: dict[str, Decimal]  # source → collected, every source present
    total: Decimal


@dataclass(frozen=True)
class RevenueBySource:
    start: dt.date
    end: dt.date
    bucket: str
    currency: str
    sources: list[SourceRevenue]
    buckets: list[RevenueBucket]
    collected: Decimal
    invoiced: Decimal
    jobs: int
    ai_collected: Decimal
    ai_share: Decimal | None

    @property
    def is_empty(self) -> bool:
        return not (self.collected or self.invoiced or self.jobs)


def revenue_by_source(
    *, organization: Organization, start: dt.date, end: dt.date, bucket: str = "month"
) -> RevenueBySource:
    """Collected revenue per source and bucket, invoiced totals and completed jobs per source,
    and the AI's share of what was collected. Three grouped queries."""
    tz = organization.tzinfo
    since, until = local_range(start=start, end=end, tz=tz)
    collected_rows = (
        collected_payments(organization=organization)
        .filter(received_at__gte=since, received_at__lt=until)
        .annotate(
            src=Coalesce("invoice__job__source", "invoice__customer__source"),
            period=_trunc("received_at", bucket=bucket, tz=tz),
        )
        .values("src", "period")
        .annotate(net=Sum(net_collected()))
        .order_by()
    )
    invoiced_rows = (
        Invoice.objects.filter(organization=organization, issued_at__gte=since, issued_at__lt=until)
        .exclude(status__in=NOT_BILLED_STATUSES)
        .annotate(src=Coalesce("job__source", "customer__source"))
        .values("src")
        .annotate(billed=Sum(invoice_billed()))
        .order_by()
    )
    job_rows = (
        completed_jobs(organization=organization)
        .filter(completed_at__gte=since, completed_at__lt=until)
        .values("source")
        .annotate(n=Count("id"))
        .order_by()
    )

    starts = bucket_starts(start=start, end=end, bucket=bucket)
    grid = {day: dict.fromkeys(SOURCE_LABELS, ZERO) for day in starts}
    collected = dict.fromkeys(SOURCE_LABELS, ZERO)
    for row in collected_rows:
        key, day = source_group(row["src"]), _as_date(row["period"])
        amount = money(row["net"] or 0)
        collected[key] += amount
        if day in grid:
            grid[day][key] += amount
    invoiced = dict.fromkeys(SOURCE_LABELS, ZERO)
    for row in invoiced_rows:
        invoiced[source_group(row["src"])] += money(row["billed"] or 0)
    jobs = dict.fromkeys(SOURCE_LABELS, 0)
    for row in job_rows:
        jobs[source_group(row["source"])] += row["n"]

    total = sum(collected.values(), ZERO)
    return RevenueBySource(
        start=start,
        end=end,
        bucket=bucket,
        currency=organization.currency,
        sources=[
            SourceRevenue(
                source=key,
                label=label,
                collected=collected[key],
                invoiced=invoiced[key],
                jobs=jobs[key],
                share=_share(collected[key], total),
            )
            for key, label in SOURCE_GROUPS
        ],
        buckets=[
            RevenueBucket(start=day, collected=grid[day], total=sum(grid[day].values(), ZERO))
            for day in starts
        ],
        collected=total,
        invoiced=sum(invoiced.values(), ZERO),
        jobs=sum(jobs.values()),
        ai_collected=collected[AI],
        ai_share=_share(collected[AI], total),
    )


# --- Customer lifetime value -------------------------------------------------------------------


@dataclass(frozen=True)
class TopCustomer:
    customer_id: int
    name: str
    source: str
    collected: Decimal

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS[self.source]


@dataclass(frozen=True)
class SourceValue:
    source: str
    label: str
    customers: int
    collected: Decimal
    average: Decimal | None


@dataclass(frozen=True)
class CustomerLifetimeValue:
    currency: str
    paying_customers: int
    collected: Decimal
    average: Decimal | None
    median: Decimal | None
    top: list[TopCustomer]
    by_source: list[SourceValue]


def _display_name(row: dict) -> str:
    person = " ".join(p for p in (row["first_name"], row["last_name"]) if p)
    return row["company_name"] or person or f"Customer {row['customer_id']}"


def customer_lifetime_value(*, organization: Organization, top: int = 10) -> CustomerLifetimeValue:
    """What customers paid over their whole history (net of refunds): the average and median
    per paying customer, the top customers, and the average by how each customer came to us
    (the customer's own source). Five aggregate queries, two of them over one row per paying
    customer inside the database (the median is the middle row of the sorted totals)."""
    payments = collected_payments(organization=organization)
    per_customer = (
        payments.values("invoice__customer_id")
        .annotate(value=Sum(net_collected()))
        .filter(value__gt=0)
        .order_by()
    )
    totals = payments.aggregate(collected=Sum(net_collected()))
    count = per_customer.count()
    collected = money(totals["collected"] or 0)
    median = None
    if count:
        middle = list(
            per_customer.order_by("value", "invoice__customer_id").values_list("value", flat=True)[
                (count - 1) // 2 : count // 2 + 1
            ]
        )
        median = money(sum(Decimal(v) for v in middle) / len(middle))
    top_rows = (
        per_customer.order_by("-value", "invoice__customer_id")
        .annotate(
            customer_id=F("invoice__customer_id"),
            first_name=F("invoice__customer__first_name"),
            last_name=F("invoice__customer__last_name"),
            company_name=F("invoice__customer__company_name"),
            source=F("invoice__customer__source"),
        )
        .values("customer_id", "first_name", "last_name", "company_name", "source", "value")[:top]
    )
    by_source_rows = (
        payments.values("invoice__customer__source")
        .annotate(
            value=Sum(net_collected()),
            customers=Count("invoice__customer_id", distinct=True, filter=keeps_money()),
        )
        .order_by()
    )
    source_values = dict.fromkeys(SOURCE_LABELS, ZERO)
    source_customers = dict.fromkeys(SOURCE_LABELS, 0)
    for row in by_source_rows:
        key = source_group(row["invoice__customer__source"])
        source_values[key] += money(row["value"] or 0)
        source_customers[key] += row["customers"]
    return CustomerLifetimeValue(
        currency=organization.currency,
        paying_customers=count,
        collected=collected,
        average=money(collected / count) if count else None,
        median=median,
        top=[
            TopCustomer(
                customer_id=row["customer_id"],
                name=_display_name(row),
                source=source_group(row["source"]),
                collected=money(row["value"]),
            )
            for row in top_rows
        ],
        by_source=[
            SourceValue(
                source=key,
                label=label,
                customers=source_customers[key],
                collected=source_values[key],
                average=(
                    money(source_values[key] / source_customers[key])
                    if source_customers[key]
                    else None
                ),
            )
            for key, label in SOURCE_GROUPS
        ],
    )


# --- Repeat customers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RepeatRate:
    start: dt.date
    end: dt.date
    customers: int  # with at least one completed job in the period
    repeat_customers: int  # with two or more
    rate: Decimal | None  # %


def repeat_customer_rate(*, organization: Organization, start: dt.date, end: dt.date) -> RepeatRate:
    """Customers with two or more completed jobs in the period, out of those with one or more.
    Two counting queries."""
    since, until = local_range(start=start, end=end, tz=organization.tzinfo)
    jobs = completed_jobs(organization=organization).filter(
        completed_at__gte=since, completed_at__lt=until
    )
    customers = jobs.values("customer_id").distinct().count()
    repeat = jobs.values("customer_id").annotate(n=Count("id")).filter(n__gte=2).order_by().count()
    return RepeatRate(
        start=start,
        end=end,
        customers=customers,
        repeat_customers=repeat,
        rate=_share(repeat, customers),
    )


# --- Retention by cohort -----------------------------------------------------------------------


@dataclass(frozen=True)
class Cohort:
    month: dt.date  # the first of the month of the customers' first completed job
    customers: int
    retained: list[int]  # customers with a completed job 1, 2, … months later (months so far)
    rates: list[Decimal]  # the same as % of the cohort


@dataclass(frozen=True)
class Retention:
    start: dt.date  # first cohort month
    end: dt.date  # last month counted
    months: int  # the widest row (the oldest cohort's months after its first)
    cohorts: list[Cohort]

    @property
    def offsets(self) -> list[int]:
        return list(range(1, self.months + 1))


def retention_by_cohort(*, organization: Organization, start: dt.date, end: dt.date) -> Retention:
    """Customers grouped by the month of their first completed job ever (cohorts from `start`'s
    month to `end`'s), and for each following month up to `end` the share of the cohort with
    another completed job that month: a triangle. One grouped query over the period's completed
    jobs of customers with none before it, each tagged with its customer's first completion
    month by a correlated subquery."""
    tz = organization.tzinfo
    first_month, last_month = start.replace(day=1), end.replace(day=1)
    since = local_day_bounds(first_month, tz=tz)[0]
    until = local_day_bounds(end, tz=tz)[1]
    jobs = completed_jobs(organization=organization)
    first_completion = (
        jobs.filter(customer_id=OuterRef("customer_id"))
        .order_by()
        .values("customer_id")
        .annotate(first=Min("completed_at"))
        .values("first")
    )
    # A job in the period whose customer has no completed job before it belongs to a cohort of
    # the period (an anti-join); its first completion is then in the period too.
    earlier = jobs.filter(customer_id=OuterRef("customer_id"), completed_at__lt=since)
    rows = (
        jobs.filter(completed_at__gte=since, completed_at__lt=until)
        .filter(~Exists(earlier))
        .annotate(first=Subquery(first_completion))
        .annotate(
            cohort=_trunc("first", bucket="month", tz=tz),
            month=_trunc("completed_at", bucket="month", tz=tz),
        )
        .values("cohort", "month")
        .annotate(n=Count("customer_id", distinct=True))
        .order_by()
    )
    width = months_between(first_month, last_month)
    counts: dict[dt.date, dict[int, int]] = {}
    for row in rows:
        cohort = _as_date(row["cohort"])
        counts.setdefault(cohort, {})[months_between(cohort, _as_date(row["month"]))] = row["n"]
    cohorts = []
    for n in range(width + 1):
        month = month_add(first_month, n)
        row = counts.get(month, {})
        size = row.get(0, 0)
        retained = [row.get(k, 0) for k in range(1, width - n + 1)]
        cohorts.append(
            Cohort(
                month=month,
                customers=size,
                retained=retained,
                rates=[_share(k, size) or Decimal("0.0") for k in retained] if size else [],
            )
        )
    return Retention(start=first_month, end=end, months=width, cohorts=cohorts)


# --- Receivables by age ------------------------------------------------------------------------

# (key, label, fewest days past due, most days past due); None: no limit.
AGE_BUCKETS: tuple[tuple[str, str, int | None, int | None], ...] = (
    ("current", "Current", None, 0),
    ("1_30", "1–30 days", 1, 30),
    ("31_60", "31–60 days", 31, 60),
    ("61_90", "61–90 days", 61, 90),
    ("over_90", "90+ days", 91, None),
)


@dataclass(frozen=True)
class AgeBucket:
    key: str
    label: str
    invoices: int
    balance: Decimal


@dataclass(frozen=True)
class Receivables:
    today: dt.date
    currency: str
    buckets: list[AgeBucket]
    invoices: int
    balance: Decimal
    overdue: Decimal


def _age_filter(today: dt.date, fewest: int | None, most: int | None) -> Q:
    """Invoices `fewest`…`most` days past their due date on `today` (none due: current)."""
    if fewest is None:  # current: not yet due, or no due date
        return Q(due_date__isnull=True) | Q(due_date__gte=today - dt.timedelta(days=most))
    q = Q(due_date__lte=today - dt.timedelta(days=fewest))
    if most is not None:
        q &= Q(due_date__gte=today - dt.timedelta(days=most))
    return q


def receivables_by_age(*, organization: Organization, today: dt.date) -> Receivables:
    """Open balances of sent and partially paid invoices by days past due on `today` (the
    organisation's local day). One aggregate query."""
    invoices = (
        Invoice.objects.filter(organization=organization, status__in=RECEIVABLE_STATUSES)
        .annotate(owed=invoice_balance())
        .filter(owed__gt=0)
    )
    aggregates = {}
    for key, _label, fewest, most in AGE_BUCKETS:
        q = _age_filter(today, fewest, most)
        aggregates[f"{key}_n"] = Count("id", filter=q)
        aggregates[f"{key}_b"] = Sum("owed", filter=q)
    row = invoices.aggregate(**aggregates)
    buckets = [
        AgeBucket(
            key=key,
            label=label,
            invoices=row[f"{key}_n"] or 0,
            balance=money(row[f"{key}_b"] or 0),
        )
        for key, label, _fewest, _most in AGE_BUCKETS
    ]
    balance = sum((b.balance for b in buckets), ZERO)
    return Receivables(
        today=today,
        currency=organization.currency,
        buckets=buckets,
        invoices=sum(b.invoices for b in buckets),
        balance=balance,
        overdue=balance - buckets[0].balance,
    )
