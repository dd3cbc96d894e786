"""Tenancy: Organization (the tenant root), User, Membership with roles, Twilio numbers and
per-organisation API tokens with scopes."""
