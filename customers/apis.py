"""Read API for customers and what hangs off them: locations, equipment, notes, messages."""

from __future__ import annotations

from rest_framework import serializers

from customers import selectors
from customers.filters import (
    CustomerFilter,
    CustomerNoteFilter,
    EquipmentFilter,
    LocationFilter,
    MessageFilter,
)
from customers.models import (
    ContactPoint,
    Customer,
    CustomerNote,
    Equipment,
    Message,
    ServiceLocation,
)
from dispatchnode.api.serializers import TenantModelSerializer
from dispatchnode.api.viewsets import TenantReadOnlyViewSet


class ContactPointOutputSerializer(TenantModelSerializer):
    class Meta:
        model = ContactPoint
        fields = ["value", "label", "is_primary", "sms_opt_out", "email_opt_out"]
        read_only_fields = fields


class CustomerOutputSerializer(TenantModelSerializer):
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)
    phones = ContactPointOutputSerializer(
        source="phone_contacts", many=True, read_only=True, help_text="E.164, primary first."
    )
    emails = ContactPointOutputSerializer(
        source="email_contacts", many=True, read_only=True, help_text="Lower-cased, primary first."
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "first_name",
            "last_name",
            "display_name",
            "company_name",
            "kind",
            "lead_status",
            "source",
            "do_not_service",
            "do_not_service_reason",
            "tags",
            "phones",
            "emails",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CustomerViewSet(TenantReadOnlyViewSet):
    """Customers, found by any written form of a phone number, an email or free text."""

    queryset = Customer.objects.all()
    scope_family = "customers"
    serializer_class = CustomerOutputSerializer
    filterset_class = CustomerFilter

    def get_base_queryset(self):
        return selectors.customer_list(organization=self.organization)


class LocationOutputSerializer(TenantModelSerializer):
    class Meta:
        model = ServiceLocation
        fields = [
            "id",
            "customer",
            "label",
            "one_line",
            "raw_address",
            "street",
            "unit",
            "city",
            "state",
            "postal_code",
            "country",
            "latitude",
            "longitude",
            "geocode_quality",
            "needs_review",
            "gate_code",
            "pets",
            "parking",
            "access_notes",
            "is_primary",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class LocationViewSet(TenantReadOnlyViewSet):
    """Service locations: the address as given, its normalised parts and access notes."""

    queryset = ServiceLocation.objects.all()
    scope_family = "customers"
    serializer_class = LocationOutputSerializer
    filterset_class = LocationFilter

    def get_base_queryset(self):
        return selectors.location_list(organization=self.organization)


class EquipmentOutputSerializer(TenantModelSerializer):
    customer = serializers.IntegerField(source="location.customer_id", read_only=True)

    class Meta:
        model = Equipment
        fields = [
            "id",
            "location",
            "customer",
            "kind",
            "category",
            "make",
            "model_number",
            "serial_number",
            "installed_on",
            "warranty_expires_on",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class EquipmentViewSet(TenantReadOnlyViewSet):
    """Equipment at a customer's locations."""

    queryset = Equipment.objects.all()
    scope_family = "customers"
    serializer_class = EquipmentOutputSerializer
    filterset_class = EquipmentFilter

    def get_base_queryset(self):
        return selectors.equipment_list(organization=self.organization)


class CustomerNoteOutputSerializer(TenantModelSerializer):
    class Meta:
        model = CustomerNote
        fields = [
            "id",
            "customer",
            "kind",
            "body",
            "visible_to_agent",
            "author",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CustomerNoteViewSet(TenantReadOnlyViewSet):
    """Notes about a customer: access, preferences, complaints."""

    queryset = CustomerNote.objects.all()
    scope_family = "customers"
    serializer_class = CustomerNoteOutputSerializer
    filterset_class = CustomerNoteFilter

    def get_base_queryset(self):
        return selectors.customer_note_list(organization=self.organization)


class MessageOutputSerializer(TenantModelSerializer):
    class Meta:
        model = Message
        fields = [
            "id",
            "customer",
            "job",
            "channel",
            "direction",
            "to_address",
            "from_address",
            "subject",
            "body",
            "status",
            "purpose",
            "error",
            "sent_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class MessageViewSet(TenantReadOnlyViewSet):
    """The message timeline: every SMS and email to or from a customer."""

    queryset = Message.objects.all()
    scope_family = "customers"
    serializer_class = MessageOutputSerializer
    filterset_class = MessageFilter

    def get_base_queryset(self):
        return selectors.message_list(organization=self.organization)
