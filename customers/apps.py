from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        # Registers the outbox handler of `message.sms` in every process (web, worker, beat),
        # and the tasks that `customers.enqueue` sends by name.
        from customers import messaging, tasks  # noqa: F401
