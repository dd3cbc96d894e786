from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "invoicing"
    verbose_name = "Invoicing"

    def ready(self) -> None:
        # The phone agent (bookings, below invoicing) reads balances through this reader.
        from bookings.selectors_callers import caller_account_register
        from invoicing.selectors import CallerAccountReader

        caller_account_register(CallerAccountReader())

        # ... and answers price questions from the price book through this one.
        from bookings.selectors_prices import price_book_reader_register
        from invoicing.selectors_prices import PriceBookQuoteReader

        price_book_reader_register(PriceBookQuoteReader())

        # The jobs API (bookings) completes a job through invoicing: completion writes the invoice.
        from bookings.services_visits import job_completer_register
        from invoicing.services import job_complete

        job_completer_register(job_complete)

        # Follow-ups on invoices: overdue reminders and the review request after payment.
        from invoicing import followups

        followups.register()
