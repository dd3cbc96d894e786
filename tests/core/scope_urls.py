"""A URLconf for the scoping tests: probes that report what a request sees, with no explicit
organisation filter (so only the tenant scope can limit them)."""

from django.http import JsonResponse
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.models import Customer
from dispatchnode.api.viewsets import TenantScopedMixin


def html_probe(request):
    return JsonResponse(
        {
            "organization": request.organization.pk if request.organization else None,
            "membership": request.membership.pk if request.membership else None,
            "customers": sorted(Customer.objects.values_list("pk", flat=True)),
        }
    )


class ApiProbe(TenantScopedMixin, APIView):
    queryset = Customer.objects.all()
    permission_classes = []

    def get(self, request):
        return Response(
            {
                "organization": request.organization.pk if request.organization else None,
                "wrapped": request._request.organization.pk
                if request._request.organization
                else None,
                "customers": sorted(Customer.objects.values_list("pk", flat=True)),
            }
        )


urlpatterns = [
    path("probe", html_probe, name="probe"),
    path("api-probe", ApiProbe.as_view(), name="api-probe"),
]
