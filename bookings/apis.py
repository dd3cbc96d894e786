"""API for the service catalogue, technicians and their availability, jobs with their slots and
booking, appointments (reschedule, cancel) and call records."""

from __future__ import annotations

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from bookings import selectors, services, services_visits
from bookings.availability import slots_find, technician_free_intervals
from bookings.filters import AppointmentFilter, CallFilter, JobFilter, ServiceTypeFilter
from bookings.models import (
    Appointment,
    CallSession,
    CallTurn,
    Job,
    ServiceType,
    Skill,
    Technician,
    WorkingHours,
)
from bookings.preferences import preference_parse
from customers import selectors as customer_selectors
from customers.models import Source
from dispatchnode.api.pagination import DefaultCursorPagination
from dispatchnode.api.serializers import OrganizationDateTimeField, TenantModelSerializer
from dispatchnode.api.viewsets import TenantReadOnlyViewSet
from dispatchnode.core.errors import NotFound

MAX_SLOTS = 20


def _actor(request):
    """The person behind the request (a token's creator), or None for an ownerless token."""
    user = request.user
    return user if user is not None and user.is_authenticated else None


class AwareDateTimeField(OrganizationDateTimeField):
    # An input datetime that must carry its UTC offset: a naive one is ambiguous for a booking
    # (whose clock?), and on the night the clocks fall back even the local clock repeats.

    default_error_messages = {
        "naive": "Give the time with its UTC offset, e.g. 2026-03-09T09:00:00-05:00.",
    }

    def to_internal_value(self, value):
        try:
            parsed = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:  # well formed but impossible: "2024-01-01T12:99:00Z"
            self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss[.uuuuuu]]+HH:MM")
        if parsed is not None and timezone.is_naive(parsed):
            self.fail("naive")
        return super().to_internal_value(value)


class SkillOutputSerializer(TenantModelSerializer):
    class Meta:
        model = Skill
        fields = ["id", "code", "name", "created_at", "updated_at"]
        read_only_fields = fields


class SkillViewSet(TenantReadOnlyViewSet):
    """Skills a service type can require and a technician can have."""

    queryset = Skill.objects.all()
    scope_family = "bookings"
    serializer_class = SkillOutputSerializer

    def get_base_queryset(self):
        return selectors.skill_list(organization=self.organization)


class ServiceTypeOutputSerializer(TenantModelSerializer):
    required_skill = serializers.SlugRelatedField(
        slug_field="code", read_only=True, help_text="The skill's code, or null."
    )
    spoken_synonyms = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ServiceType
        fields = [
            "id",
            "code",
            "name",
            "category",
            "kind",
            "description",
            "default_duration_minutes",
            "required_skill",
            "spoken_synonyms",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ServiceTypeViewSet(TenantReadOnlyViewSet):
    """The service catalogue: what can be booked, how long it takes, how callers say it."""

    queryset = ServiceType.objects.all()
    scope_family = "bookings"
    serializer_class = ServiceTypeOutputSerializer
    filterset_class = ServiceTypeFilter

    def get_base_queryset(self):
        return selectors.service_type_list(organization=self.organization)


class WorkingHoursOutputSerializer(TenantModelSerializer):
    class Meta:
        model = WorkingHours
        fields = ["weekday", "start_time", "end_time"]
        read_only_fields = fields


class TechnicianOutputSerializer(TenantModelSerializer):
    skills = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True, help_text="Skill codes."
    )
    working_hours = WorkingHoursOutputSerializer(
        many=True,
        read_only=True,
        help_text="Weekly shifts; weekday 0 is Monday, times in the organisation's timezone.",
    )

    class Meta:
        model = Technician
        fields = [
            "id",
            "first_name",
            "last_name",
            "display_name",
            "phone",
            "email",
            "user",
            "color",
            "is_active",
            "home_base_address",
            "skills",
            "working_hours",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AvailabilityQuerySerializer(serializers.Serializer):
    date = serializers.DateField(
        validators=list(selectors.DAY_VALIDATORS),
        help_text="YYYY-MM-DD, a day in the organisation's timezone.",
    )


class FreeIntervalSerializer(serializers.Serializer):
    start = OrganizationDateTimeField()
    end = OrganizationDateTimeField()


class AvailabilityOutputSerializer(serializers.Serializer):
    technician = serializers.IntegerField()
    date = serializers.DateField()
    free = FreeIntervalSerializer(
        many=True, help_text="Free working time that day, in order, with the local UTC offset."
    )


class TechnicianViewSet(TenantReadOnlyViewSet):
    """Technicians with their skills and weekly working hours."""

    queryset = Technician.objects.all()
    scope_family = "bookings"
    serializer_class = TechnicianOutputSerializer

    def get_base_queryset(self):
        return selectors.technician_list(organization=self.organization)

    @extend_schema(
        parameters=[AvailabilityQuerySerializer],
        responses={200: AvailabilityOutputSerializer},
        summary="A technician's free time on a day",
        description=(
            "The technician's working time that day (organisation timezone, so 23 or 25 hours "
            "long when the clocks change) minus appointments, time off and holidays."
        ),
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def availability(self, request, pk=None):
        technician = self.get_object()
        query = AvailabilityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        day = query.validated_data["date"]
        free = technician_free_intervals(technician=technician, date=day)
        payload = {
            "technician": technician.pk,
            "date": day,
            "free": [{"start": start, "end": end} for start, end in free],
        }
        return Response(
            AvailabilityOutputSerializer(payload, context=self.get_serializer_context()).data
        )


class JobServiceTypeOutputSerializer(TenantModelSerializer):
    class Meta:
        model = ServiceType
        fields = ["id", "name", "category", "kind"]
        read_only_fields = fields


class JobOutputSerializer(TenantModelSerializer):
    service_type = JobServiceTypeOutputSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "number",
            "customer",
            "location",
            "service_type",
            "equipment",
            "description",
            "priority",
            "status",
            "source",
            "customer_preference",
            "work_notes",
            "diagnostic_notes",
            "completed_at",
            "cancelled_at",
            "cancel_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AppointmentPagination(DefaultCursorPagination):
    ordering = ("start", "id")


class AppointmentOutputSerializer(TenantModelSerializer):
    customer = serializers.IntegerField(source="job.customer_id", read_only=True)

    class Meta:
        model = Appointment
        fields = [
            "id",
            "job",
            "customer",
            "technician",
            "start",
            "end",
            "arrival_window_start",
            "arrival_window_end",
            "status",
            "en_route_at",
            "started_at",
            "finished_at",
            "cancelled_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class JobCreateInputSerializer(serializers.Serializer):
    customer = serializers.IntegerField(min_value=1)
    location = serializers.IntegerField(min_value=1, help_text="One of the customer's locations.")
    service_type = serializers.IntegerField(min_value=1)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    priority = serializers.ChoiceField(choices=Job.Priority.choices, default=Job.Priority.NORMAL)
    source = serializers.ChoiceField(choices=Source.choices, default=Source.API)
    customer_preference = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text='When the customer would like the visit: "Tuesday afternoon", "after 3"…',
    )


class SlotQuerySerializer(serializers.Serializer):
    count = serializers.IntegerField(min_value=1, max_value=MAX_SLOTS, default=3)
    preference = serializers.CharField(
        max_length=200,
        required=False,
        help_text='Free text ("tomorrow morning", "Tuesday after 3"); defaults to the job\'s '
        "customer preference. Text that is not understood is ignored.",
    )
    earliest = AwareDateTimeField(
        required=False, help_text="No slot starts before this (ISO 8601 with offset)."
    )


class SlotOutputSerializer(serializers.Serializer):
    technician = serializers.IntegerField(source="technician_id")
    start = OrganizationDateTimeField()
    end = OrganizationDateTimeField()
    arrival_window_start = OrganizationDateTimeField(
        help_text="The window promised to the customer."
    )
    arrival_window_end = OrganizationDateTimeField()


class SlotTakenSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(help_text='"slot_taken"')
    alternatives = SlotOutputSerializer(many=True, help_text="Fresh offers, best first.")


class BookInputSerializer(serializers.Serializer):
    technician = serializers.IntegerField(min_value=1)
    start = AwareDateTimeField(help_text="A slot's `start`, with its UTC offset.")


class CompleteLineInputSerializer(serializers.Serializer):
    item = serializers.IntegerField(help_text="An active price book item's id.")
    quantity = serializers.DecimalField(
        max_digits=10, decimal_places=2, help_text="Above zero; at most two decimals."
    )


class CompleteInputSerializer(serializers.Serializer):
    notes = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="The work performed."
    )
    diagnostic_notes = serializers.CharField(required=False, allow_blank=True, default="")
    lines = CompleteLineInputSerializer(many=True, required=False, default=list)


class CompletedJobOutputSerializer(JobOutputSerializer):
    invoice = serializers.IntegerField(source="invoice.pk", help_text="The draft invoice's id.")

    class Meta(JobOutputSerializer.Meta):
        fields = [*JobOutputSerializer.Meta.fields, "invoice"]
        read_only_fields = fields


def _technician_or_404(organization, pk: int) -> Technician:
    technician = selectors.technician_get(organization=organization, pk=pk)
    if technician is None:
        raise NotFound("Unknown technician.")
    return technician


class JobViewSet(TenantReadOnlyViewSet):
    """Jobs: the work a customer asked for; appointments are its visits."""

    queryset = Job.objects.all()
    scope_family = "bookings"
    serializer_class = JobOutputSerializer
    filterset_class = JobFilter

    def get_base_queryset(self):
        return selectors.job_list(organization=self.organization)

    @extend_schema(
        request=JobCreateInputSerializer,
        responses={201: JobOutputSerializer},
        summary="Create a job",
        description=(
            "Numbered J-10001, J-10002… per organisation. The customer, location and service "
            "type must be the organisation's (another id is a 400 on that field); the location "
            "must be the customer's."
        ),
    )
    def create(self, request):
        data = JobCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        organization = self.organization
        related = {
            "customer": customer_selectors.customer_list(
                organization=organization, include_merged=True
            ),
            "location": customer_selectors.location_list(organization=organization),
            "service_type": selectors.service_type_list(organization=organization),
        }
        missing = {}
        for name, queryset in related.items():
            fields[name] = queryset.filter(pk=fields[name]).first()
            if fields[name] is None:
                missing[name] = ["Not found."]
        if missing:
            raise serializers.ValidationError(missing)
        job = services.job_create(organization=organization, actor=_actor(request), **fields)
        output = JobOutputSerializer(job, context=self.get_serializer_context())
        return Response(output.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[SlotQuerySerializer],
        responses={200: SlotOutputSerializer(many=True)},
        summary="Bookable slots for a job",
        description=(
            "The best bookable slots across technicians (skills, working hours, time off, "
            "appointments, travel from the previous stop), honouring the customer's "
            "preference. Emergencies get the earliest on-call capacity. Book one with "
            "`POST /jobs/{id}/book/` and its `technician` and `start`."
        ),
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def slots(self, request, pk=None):
        job = self.get_object()
        query = SlotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        now = timezone.now()
        preference = None
        if params.get("preference"):
            preference = preference_parse(
                params["preference"], now=now, tz=self.organization.tzinfo
            )
        found = slots_find(
            organization=self.organization,
            job=job,
            earliest=params.get("earliest"),
            count=params["count"],
            preference=preference,
            now=now,
        )
        output = SlotOutputSerializer(found, many=True, context=self.get_serializer_context())
        return Response(output.data)

    @extend_schema(
        request=BookInputSerializer,
        responses={201: AppointmentOutputSerializer, 409: SlotTakenSerializer},
        summary="Book a slot",
        description=(
            "Books the technician at `start` exactly as `slots` offered it. 409 `slot_taken` "
            "with fresh `alternatives` when someone else got it first; 400 for a start in the "
            "past, without a UTC offset or not offered (the message says why); 404 for an "
            "unknown technician; 409 when the job is closed or already booked."
        ),
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def book(self, request, pk=None):
        job = self.get_object()
        data = BookInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        technician = _technician_or_404(self.organization, data.validated_data["technician"])
        appointment = services.appointment_book(
            job=job,
            technician=technician,
            start=data.validated_data["start"],
            actor=_actor(request),
        )
        output = AppointmentOutputSerializer(appointment, context=self.get_serializer_context())
        return Response(output.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=CompleteInputSerializer,
        responses={200: CompletedJobOutputSerializer},
        summary="Complete a job",
        description=(
            "Completes the job from any open state (office staff complete on a technician's "
            "behalf): its open visits become completed, and `lines` (`[{item, quantity}]` from "
            "the active price book) become a draft invoice whose id is `invoice`. 400 on "
            "`lines` for an unknown or inactive item, another organisation's item or a quantity "
            "that is not above zero; 409 when the job is closed, cancelled or completed."
        ),
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def complete(self, request, pk=None):
        job = self.get_object()
        data = CompleteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        job = services_visits.job_complete_registered(
            job=job,
            notes=fields["notes"],
            diagnostic_notes=fields["diagnostic_notes"],
            lines=[(line["item"], line["quantity"]) for line in fields["lines"]],
            actor=_actor(request),
        )
        output = CompletedJobOutputSerializer(job, context=self.get_serializer_context())
        return Response(output.data)


class RescheduleInputSerializer(serializers.Serializer):
    start = AwareDateTimeField(help_text="A slot's `start`, with its UTC offset.")
    technician = serializers.IntegerField(
        min_value=1, required=False, help_text="Another technician; the same one by default."
    )


class CancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    cancel_job = serializers.BooleanField(
        default=False,
        help_text="The customer no longer wants the work: the job is cancelled too. Otherwise "
        "the job goes back to requested, to be booked again.",
    )


class AppointmentViewSet(TenantReadOnlyViewSet):
    """Technicians' visits, in start order; times carry the organisation's UTC offset."""

    queryset = Appointment.objects.all()
    scope_family = "bookings"
    serializer_class = AppointmentOutputSerializer
    filterset_class = AppointmentFilter
    pagination_class = AppointmentPagination

    def get_base_queryset(self):
        return selectors.appointment_list(organization=self.organization)

    @extend_schema(
        request=RescheduleInputSerializer,
        responses={200: AppointmentOutputSerializer, 409: SlotTakenSerializer},
        summary="Move a visit",
        description=(
            "Same rules as booking; the old time is freed in the same transaction. 409 "
            "`slot_taken` with `alternatives` when the new time is gone, 409 "
            "`not_reschedulable` once the technician is on the way."
        ),
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def reschedule(self, request, pk=None):
        appointment = self.get_object()
        data = RescheduleInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        technician = None
        if "technician" in data.validated_data:
            technician = _technician_or_404(self.organization, data.validated_data["technician"])
        appointment = services.appointment_reschedule(
            appointment=appointment,
            start=data.validated_data["start"],
            technician=technician,
            actor=_actor(request),
        )
        return Response(self.get_serializer(appointment).data)

    @extend_schema(
        request=CancelInputSerializer,
        responses={200: AppointmentOutputSerializer},
        summary="Cancel a visit",
        description=(
            "The time is free for others at once. Cancelling a cancelled visit changes nothing "
            "(safe to retry); 409 `not_cancellable` once the work has started."
        ),
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def cancel(self, request, pk=None):
        appointment = self.get_object()
        data = CancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appointment = services.appointment_cancel(
            appointment=appointment, actor=_actor(request), **data.validated_data
        )
        return Response(self.get_serializer(appointment).data)


class CallTurnOutputSerializer(TenantModelSerializer):
    class Meta:
        model = CallTurn
        fields = [
            "sequence",
            "state",
            "heard",
            "digits",
            "intent",
            "said",
            "processing_ms",
            "created_at",
        ]
        read_only_fields = fields


class CallOutputSerializer(TenantModelSerializer):
    transcript = CallTurnOutputSerializer(
        source="turns", many=True, read_only=True, help_text="The turns in order."
    )
    disclosures = serializers.ListField(
        child=serializers.JSONField(),
        read_only=True,
        help_text="What the agent read back to the caller, and on what verification.",
    )
    action_items = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="What the office should do after the call (call back, check an address…).",
    )

    class Meta:
        model = CallSession
        fields = [
            "id",
            "call_sid",
            "from_number",
            "to_number",
            "direction",
            "stir_verstat",
            "outcome",
            "outcome_reason",
            "customer",
            "new_customer",
            "job",
            "priority",
            "verified",
            "verification_method",
            "summary",
            "action_items",
            "transcript",
            "disclosures",
            "lead_score",
            "recording_url",
            "recording_duration_seconds",
            "duration_seconds",
            "started_at",
            "ended_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CallViewSet(TenantReadOnlyViewSet):
    """Calls the phone agent handled: outcome, summary, transcript and disclosures."""

    queryset = CallSession.objects.all()
    scope_family = "calls"
    serializer_class = CallOutputSerializer
    filterset_class = CallFilter

    def get_base_queryset(self):
        return selectors.call_list(organization=self.organization)
