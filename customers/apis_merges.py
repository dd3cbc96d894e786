"""API for customer merges (with undo) and the duplicate review queue."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from customers import merge as merging
from customers import reviews, selectors
from customers.filters import CustomerMergeFilter, DuplicateReviewFilter
from customers.models import ContactPoint, Customer, CustomerMerge, DuplicateReview
from dispatchnode.api.pagination import DefaultCursorPagination
from dispatchnode.api.serializers import TenantModelSerializer
from dispatchnode.api.viewsets import TenantReadOnlyViewSet
from dispatchnode.core.errors import NotFound


def request_actor(request):
    """The person behind the request (a token's creator), or None for an ownerless token."""
    user = request.user
    return user if user is not None and user.is_authenticated else None


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
        merging.customer_unmerge(merge=merge, actor=request_actor(request))
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
            review=review, actor=request_actor(request), survivor=survivor
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
        reviews.duplicate_review_dismiss(review=self.get_object(), actor=request_actor(request))
        return Response(self.get_serializer(self.get_object()).data)
