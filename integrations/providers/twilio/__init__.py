"""Twilio: the provider package (today, the Messages REST resource for outbound SMS)."""
