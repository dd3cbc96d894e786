from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        # Registers the tasks that `customers.enqueue` sends by name in every process.
        from customers import tasks  # noqa: F401
