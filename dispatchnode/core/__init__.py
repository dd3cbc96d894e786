"""Shared kernel: base models, tenancy base, application errors, money and phone helpers,
per-organisation sequences and the transactional outbox."""
