"""Reports (`/dashboard/reports/`): revenue by source with the AI's share, customer lifetime
value, repeat customers, retention by cohort and receivables by age, for a period the owner
picks. Every figure comes from `invoicing.selectors_reports` (grouped SQL aggregates), so the
page costs the same queries for ten customers or a hundred thousand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.shortcuts import render
from django.views.decorators.http import require_safe

from bookings.selectors import FIRST_DAY, LAST_DAY
from dispatchnode.web.access import office_view
from dispatchnode.web.dashboard import charts
from dispatchnode.web.days import local_today
from invoicing import selectors_reports as reports

BUCKET_LABELS = {"month": "Months", "week": "Weeks"}


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    bucket: str
    problem: str  # why the asked period was not used ("" when it was)


@dataclass(frozen=True)
class Preset:
    label: str
    start: dt.date
    end: dt.date
    current: bool


def _date(raw: str | None) -> dt.date | None:
    if not raw:
        return None
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


def period_parse(organization, params) -> Period:
    """The period asked for in `?start=&end=&bucket=`, or the last twelve months with the
    reason when it cannot be used."""
    today = local_today(organization)
    default_start, default_end = reports.default_period(today=today)
    bucket = params.get("bucket") if params.get("bucket") in reports.BUCKETS else "month"
    raw_start, raw_end = params.get("start"), params.get("end")
    if not raw_start and not raw_end:
        return Period(default_start, default_end, bucket, "")
    start, end = _date(raw_start), _date(raw_end)
    end = end or (default_end if not raw_end else None)
    if end and not raw_start:
        start = reports.default_period(today=end)[0]
    if start is None or end is None:
        problem = "That is not a date (use YYYY-MM-DD); showing the last 12 months."
    elif start > end:
        problem = "The end is before the start; showing the last 12 months."
    elif (end - start).days > reports.MAX_PERIOD_DAYS:
        problem = "A period is at most five years; showing the last 12 months."
    else:
        return Period(start, end, bucket, "")
    return Period(default_start, default_end, bucket, problem)


def _presets(today: dt.date, period: Period) -> list[Preset]:
    year = today.replace(month=1, day=1)
    spans = [
        ("Last 12 months", *reports.default_period(today=today)),
        ("Last 3 months", *reports.default_period(today=today, months=3)),
        ("This year", year, today),
        ("Last year", year.replace(year=year.year - 1), year - dt.timedelta(days=1)),
    ]
    current = next(
        (
            i
            for i, (_, start, end) in enumerate(spans)
            if (start, end) == (period.start, period.end)
        ),
        None,
    )
    return [Preset(label, start, end, i == current) for i, (label, start, end) in enumerate(spans)]


def _bucket_label(day: dt.date, bucket: str, *, many_years: bool) -> str:
    if bucket == "week":
        return f"{day:%-d %b}"
    return f"{day:%b %y}" if many_years else f"{day:%b}"


def revenue_chart(revenue: reports.RevenueBySource) -> charts.StackedBarChart:
    many_years = revenue.start.year != revenue.end.year
    columns = [
        (_bucket_label(b.start, revenue.bucket, many_years=many_years), b.collected)
        for b in revenue.buckets
    ]
    if revenue.collected:
        description = (
            f"Collected {charts.short_money(revenue.collected)} from {revenue.start:%-d %b %Y} "
            f"to {revenue.end:%-d %b %Y}; the AI phone agent's calls brought in "
            f"{charts.short_money(revenue.ai_collected)} ({revenue.ai_share}%)."
        )
    else:
        description = "Nothing collected in this period."
    return charts.stacked_bar_chart(
        columns,
        series=list(reports.SOURCE_GROUPS),
        highlight=reports.AI,
        description=description,
    )


AGE_TONES = {"current": "ok", "1_30": "warn", "31_60": "warn", "61_90": "danger"}


def aging_chart(receivables: reports.Receivables) -> charts.HBarChart:
    rows = [
        (
            bucket.label,
            bucket.balance,
            f"{charts.short_money(bucket.balance)} · {bucket.invoices}",
            AGE_TONES.get(bucket.key, "danger"),
        )
        for bucket in receivables.buckets
    ]
    description = (
        f"{charts.short_money(receivables.balance)} owed on {receivables.invoices} invoices, "
        f"{charts.short_money(receivables.overdue)} of it past due."
        if receivables.invoices
        else "Nothing is owed."
    )
    return charts.horizontal_bar_chart(rows, description=description)


@dataclass(frozen=True)
class HeatCell:
    rate: object  # Decimal % or None for an empty cohort
    retained: int
    style: str


@dataclass(frozen=True)
class HeatRow:
    cohort: reports.Cohort
    cells: list[HeatCell]
    blanks: range  # months not reached yet


def retention_rows(retention: reports.Retention) -> list[HeatRow]:
    """The triangle as table rows, each cell shaded by its rate (darker is more retained)."""
    rows = []
    for cohort in retention.cohorts:
        cells = []
        for i, retained in enumerate(cohort.retained):
            rate = cohort.rates[i] if cohort.rates else None
            alpha = float(rate or 0) / 100
            ink = "#fff" if alpha > 0.5 else "var(--ink)"
            style = f"background: rgba(11, 92, 173, {0.08 + 0.92 * alpha:.2f}); color: {ink}"
            cells.append(HeatCell(rate=rate, retained=retained, style=style))
        rows.append(HeatRow(cohort, cells, range(retention.months - len(cells))))
    return rows


@require_safe
@office_view
def report_page(request):
    org = request.organization
    today = local_today(org)
    period = period_parse(org, request.GET)
    span = {"start": period.start, "end": period.end}
    revenue = reports.revenue_by_source(organization=org, bucket=period.bucket, **span)
    clv = reports.customer_lifetime_value(organization=org)
    repeat = reports.repeat_customer_rate(organization=org, **span)
    retention = reports.retention_by_cohort(organization=org, **span)
    receivables = reports.receivables_by_age(organization=org, today=today)
    empty = (
        revenue.is_empty and not clv.paying_customers and not repeat.customers
    ) and not receivables.invoices
    return render(
        request,
        "dashboard/reports.html",
        {
            "nav": "reports",
            "today": today,
            "period": period,
            "presets": _presets(today, period),
            "buckets": BUCKET_LABELS,
            "empty": empty,
            "revenue": revenue,
            "revenue_chart": revenue_chart(revenue),
            "clv": clv,
            "repeat": repeat,
            "retention": retention,
            "retention_rows": retention_rows(retention),
            "receivables": receivables,
            "aging_chart": aging_chart(receivables),
        },
    )
