"""API for customers and what hangs off them (locations, equipment, notes, messages), and the
intake gate. Customer merges and the duplicate review queue are `customers.apis_merges`."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from customers import intake, selectors
from customers import merge as merging
from customers.apis_merges import (
    CustomerMergeInputSerializer,
    CustomerMergeOutputSerializer,
    request_actor,
)
from customers.filters import (
    CustomerFilter,
    CustomerNoteFilter,
    EquipmentFilter,
    LocationFilter,
    MessageFilter,
)
from customers.hygiene.addresses import address_normalize
from customers.matching import match_record
from customers.models import (
    ContactPoint,
    Customer,
    CustomerNote,
    Equipment,
    Message,
    ServiceLocation,
    Source,
)
from dispatchnode.api.serializers import TenantModelSerializer
from dispatchnode.api.viewsets import TenantReadOnlyViewSet
from dispatchnode.core.errors import NotFound


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
            "merged_into",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CustomerIntakeInputSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    company_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text="Any written form."
    )
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    address = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text='One line, e.g. "123 Oak St Apt 4, Austin, TX 78702". Kept as given.',
    )


class CustomerCreateInputSerializer(CustomerIntakeInputSerializer):
    source = serializers.ChoiceField(choices=Source.choices, default=Source.API)


class MatchOutputSerializer(serializers.Serializer):
    customer = CustomerOutputSerializer()
    probability = serializers.FloatField()
    auto_merge_allowed = serializers.BooleanField(
        help_text="False when a person must decide however likely it is (an initial alone)."
    )
    evidence = serializers.JSONField(
        help_text="Per field: what was compared (`a`, `b`), how it agreed (`how`) and its "
        "weight (`score`); `together`: the strongest weights of two fields taken together "
        "(`first_name+phone`: -1.9 means that combination weighed against); `blocks`."
    )


class MatchListOutputSerializer(serializers.Serializer):
    results = MatchOutputSerializer(many=True)


class IntakeOutputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=["attached", "created", "review"],
        help_text="attached: an existing customer (200); created: new (201); review: new, and "
        "the likely pair is in the duplicate review queue (201).",
    )
    customer = CustomerOutputSerializer()
    match = MatchOutputSerializer(allow_null=True)
    review = serializers.IntegerField(allow_null=True, help_text="Duplicate review id.")
    problems = serializers.ListField(child=serializers.CharField())


class CustomerViewSet(TenantReadOnlyViewSet):
    """Customers, found by any written form of a phone number, an email or free text.

    The list hides customers merged into another; their detail still opens, with `merged_into`.
    """

    queryset = Customer.objects.all()
    scope_family = "customers"
    serializer_class = CustomerOutputSerializer
    filterset_class = CustomerFilter

    def get_base_queryset(self):
        return selectors.customer_list(
            organization=self.organization, include_merged=self.action != "list"
        )

    def _loaded(self, customers: list[Customer]) -> dict[int, Customer]:
        """The customers again, with what the output serializer renders loaded."""
        ids = [c.pk for c in customers]
        return selectors.customer_list(organization=self.organization).in_bulk(ids)

    def _match_data(self, matches, loaded: dict[int, Customer]) -> list[dict]:
        return [
            {
                "customer": loaded[m.customer.pk],
                "probability": round(m.probability, 4),
                "auto_merge_allowed": m.auto_merge_allowed,
                "evidence": m.evidence,
            }
            for m in matches
        ]

    @extend_schema(
        request=CustomerCreateInputSerializer,
        responses={201: IntakeOutputSerializer, 200: IntakeOutputSerializer},
        summary="Add a customer through the duplicate check",
        description=(
            "The same gate as the phone agent, CSV import and CRM sync: an existing customer "
            "this very likely is (the organisation's automatic threshold) gets the new phone, "
            "email or address and is returned with 200; otherwise a customer is created (201), "
            "and a likely-but-unsure pair also goes to the review queue. Any written phone "
            "form is accepted; an unusable one is a 400. An address that cannot be parsed is "
            "kept as given and flagged."
        ),
    )
    def create(self, request):
        data = CustomerCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = intake.customer_find_or_create(
            organization=self.organization, **data.validated_data
        )
        loaded = self._loaded([result.customer] + ([result.match.customer] if result.match else []))
        payload = {
            "decision": result.decision,
            "customer": loaded[result.customer.pk],
            "match": self._match_data([result.match], loaded)[0] if result.match else None,
            "review": result.review.pk if result.review is not None else None,
            "problems": result.problems,
        }
        output = IntakeOutputSerializer(payload, context=self.get_serializer_context())
        created = result.decision != "attached"
        return Response(output.data, status=201 if created else 200)

    @extend_schema(
        request=CustomerIntakeInputSerializer,
        responses={200: MatchListOutputSerializer},
        summary="Match candidates for a would-be customer",
        description=(
            "Existing customers who may be this person, most likely first (probability ≥ 0.5, "
            "at most 10), each with the per-field evidence. Writes nothing."
        ),
    )
    @action(
        detail=False,
        methods=["post"],
        filterset_class=None,
        pagination_class=None,
        action_reads=True,
    )
    def match(self, request):
        data = CustomerIntakeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        address = fields.get("address", "").strip()
        candidate = match_record(
            first_name=fields.get("first_name", ""),
            last_name=fields.get("last_name", ""),
            company_name=fields.get("company_name", ""),
            phones=[fields["phone"]] if fields.get("phone") else [],
            emails=[fields["email"]] if fields.get("email") else [],
            addresses=[address_normalize(address)] if address else [],
            region=self.organization.country or "US",
        )
        matches = intake.customer_match(organization=self.organization, candidate=candidate)
        loaded = self._loaded([m.customer for m in matches])
        output = MatchListOutputSerializer(
            {"results": self._match_data(matches, loaded)}, context=self.get_serializer_context()
        )
        return Response(output.data)

    @extend_schema(
        request=CustomerMergeInputSerializer,
        responses={201: CustomerMergeOutputSerializer},
        summary="Merge another customer into this one",
        description=(
            "Moves every row of the duplicate (contacts, locations, jobs, invoices, messages…) "
            "to this customer and hides the duplicate. 404 for a missing or foreign id, 409 for "
            "the same customer or one already merged away. Undo with "
            "`POST /customer-merges/{id}/undo/`."
        ),
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def merge(self, request, pk=None):
        survivor = self.get_object()
        data = CustomerMergeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        duplicate = self.get_queryset().filter(pk=data.validated_data["duplicate"]).first()
        if duplicate is None:
            raise NotFound("Not found.")  # the envelope of any missing object
        merge = merging.customer_merge(
            survivor=survivor, duplicate=duplicate, actor=request_actor(request)
        )
        output = CustomerMergeOutputSerializer(merge, context=self.get_serializer_context())
        return Response(output.data, status=status.HTTP_201_CREATED)


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
