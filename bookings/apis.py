"""Read API for the service catalogue, technicians, jobs, appointments and call records."""

from __future__ import annotations

from rest_framework import serializers

from bookings import selectors
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
from dispatchnode.api.pagination import DefaultCursorPagination
from dispatchnode.api.serializers import TenantModelSerializer
from dispatchnode.api.viewsets import TenantReadOnlyViewSet


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


class TechnicianViewSet(TenantReadOnlyViewSet):
    """Technicians with their skills and weekly working hours."""

    queryset = Technician.objects.all()
    scope_family = "bookings"
    serializer_class = TechnicianOutputSerializer

    def get_base_queryset(self):
        return selectors.technician_list(organization=self.organization)


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


class JobViewSet(TenantReadOnlyViewSet):
    """Jobs: the work a customer asked for; appointments are its visits."""

    queryset = Job.objects.all()
    scope_family = "bookings"
    serializer_class = JobOutputSerializer
    filterset_class = JobFilter

    def get_base_queryset(self):
        return selectors.job_list(organization=self.organization)


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


class AppointmentViewSet(TenantReadOnlyViewSet):
    """Technicians' visits, in start order; times carry the organisation's UTC offset."""

    queryset = Appointment.objects.all()
    scope_family = "bookings"
    serializer_class = AppointmentOutputSerializer
    filterset_class = AppointmentFilter
    pagination_class = AppointmentPagination

    def get_base_queryset(self):
        return selectors.appointment_list(organization=self.organization)


class CallTurnOutputSerializer(TenantModelSerializer):
    class Meta:
        model = CallTurn
        fields = ["sequence", "heard", "said", "created_at"]
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
            "summary",
            "transcript",
            "disclosures",
            "lead_score",
            "recording_url",
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
