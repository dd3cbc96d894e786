from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        # Registers the outbox handler of `message.sms` in every process (web, worker, beat).
        from customers import messaging  # noqa: F401
