from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Bookings"

    def ready(self) -> None:
        # Outbox subscribers: text a technician when today's visits change.
        # Follow-up triggers on jobs, appointments and calls (customers.followups).
        from bookings import (
            followups,
            notifications,  # noqa: F401
        )

        followups.register()
