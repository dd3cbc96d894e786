"""The API root: `GET /api/v1/` lists every resource's list URL."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView


class ApiRootView(APIView):
    """Resource name → list URL, for every router the API includes. Public, like the schema.
    A resource without a list (the reports) names each of its collection actions instead."""

    permission_classes = [AllowAny]
    routers: tuple[SimpleRouter, ...] = ()

    @extend_schema(
        operation_id="api_root",
        summary="List the API's resources",
        responses={
            200: OpenApiResponse(
                {"type": "object", "additionalProperties": {"type": "string", "format": "uri"}},
                description="Resource name → list URL (or report name → URL).",
            )
        },
    )
    def get(self, request: Request) -> Response:
        resources = {}
        for router in self.routers:
            for prefix, viewset, basename in router.registry:
                if hasattr(viewset, "list"):
                    resources[prefix] = reverse(f"api:{basename}-list", request=request)
                    continue
                for extra in viewset.get_extra_actions():
                    if not extra.detail:
                        name = f"api:{basename}-{extra.url_name}"
                        resources[f"{prefix}/{extra.url_path}"] = reverse(name, request=request)
        return Response(resources)
