"""Admin for the catalogue, technicians, jobs, appointments and call records (tenant-scoped)."""

from __future__ import annotations

from django.contrib import admin

from bookings.models import (
    Appointment,
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
    WorkingHours,
)
from dispatchnode.core.admin_base import (
    TenantAdmin,
    TenantAdminForm,
    TenantInlineForm,
    TenantTabularInline,
)


def _refuse_overlap(form, cleaned: dict) -> dict:
    """A clear form error instead of the database's exclusion-constraint error (a 500 here).

    The constraint stays the guarantee; this is only the friendly message for the admin.
    """
    technician, start, end = cleaned.get("technician"), cleaned.get("start"), cleaned.get("end")
    status = cleaned.get("status") or Appointment.Status.SCHEDULED
    if technician is None or start is None or end is None or end <= start:
        return cleaned
    if status in Appointment.INACTIVE_STATUSES:
        return cleaned
    clash = (
        Appointment.objects.filter(technician=technician, start__lt=end, end__gt=start)
        .exclude(status__in=Appointment.INACTIVE_STATUSES)
        .exclude(pk=form.instance.pk)
        .order_by("start")
        .first()
    )
    if clash is not None:
        form.add_error(
            "start",
            f"{technician} already has an appointment from {clash.start:%Y-%m-%d %H:%M} to "
            f"{clash.end:%H:%M} (UTC).",
        )
    return cleaned


class AppointmentAdminForm(TenantAdminForm):
    def clean(self):
        return _refuse_overlap(self, super().clean())


class AppointmentInlineForm(TenantInlineForm):
    def clean(self):
        return _refuse_overlap(self, super().clean())


@admin.register(Skill)
class SkillAdmin(TenantAdmin):
    list_display = ("name", "code")
    search_fields = ("name", "code")
    list_select_related = ()


@admin.register(ServiceType)
class ServiceTypeAdmin(TenantAdmin):
    list_display = (
        "name",
        "code",
        "category",
        "kind",
        "default_duration_minutes",
        "required_skill",
        "is_active",
    )
    list_filter = ("category", "kind", "is_active", "required_skill")
    search_fields = ("name", "code", "description")
    list_select_related = ("required_skill",)


class WorkingHoursInline(TenantTabularInline):
    model = WorkingHours
    fields = ("weekday", "start_time", "end_time")


class TimeOffInline(TenantTabularInline):
    model = TimeOff
    fields = ("start", "end", "reason")


@admin.register(Technician)
class TechnicianAdmin(TenantAdmin):
    list_display = ("display_name", "phone", "email", "user", "is_active")
    list_filter = ("is_active", "skills")
    search_fields = ("first_name", "last_name", "phone", "email")
    filter_horizontal = ("skills",)
    autocomplete_fields = ("user",)
    list_select_related = ("user",)
    inlines = [WorkingHoursInline, TimeOffInline]

    @admin.display(description="Name", ordering="first_name")
    def display_name(self, technician: Technician) -> str:
        return technician.display_name


@admin.register(WorkingHours)
class WorkingHoursAdmin(TenantAdmin):
    list_display = ("technician", "weekday", "start_time", "end_time")
    list_filter = ("weekday", "technician")
    search_fields = ("technician__first_name", "technician__last_name")
    list_select_related = ("technician",)


@admin.register(TimeOff)
class TimeOffAdmin(TenantAdmin):
    list_display = ("technician", "start", "end", "reason")
    list_filter = ("technician",)
    search_fields = ("technician__first_name", "technician__last_name", "reason")
    list_select_related = ("technician",)
    date_hierarchy = "start"


@admin.register(OnCallShift)
class OnCallShiftAdmin(TenantAdmin):
    list_display = ("technician", "start", "end")
    list_filter = ("technician",)
    search_fields = ("technician__first_name", "technician__last_name")
    list_select_related = ("technician",)
    date_hierarchy = "start"


@admin.register(Holiday)
class HolidayAdmin(TenantAdmin):
    list_display = ("date", "name")
    search_fields = ("name",)
    date_hierarchy = "date"


@admin.register(SchedulingPolicy)
class SchedulingPolicyAdmin(TenantAdmin):
    list_display = (
        "__str__",
        "arrival_window_minutes",
        "slot_step_minutes",
        "minimum_notice_minutes",
        "horizon_days",
        "emergency_after_hours",
    )
    search_fields = ("organization__name",)


class AppointmentInline(TenantTabularInline):
    model = Appointment
    form = AppointmentInlineForm
    fields = ("technician", "start", "end", "arrival_window_start", "arrival_window_end", "status")


@admin.register(Job)
class JobAdmin(TenantAdmin):
    list_display = (
        "number",
        "customer",
        "service_type",
        "status",
        "priority",
        "source",
        "created_at",
    )
    list_filter = ("status", "priority", "source", "service_type")
    search_fields = (
        "=number",
        "description",
        "customer__first_name",
        "customer__last_name",
        "customer__company_name",
    )
    autocomplete_fields = ("customer", "location", "equipment")
    readonly_fields = ("created_by", "completed_at", "cancelled_at")
    list_select_related = ("customer", "service_type")
    date_hierarchy = "created_at"
    inlines = [AppointmentInline]
    fieldsets = (
        (None, {"fields": ("number", "customer", "location", "equipment", "service_type")}),
        ("Request", {"fields": ("description", "priority", "source", "customer_preference")}),
        (
            "Progress",
            {
                "fields": (
                    "status",
                    "diagnostic_notes",
                    "work_notes",
                    "completed_at",
                    "cancelled_at",
                    "cancel_reason",
                    "created_by",
                )
            },
        ),
    )

    def save_model(self, request, obj, form, change):
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Appointment)
class AppointmentAdmin(TenantAdmin):
    form = AppointmentAdminForm
    list_display = ("start", "end", "technician", "job", "status")
    list_filter = ("status", "technician")
    search_fields = ("=job__number", "technician__first_name", "technician__last_name")
    autocomplete_fields = ("job",)
    list_select_related = ("technician", "job")
    date_hierarchy = "start"
    readonly_fields = ("en_route_at", "started_at", "finished_at", "cancelled_at")


class CallTurnInline(TenantTabularInline):
    model = CallTurn
    fields = (
        "sequence",
        "state",
        "heard",
        "digits",
        "confidence",
        "intent",
        "said",
        "processing_ms",
    )
    readonly_fields = fields
    read_only = True
    can_delete = False


@admin.register(CallSession)
class CallSessionAdmin(TenantAdmin):
    """Calls are recorded by the phone webhooks; the office may only annotate the outcome."""

    list_display = (
        "call_sid",
        "from_number",
        "customer",
        "outcome",
        "priority",
        "verified",
        "started_at",
        "duration_seconds",
    )
    list_filter = ("outcome", "priority", "verified", "new_customer", "direction")
    search_fields = ("=call_sid", "from_number", "to_number", "summary")
    list_select_related = ("customer",)
    date_hierarchy = "created_at"
    inlines = [CallTurnInline]
    editable_fields = ("outcome", "outcome_reason", "summary")

    def has_add_permission(self, request):
        return False

    def get_readonly_fields(self, request, obj=None):
        names = [f.name for f in self.opts.concrete_fields if f.name not in self.editable_fields]
        return tuple(dict.fromkeys((*super().get_readonly_fields(request, obj), *names)))


@admin.register(CallTurn)
class CallTurnAdmin(TenantAdmin):
    read_only = True
    list_display = ("call", "sequence", "state", "intent", "heard", "said", "processing_ms")
    list_filter = ("intent", "state")
    search_fields = ("=call__call_sid", "heard", "said")
    list_select_related = ("call",)
