"""API for customers and what hangs off them (locations, equipment, notes, messages), customer
merges with undo, and the duplicate review queue."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from customers import intake, reviews, selectors
from customers import merge as merging
from customers.filters import (
    CustomerFilter,
    CustomerMergeFilter,
    CustomerNoteFilter,
    DuplicateReviewFilter,
    EquipmentFilter,
    LocationFilter,
    MessageFilter,
)
from customers.hygiene.addresses import address_normalize
from customers.matching import match_record
from customers.models import (
    ContactPoint,
    Customer,
    CustomerMerge,
    CustomerNote,
    DuplicateReview,
    Equipment,
    Message,
    ServiceLocation,
    Source,
)
from dispatchnode.api.pagination import DefaultCursorPagination
from dispatchnode.api.serializers import TenantModelSerializer
from dispatchnode.api.viewsets import TenantReadOnlyViewSet
from dispatchnode.core.errors import NotFound


def _actor(request):
    """The person behind the request (a token's creator), or None for an ownerless token."""
    user = request.user
    return user if user is not None and user.is_authenticated else None


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


# A merge's and a review's `source` are other choice sets than a customer's or a job's `source`:
# each gets its own named enum component, so the shared `SourceEnum` keeps its name.


@extend_schema_field(
    {"type": "string", "enum": CustomerMerge.Source.values}, component_name="MergeSourceEnum"
)
class MergeSourceField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=CustomerMerge.Source.choices, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": DuplicateReview.Source.values}, component_name="ReviewSourceEnum"
)
class ReviewSourceField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=DuplicateReview.Source.choices, **kwargs)


class CustomerMergeOutputSerializer(TenantModelSerializer):
    source = MergeSourceField(read_only=True)
    moved = serializers.SerializerMethodField(help_text="Rows moved to the survivor, per model.")
    kept = serializers.SerializerMethodField(
        help_text="Rows left on the duplicate (a phone or email the survivor already had)."
    )
    missing_on_undo = serializers.SerializerMethodField(
        help_text="Moved rows the undo could not bring back (deleted or moved since), per model."
    )

    class Meta:
        model = CustomerMerge
        fields = [
            "id",
            "survivor",
            "duplicate",
            "source",
            "probability",
            "evidence",
            "moved",
            "kept",
            "missing_on_undo",
            "performed_by",
            "undone_at",
            "undone_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "integer"}})
    def get_moved(self, merge: CustomerMerge) -> dict[str, int]:
        return merging.merge_moved_counts(merge)

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "integer"}})
    def get_kept(self, merge: CustomerMerge) -> dict[str, int]:
        return merging.merge_kept_counts(merge)

    @extend_schema_field(
        {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "integer"}}}
    )
    def get_missing_on_undo(self, merge: CustomerMerge) -> dict[str, list[int]]:
        return merging.merge_undo_missing(merge)


class CustomerMergeInputSerializer(serializers.Serializer):
    duplicate = serializers.IntegerField(
        min_value=1, help_text="The customer merged into this one (it is hidden afterwards)."
    )


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
            survivor=survivor, duplicate=duplicate, actor=_actor(request)
        )
        output = CustomerMergeOutputSerializer(merge, context=self.get_serializer_context())
        return Response(output.data, status=status.HTTP_201_CREATED)


class CustomerMergeViewSet(TenantReadOnlyViewSet):
    """Customer merges, newest first; each can be undone once, restoring the previous state."""

    queryset = CustomerMerge.objects.all()
    scope_family = "customers"
    serializer_class = CustomerMergeOutputSerializer
    filterset_class = CustomerMergeFilter

    def get_base_queryset(self):
        return selectors.customer_merge_list(organization=self.organization)

    @extend_schema(
        request=None,
        responses={200: CustomerMergeOutputSerializer},
        summary="Undo a merge",
        description=(
            "Moves the duplicate's rows back and restores the survivor's values. 409 when "
            "already undone or when the survivor has since been merged into another customer."
        ),
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def undo(self, request, pk=None):
        merge = self.get_object()
        merging.customer_unmerge(merge=merge, actor=_actor(request))
        merge.refresh_from_db()
        return Response(self.get_serializer(merge).data)


class ReviewCustomerSerializer(TenantModelSerializer):
    phones = serializers.SerializerMethodField(help_text="E.164, primary first.")
    emails = serializers.SerializerMethodField(help_text="Primary first.")
    primary_address = serializers.SerializerMethodField(help_text="One line, or null.")

    class Meta:
        model = Customer
        fields = ["id", "display_name", "phones", "emails", "primary_address", "merged_into"]
        read_only_fields = fields

    @staticmethod
    def _values(customer: Customer, kind: str) -> list[str]:
        return [c.value for c in customer.ordered_contacts if c.kind == kind]

    def get_phones(self, customer: Customer) -> list[str]:
        return self._values(customer, ContactPoint.Kind.PHONE)

    def get_emails(self, customer: Customer) -> list[str]:
        return self._values(customer, ContactPoint.Kind.EMAIL)

    @extend_schema_field(OpenApiTypes.STR)
    def get_primary_address(self, customer: Customer) -> str | None:
        locations = customer.ordered_locations
        return locations[0].one_line if locations else None


class DuplicateReviewOutputSerializer(TenantModelSerializer):
    source = ReviewSourceField(read_only=True)
    customer_a = ReviewCustomerSerializer(read_only=True, help_text="The older record.")
    customer_b = ReviewCustomerSerializer(read_only=True)

    class Meta:
        model = DuplicateReview
        fields = [
            "id",
            "status",
            "probability",
            "source",
            "customer_a",
            "customer_b",
            "evidence",
            "decided_by",
            "decided_at",
            "merge",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DuplicateReviewMergeInputSerializer(serializers.Serializer):
    survivor = serializers.IntegerField(
        min_value=1, required=False, help_text="Which of the two stays; the older by default."
    )


class DuplicateReviewPagination(DefaultCursorPagination):
    ordering = ("-probability", "id")


class DuplicateReviewViewSet(TenantReadOnlyViewSet):
    """The duplicate review queue: likely duplicate pairs, most likely first, with the
    matcher's evidence. Filter `?status=open` for what still needs a decision."""

    queryset = DuplicateReview.objects.all()
    scope_family = "customers"
    serializer_class = DuplicateReviewOutputSerializer
    filterset_class = DuplicateReviewFilter
    pagination_class = DuplicateReviewPagination

    def get_base_queryset(self):
        return selectors.duplicate_review_list(organization=self.organization)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        selectors.duplicate_review_customers_load(page if page is not None else [])
        return page

    def get_object(self):
        review = super().get_object()
        selectors.duplicate_review_customers_load([review])
        return review

    @extend_schema(
        request=DuplicateReviewMergeInputSerializer,
        responses={201: CustomerMergeOutputSerializer},
        summary="Merge the pair",
        description="Keeps the older record unless `survivor` names the other. 409 if decided.",
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def merge(self, request, pk=None):
        review = self.get_object()
        data = DuplicateReviewMergeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        survivor = None
        if "survivor" in data.validated_data:
            survivor = (
                selectors.customer_list(organization=self.organization, include_merged=True)
                .filter(pk=data.validated_data["survivor"])
                .first()
            )
            if survivor is None:
                raise NotFound("Not found.")  # the envelope of any missing object
        merge = merging.duplicate_review_merge(
            review=review, actor=_actor(request), survivor=survivor
        )
        output = CustomerMergeOutputSerializer(merge, context=self.get_serializer_context())
        return Response(output.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: DuplicateReviewOutputSerializer},
        summary="Not the same person",
        description="Remembered: batch dedupe never queues the pair again. 409 if decided.",
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def dismiss(self, request, pk=None):
        reviews.duplicate_review_dismiss(review=self.get_object(), actor=_actor(request))
        return Response(self.get_serializer(self.get_object()).data)


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
