"""Inbound vendor webhooks: the organisation from the URL, the signature checked with its
secret before anything is stored, the event applied inline (database only) and answered."""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dispatchnode.accounts.models import Organization
from dispatchnode.core.scoping import tenant_scope
from integrations.providers.stripe import webhooks as stripe_webhooks
from integrations.services_webhooks import webhook_event_process

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest, organization: str) -> JsonResponse:
    org = Organization.objects.filter(slug=organization).first()
    if org is None:
        return JsonResponse({"detail": "Unknown organisation."}, status=400)
    try:
        event = stripe_webhooks.event_verified(
            body=request.body,
            header=request.headers.get("Stripe-Signature", ""),
            secret=org.stripe_webhook_secret,
        )
    except stripe_webhooks.SignatureInvalid as error:
        logger.warning("stripe webhook refused", extra={"organization_id": org.pk})
        return JsonResponse({"detail": str(error)}, status=400)
    with tenant_scope(org):
        outcome = webhook_event_process(
            organization=org,
            provider=stripe_webhooks.PROVIDER,
            event_id=event["id"],
            type=event["type"],
            payload=event,
            apply=lambda: stripe_webhooks.event_apply(organization=org, event=event),
            deferred=stripe_webhooks.Deferred,
        )
    return JsonResponse({"detail": outcome.detail}, status=outcome.status)
