"""Read API for the owner's reports under `/api/v1/reports/` (`invoicing.selectors_reports`).

Collection actions only (no report has an id). Money is a string with two decimals and
percentages a string with one (`null` when there is nothing to divide by). Periods are days
in the organisation's timezone; a token needs `invoicing:read`.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from bookings.selectors import DAY_VALIDATORS
from dispatchnode.api.viewsets import TenantScopedMixin
from invoicing import selectors_reports as reports
from invoicing.models import Invoice


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


def _percent(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True, **kwargs)


# --- input -------------------------------------------------------------------------------------


class PeriodQuerySerializer(serializers.Serializer):
    start = serializers.DateField(
        required=False,
        validators=list(DAY_VALIDATORS),
        help_text="YYYY-MM-DD, first day (organisation time). Default: the first of the month "
        "eleven months before `end`.",
    )
    end = serializers.DateField(
        required=False,
        validators=list(DAY_VALIDATORS),
        help_text="YYYY-MM-DD, last day, included. Default: today (organisation time).",
    )

    def validate(self, attrs):
        today = timezone.localdate(timezone=self.context["organization"].tzinfo)
        end = attrs.get("end") or max(today, attrs.get("start") or today)
        start = attrs.get("start") or reports.default_period(today=end)[0]
        if start > end:
            raise serializers.ValidationError({"end": "The end is before the start."})
        if (end - start).days > reports.MAX_PERIOD_DAYS:
            raise serializers.ValidationError(
                {"end": f"A period is at most {reports.MAX_PERIOD_DAYS} days (five years)."}
            )
        return {**attrs, "start": start, "end": end}


class RevenueQuerySerializer(PeriodQuerySerializer):
    bucket = serializers.ChoiceField(
        choices=reports.BUCKETS, default="month", help_text="Month or week (weeks start Monday)."
    )


class LifetimeValueQuerySerializer(serializers.Serializer):
    top = serializers.IntegerField(
        min_value=1, max_value=100, default=10, help_text="How many top customers."
    )


# --- output ------------------------------------------------------------------------------------


class RevenueSourceOutputSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=reports.SOURCE_GROUPS)
    label = serializers.CharField()
    collected = _money(help_text="Payments received in the period, net of refunds.")
    invoiced = _money(help_text="Invoices issued in the period, not draft or void, net of credit.")
    jobs = serializers.IntegerField(help_text="Jobs completed in the period.")
    share = _percent(help_text="% of everything collected in the period.")


class RevenueBucketOutputSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="First day of the month, or Monday of the week.")
    collected = serializers.DictField(
        child=_money(), help_text="Collected per source key (every source present)."
    )
    total = _money()


class RevenueBySourceOutputSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    bucket = serializers.ChoiceField(choices=reports.BUCKETS)
    currency = serializers.CharField()
    collected = _money()
    invoiced = _money()
    jobs = serializers.IntegerField()
    ai_collected = _money(help_text="Collected on work the AI phone agent booked.")
    ai_share = _percent(help_text="The AI's % of what was collected.")
    sources = RevenueSourceOutputSerializer(many=True)
    buckets = RevenueBucketOutputSerializer(many=True)


class TopCustomerOutputSerializer(serializers.Serializer):
    customer = serializers.IntegerField(source="customer_id")
    name = serializers.CharField()
    source = serializers.ChoiceField(choices=reports.SOURCE_GROUPS)
    collected = _money()


class SourceValueOutputSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=reports.SOURCE_GROUPS)
    label = serializers.CharField()
    customers = serializers.IntegerField(help_text="Paying customers who came from this source.")
    collected = _money()
    average = _money(allow_null=True)


class CustomerLifetimeValueOutputSerializer(serializers.Serializer):
    currency = serializers.CharField()
    paying_customers = serializers.IntegerField()
    collected = _money(help_text="All payments ever received, net of refunds.")
    average = _money(allow_null=True, help_text="Per paying customer.")
    median = _money(allow_null=True, help_text="Per paying customer.")
    top = TopCustomerOutputSerializer(many=True)
    by_source = SourceValueOutputSerializer(
        many=True, help_text="By how the customer first came (the customer's source)."
    )


class RepeatRateOutputSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    customers = serializers.IntegerField(help_text="With at least one completed job.")
    repeat_customers = serializers.IntegerField(help_text="With two or more.")
    rate = _percent()


class CohortOutputSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="Month of the customers' first completed job.")
    customers = serializers.IntegerField()
    retained = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Customers with a completed job 1, 2, … months later (up to `end`).",
    )
    rates = serializers.ListField(
        child=serializers.DecimalField(max_digits=5, decimal_places=1),
        help_text="The same as % of the cohort (empty for an empty cohort).",
    )


class RetentionOutputSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    months = serializers.IntegerField()
    cohorts = CohortOutputSerializer(many=True)


class AgeBucketOutputSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    invoices = serializers.IntegerField()
    balance = _money()


class ReceivablesOutputSerializer(serializers.Serializer):
    today = serializers.DateField(help_text="The organisation's today.")
    currency = serializers.CharField()
    invoices = serializers.IntegerField()
    balance = _money()
    overdue = _money()
    buckets = AgeBucketOutputSerializer(many=True)


# --- the viewset -------------------------------------------------------------------------------


class ReportViewSet(TenantScopedMixin, viewsets.GenericViewSet):
    """The owner's reports: each a collection action computed on request."""

    queryset = Invoice.objects.all()
    scope_family = "invoicing"
    pagination_class = None
    serializer_class = RevenueBySourceOutputSerializer

    def _query(self, serializer_class) -> dict:
        query = serializer_class(
            data=self.request.query_params, context=self.get_serializer_context()
        )
        query.is_valid(raise_exception=True)
        return query.validated_data

    def _render(self, serializer_class, report) -> Response:
        return Response(serializer_class(report, context=self.get_serializer_context()).data)

    @extend_schema(
        parameters=[RevenueQuerySerializer],
        responses={200: RevenueBySourceOutputSerializer},
        summary="Revenue by source",
        description=(
            "What was collected (net of refunds) per month or week and per source (AI call, "
            "Staff call, Online, API, Imported, Referral): the job's source, or the customer's "
            "for an invoice without a job. Also invoiced totals, completed jobs and the AI's "
            "share. 400 for a bad date, an end before the start or more than five years."
        ),
    )
    @action(detail=False, methods=["get"], url_path="revenue-by-source")
    def revenue_by_source(self, request):
        query = self._query(RevenueQuerySerializer)
        report = reports.revenue_by_source(organization=self.organization, **query)
        return self._render(RevenueBySourceOutputSerializer, report)

    @extend_schema(
        parameters=[LifetimeValueQuerySerializer],
        responses={200: CustomerLifetimeValueOutputSerializer},
        summary="Customer lifetime value",
        description=(
            "What paying customers paid over their whole history, net of refunds: average, "
            "median, the top customers and the average by acquisition source."
        ),
    )
    @action(detail=False, methods=["get"], url_path="customer-lifetime-value")
    def customer_lifetime_value(self, request):
        query = self._query(LifetimeValueQuerySerializer)
        report = reports.customer_lifetime_value(organization=self.organization, **query)
        return self._render(CustomerLifetimeValueOutputSerializer, report)

    @extend_schema(
        parameters=[PeriodQuerySerializer],
        responses={200: RepeatRateOutputSerializer},
        summary="Repeat-customer rate",
        description=(
            "Customers with two or more completed jobs in the period, out of those with one "
            "or more."
        ),
    )
    @action(detail=False, methods=["get"], url_path="repeat-rate")
    def repeat_rate(self, request):
        query = self._query(PeriodQuerySerializer)
        report = reports.repeat_customer_rate(organization=self.organization, **query)
        return self._render(RepeatRateOutputSerializer, report)

    @extend_schema(
        parameters=[PeriodQuerySerializer],
        responses={200: RetentionOutputSerializer},
        summary="Retention by cohort",
        description=(
            "Customers grouped by the month of their first completed job (cohorts from the "
            "start's month to the end's), and the share with another completed job in each "
            "following month: a triangle."
        ),
    )
    @action(detail=False, methods=["get"])
    def retention(self, request):
        query = self._query(PeriodQuerySerializer)
        report = reports.retention_by_cohort(organization=self.organization, **query)
        return self._render(RetentionOutputSerializer, report)

    @extend_schema(
        responses={200: ReceivablesOutputSerializer},
        summary="Receivables by age",
        description=(
            "Open balances of sent and partially paid invoices by days past due on the "
            "organisation's today: current, 1–30, 31–60, 61–90 and 90+ days."
        ),
    )
    @action(detail=False, methods=["get"])
    def receivables(self, request):
        today = timezone.localdate(timezone=self.organization.tzinfo)
        report = reports.receivables_by_age(organization=self.organization, today=today)
        return self._render(ReceivablesOutputSerializer, report)
