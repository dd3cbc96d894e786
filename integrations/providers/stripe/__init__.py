"""Stripe: Checkout pay links, refunds and the signed webhook. Vendor JSON stays here."""
