from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "invoicing"
    verbose_name = "Invoicing"

    def ready(self) -> None:
        # The phone agent (bookings, below invoicing) reads balances through this reader.
        from bookings.selectors_callers import caller_account_register
        from invoicing.selectors import CallerAccountReader

        caller_account_register(CallerAccountReader())
