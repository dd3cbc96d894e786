"""Normalisers for what people type: phone numbers, emails, names and US street addresses.

Pure functions over text, no database: every intake path (phone calls, the API, CSV import, CRM
and accounting sync) and the matcher call them, so one spelling of a fact gives one key."""
