"""Integrations (to come).

The provider registry (ServiceTitan, Housecall Pro, Jobber, Stripe, QuickBooks Online,
FreshBooks, Xero, Google Calendar, Outlook, Twilio, SendGrid, Samsara, Verizon Connect); each
organisation's Connection with encrypted credentials and field mapping; ExternalRef rows that
make every upsert idempotent; delivery of outbox events to connections; inbound webhooks stored
raw and processed in tasks; SyncRun/SyncLog records; and the one hardened HTTP client.
No models yet: the core outbox (`dispatchnode.core.models.OutboxEvent`) is the seam it plugs into.
"""
