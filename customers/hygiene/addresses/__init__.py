"""US addresses in USPS Publication 28 form, and the keys the duplicate matcher compares.

`usaddress` tags the words of an address but does not standardise them, and scourgify's own
normaliser raises on PO Boxes and on "St Marks". So we tag with `usaddress` and standardise with
scourgify's Pub 28 tables through a thin layer that never raises: intake must always be able to
store what a person said, and flag it for review instead of refusing it.

Choices the matcher relies on:
- `street_key` is the house number, directional, street name, type and directional joined by
  "|" ("123|N|OAK|ST"); `match_key` adds the unit identifier and the ZIP (or city and state).
- Units are compared by identifier only: "Apt 4B", "Unit 4B", "# 4-b" all have unit_id "4B".
- Ordinal street names become digits ("Fifth" -> "5TH"); "St"/"Saint" at the start of a
  street name becomes "SAINT" (never the type); "Mt"/"Ft" become "MOUNT"/"FORT" there.
- A key is only produced for an address we understood: no key for intersections, addresses
  without a house number, or two conflicting units (`needs_review` and `problems` say why).

A package by concern: `tables` (the Pub 28 tables and the word-level normalisers),
`normalize` (tagging with `usaddress` and building a `NormalizedAddress` with its keys) and
`spoken` (one line for screens, words for the phone agent). Import from the package; names
with a leading underscore are private to it.
"""

from customers.hygiene.addresses.normalize import NormalizedAddress, address_normalize
from customers.hygiene.addresses.spoken import address_one_line, address_spoken
from customers.hygiene.addresses.tables import unit_split

__all__ = [
    "NormalizedAddress",
    "address_normalize",
    "address_one_line",
    "address_spoken",
    "unit_split",
]
