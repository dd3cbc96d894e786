from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        # Registers the outbox handler of `message.sms` in every process (web, worker, beat).
        from integrations import messaging  # noqa: F401
        from integrations.providers.stripe.gateway import stripe_gateway
        from invoicing.gateways import gateway_register

        gateway_register(stripe_gateway)
