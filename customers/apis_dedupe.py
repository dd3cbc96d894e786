"""API for batch dedupe runs: start one, follow its progress, read its report.

`POST /api/v1/dedupe-runs/` queues a run (a `BackgroundRun` of kind "dedupe") and answers 202
with it; `GET /api/v1/dedupe-runs/<id>/` shows its status, stage and done/total while it runs,
then the report as `result` or the `error`. A second run while one is queued or running is a 409.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from customers.services import dedupe_run_start
from dispatchnode.api.serializers import TenantModelSerializer
from dispatchnode.api.viewsets import TenantReadOnlyViewSet
from dispatchnode.core.models import BackgroundRun
from dispatchnode.core.runs import background_run_list


class DedupeRunInputSerializer(serializers.Serializer):
    merge = serializers.BooleanField(
        default=True,
        help_text="Merge clusters above the automatic threshold (each merge can be undone); "
        "false puts every likely pair in the review queue instead.",
    )


class BackgroundRunOutputSerializer(TenantModelSerializer):
    class Meta:
        model = BackgroundRun
        fields = [
            "id",
            "kind",
            "status",
            "params",
            "stage",
            "done",
            "total",
            "result",
            "error",
            "requested_by",
            "started_at",
            "finished_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "stage": {"help_text": "What the run is doing now (scoring, merging…)."},
            "done": {"help_text": "Items of the current stage done so far."},
            "total": {"help_text": "Items in the current stage."},
            "requested_by": {"help_text": "The user who started it (a token's creator), or null."},
            "result": {
                "help_text": "The report once succeeded: customers, clusters, merged, queued, "
                "merges (CustomerMerge ids, to undo) and stats (timings)."
            },
        }


class DedupeRunViewSet(TenantReadOnlyViewSet):
    """Batch dedupe runs of the organisation, newest first."""

    queryset = BackgroundRun.objects.all()
    scope_family = "customers"
    serializer_class = BackgroundRunOutputSerializer

    def get_base_queryset(self):
        return background_run_list(organization=self.organization, kind=BackgroundRun.Kind.DEDUPE)

    @extend_schema(
        request=DedupeRunInputSerializer,
        responses={
            202: BackgroundRunOutputSerializer,
            409: OpenApiResponse(description="A dedupe run is already queued or running."),
        },
        summary="Start a batch dedupe of the organisation's customers",
        description=(
            "Queues the run and answers 202 with it; follow it at its detail URL. In inline "
            "mode (TASKS=inline) the run has already finished when this answers."
        ),
    )
    def create(self, request):
        data = DedupeRunInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user if request.user is not None and request.user.is_authenticated else None
        run = dedupe_run_start(
            organization=self.organization, merge=data.validated_data["merge"], user=user
        )
        run = self.get_queryset().get(pk=run.pk)  # as it is now (inline mode has finished it)
        return Response(self.get_serializer(run).data, status=status.HTTP_202_ACCEPTED)
