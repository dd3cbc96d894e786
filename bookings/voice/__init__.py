"""The phone agent: Twilio webhooks, the dialogue state machine, language understanding and the
brains that interpret callers. Built on `bookings.services` and `customers.services`."""
