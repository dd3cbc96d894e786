"""`python manage.py seed_demo [--customers N] [--reset]`: build Demo Heating & Air."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dispatchnode.demo import data
from dispatchnode.demo.population import MAX_CUSTOMERS
from dispatchnode.demo.services import DemoSeedError, demo_seed


class Command(BaseCommand):
    help = (
        "Create or update the demo organisation (Demo Heating & Air) with its logins, "
        "technicians, catalogue, customers and history. Safe to run again: nothing is duplicated."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers",
            type=int,
            default=300,
            help="Generated customers besides the pinned ones (default 300).",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the demo organisation first and build it again from scratch.",
        )

    def handle(self, *args, customers: int, reset: bool, **options) -> None:
        if not 0 <= customers <= MAX_CUSTOMERS:
            raise CommandError(f"--customers must be between 0 and {MAX_CUSTOMERS}.")
        self.stdout.write(f"Seeding {data.ORG_NAME}…")
        try:
            result = demo_seed(customers=customers, reset=reset, progress=self._step)
        except DemoSeedError as exc:
            raise CommandError(exc.message) from exc

        base = settings.PUBLIC_BASE_URL or f"http://127.0.0.1:{os.environ.get('PORT') or 8000}"
        key = result.api_token_key
        rows = result.rows
        self.stdout.write(
            f"  Done in {result.seconds:.1f} s: {rows.get('customers.Customer', 0)} customers, "
            f"{rows.get('bookings.Job', 0)} jobs, {rows.get('bookings.Appointment', 0)} "
            f"appointments, {rows.get('invoicing.Invoice', 0)} invoices."
        )
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"{data.ORG_NAME} is ready."))
        self.stdout.write(
            f"  Dashboard: {base}/dashboard/   login: dispatcher / {settings.DEMO_PASSWORD}   "
            "(also owner)"
        )
        self.stdout.write(
            f"  Technician app: {base}/tech/   login: tech1 … tech6 / {settings.DEMO_PASSWORD}"
        )
        self.stdout.write(f"  Admin:     {base}/admin/   login: owner")
        self.stdout.write(f"  Phone:     {data.ORG_TWILIO_NUMBER}")
        self.stdout.write(f"  API token: {key}")
        self.stdout.write(
            f'  Try:       curl -H "Authorization: Token {key}" {base}/api/v1/customers/'
        )

    def _step(self, message: str) -> None:
        self.stdout.write(f"  {message}")
