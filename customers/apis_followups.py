"""Follow-ups in the API: the scheduled and sent messages (read), and the rules (read; the owner
edits a rule's switch, delay and text with the `edit` verb)."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from customers import followups
from customers.filters import FollowUpFilter, FollowUpRuleFilter
from customers.models import FollowUp, FollowUpRule
from dispatchnode.accounts.models import Membership
from dispatchnode.api.serializers import TenantModelSerializer
from dispatchnode.api.tenancy import request_principal
from dispatchnode.api.viewsets import TenantReadOnlyViewSet
from dispatchnode.core.errors import PermissionDenied


class FollowUpRuleOutputSerializer(TenantModelSerializer):
    class Meta:
        model = FollowUpRule
        fields = [
            "id",
            "name",
            "trigger",
            "category",
            "channel",
            "subject",
            "body",
            "delay",
            "repeat_every",
            "max_count",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class FollowUpRuleEditSerializer(serializers.Serializer):
    is_active = serializers.BooleanField(required=False)
    delay = serializers.DurationField(required=False)
    subject = serializers.CharField(required=False, allow_blank=True, max_length=300)
    body = serializers.CharField(required=False, max_length=1600)


class FollowUpOutputSerializer(TenantModelSerializer):
    rule_name = serializers.CharField(source="rule.name", read_only=True)

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "rule",
            "rule_name",
            "object_type",
            "object_id",
            "sequence",
            "customer",
            "job",
            "scheduled_for",
            "status",
            "reason",
            "message",
            "sent_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class FollowUpRuleViewSet(TenantReadOnlyViewSet):
    """The organisation's follow-up rules (the defaults are created on the first scan)."""

    queryset = FollowUpRule.objects.all()
    scope_family = "customers"
    serializer_class = FollowUpRuleOutputSerializer
    filterset_class = FollowUpRuleFilter

    def get_base_queryset(self):
        return followups.followup_rule_list(organization=self.organization)

    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def edit(self, request, pk=None):
        principal = request_principal(request)
        if principal.membership is not None and principal.role != Membership.Role.OWNER:
            raise PermissionDenied("Only the owner edits follow-up rules.")
        rule = self.get_object()
        data = FollowUpRuleEditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = followups.followup_rule_update(rule=rule, **data.validated_data)
        return Response(
            FollowUpRuleOutputSerializer(rule, context=self.get_serializer_context()).data
        )


class FollowUpViewSet(TenantReadOnlyViewSet):
    """Scheduled, sent, skipped and cancelled follow-ups, newest first."""

    queryset = FollowUp.objects.all()
    scope_family = "customers"
    serializer_class = FollowUpOutputSerializer
    filterset_class = FollowUpFilter

    def get_base_queryset(self):
        return followups.followup_list(organization=self.organization)
