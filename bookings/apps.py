from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Bookings"

    def ready(self) -> None:
        # Outbox subscribers: text a technician when today's visits change.
        from bookings import notifications  # noqa: F401
