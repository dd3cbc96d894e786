"""API for the caller context: what the phone agent knows about whoever calls from a number.

Served at `/api/v1/customers/lookup/` (a read about a customer), but built by the bookings app:
the context holds visits, appointments and the open balance, which the customers app below
bookings cannot read. `dispatchnode.api.urls` includes these routes before the customers
router, whose detail route would otherwise take `lookup` for a customer id.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from bookings.voice.context import caller_context
from customers.models import Customer
from dispatchnode.api.serializers import OrganizationDateTimeField
from dispatchnode.api.viewsets import TenantScopedMixin
from dispatchnode.core.errors import NotFound
from dispatchnode.core.phones import phone_to_e164


class CallerLocationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    one_line = serializers.CharField()
    spoken = serializers.CharField(help_text='How the agent says it: "123 Main Street, Austin".')
    spoken_street = serializers.CharField()
    street_name = serializers.CharField()
    city = serializers.CharField()
    postal_code = serializers.CharField()
    gate_code = serializers.CharField()
    pets = serializers.CharField()
    parking = serializers.CharField()
    access_notes = serializers.CharField()


class CallerEquipmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    location_id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    spoken_kind = serializers.CharField()
    make = serializers.CharField()
    installed_on = serializers.DateField(allow_null=True)


class CallerVisitOutputSerializer(serializers.Serializer):
    job_id = serializers.IntegerField()
    location_id = serializers.IntegerField()
    date = serializers.DateField(allow_null=True, help_text="Completion day, organisation time.")
    service_type = serializers.CharField()
    category = serializers.CharField()
    work_done = serializers.CharField()
    equipment_kind = serializers.CharField()


class CallerAppointmentOutputSerializer(serializers.Serializer):
    appointment_id = serializers.IntegerField()
    job_id = serializers.IntegerField()
    start = OrganizationDateTimeField()
    window_start = OrganizationDateTimeField(allow_null=True)
    window_end = OrganizationDateTimeField(allow_null=True)
    technician_first_name = serializers.CharField()


class CallerContextOutputSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField(allow_null=True)
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    display_name = serializers.CharField()
    other_matches = serializers.IntegerField(
        help_text="Other customers sharing this number (the one with the latest job is shown)."
    )
    locations = CallerLocationOutputSerializer(many=True)
    equipment = CallerEquipmentOutputSerializer(many=True)
    last_visits = CallerVisitOutputSerializer(many=True, help_text="Newest first, at most 3.")
    upcoming = CallerAppointmentOutputSerializer(many=True)
    open_balance = serializers.DecimalField(max_digits=12, decimal_places=2)
    overdue_invoices = serializers.IntegerField()
    has_payment_method = serializers.BooleanField()
    complaint = serializers.BooleanField()
    do_not_service = serializers.BooleanField()
    do_not_service_reason = serializers.CharField()
    notes_for_agent = serializers.ListField(child=serializers.CharField())


class CallerLookupViewSet(TenantScopedMixin, viewsets.GenericViewSet):
    """The caller context of a phone number, under the customers resource."""

    queryset = Customer.objects.all()
    scope_family = "customers"
    serializer_class = CallerContextOutputSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "phone", OpenApiTypes.STR, required=True, description="Any written form."
            )
        ],
        responses={200: CallerContextOutputSerializer},
        summary="The caller context for a phone number",
        description=(
            "What the phone agent knows about whoever calls from this number: names, "
            "locations, equipment, last visits, upcoming appointments, balance, flags and "
            "agent notes. Merged-away customers never answer; when several customers share the "
            "number, the one with the most recent job is returned and `other_matches` counts "
            "the rest. 404 for an unknown number, 400 for one that cannot be dialled."
        ),
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def lookup(self, request):
        raw = request.query_params.get("phone", "")
        phone_to_e164(raw, region=self.organization.country or "US")  # 400 when unusable
        context = caller_context(organization=self.organization, phone=raw)
        if context is None:
            raise NotFound("No customer has this phone number.")
        output = CallerContextOutputSerializer(context, context=self.get_serializer_context())
        return Response(output.data)
