"""Values intake, merge and bulk loads store on rows for the matcher, set here (not saved):
a location's normalised address and its keys, a customer's name key.

Below intake and merge, which both keep these up to date.
"""

from __future__ import annotations

from customers.hygiene.addresses import NormalizedAddress
from customers.hygiene.names import name_parse
from customers.models import Customer, ServiceLocation


def location_set_address(location: ServiceLocation, address: NormalizedAddress) -> None:
    """Copy a normalised address onto a location (not saved). The raw text is always kept."""
    location.raw_address = address.raw or location.raw_address
    location.street = address.street
    location.unit = address.unit
    location.city = address.city
    location.state = address.state
    location.postal_code = address.postal_code
    location.components = {
        **address.components,
        "unit_id": address.unit_id,
        "zip4": address.zip4,
        "problems": list(address.problems),
    }
    location.match_key = address.match_key
    location.street_key = address.street_key
    location.needs_review = address.needs_review


def customer_refresh_name_key(customer: Customer) -> None:
    """Recompute the stored blocking key from the names (not saved)."""
    person = name_parse(customer.first_name, customer.last_name)
    if not (person.first or person.last) and customer.company_name:
        person = name_parse(full=customer.company_name)
    customer.name_key = (person.last_phonetic or person.last)[:40]
