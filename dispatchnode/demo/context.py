"""What every part of the demo generation shares: the organisation, the clock, the
timetable, the catalogue and job/invoice numbering."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from bookings.models import Job, ServiceType, Technician
from dispatchnode.accounts.models import Organization
from dispatchnode.core.errors import ApplicationError
from dispatchnode.core.models import Sequence
from dispatchnode.demo import data
from dispatchnode.demo.timetable import Timetable
from invoicing.models import Invoice, PriceBookItem

# --- Numbering ------------------------------------------------------------------------------


class Numbering:
    """Job and invoice numbers (`J-10001`, `INV-10001`) continuing the organisation's sequences.

    `save()` leaves the `core.Sequence` rows at the highest number in use, so numbers taken later
    with `sequence_next` continue after the seeded ones.
    """

    PREFIXES = {"job": "J-", "invoice": "INV-"}
    FLOOR = 10000

    def __init__(self, *, organization: Organization) -> None:
        self.organization = organization
        self.last: dict[str, int] = {}
        stored = dict(
            Sequence.objects.filter(organization=organization, name__in=self.PREFIXES).values_list(
                "name", "last_value"
            )
        )
        in_use = {
            "job": Job.objects.filter(organization=organization).values_list("number", flat=True),
            "invoice": Invoice.objects.filter(organization=organization).values_list(
                "number", flat=True
            ),
        }
        for name, prefix in self.PREFIXES.items():
            pattern = re.compile(rf"^{re.escape(prefix)}(\d+)$")
            used = [int(m.group(1)) for n in in_use[name] if (m := pattern.match(n))]
            self.last[name] = max([self.FLOOR, stored.get(name, 0), *used])

    def take(self, name: str) -> str:
        self.last[name] += 1
        return f"{self.PREFIXES[name]}{self.last[name]}"

    def save(self) -> None:
        for name, value in self.last.items():
            sequence, _ = Sequence.objects.get_or_create(
                organization=self.organization, name=name, defaults={"last_value": value}
            )
            if sequence.last_value < value:
                sequence.last_value = value
                sequence.save(update_fields=["last_value", "updated_at"])


# --- What the generators share --------------------------------------------------------------


@dataclass
class SeedContext:
    organization: Organization
    now: dt.datetime
    timetable: Timetable
    numbering: Numbering
    service_types: dict[str, ServiceType]
    items: dict[str, PriceBookItem]
    technicians: dict[int, Technician]
    skills_of: dict[int, frozenset[str]]
    dispatcher_id: int | None
    specs: dict[str, data.ServiceTypeSpec] = field(
        default_factory=lambda: {spec.code: spec for spec in data.SERVICE_TYPES}
    )

    @property
    def tz(self) -> ZoneInfo:
        return self.organization.tzinfo

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.tz).date()

    @property
    def tax_rate(self) -> Decimal:
        return self.organization.tax_rate

    def technicians_for(self, code: str) -> list[int]:
        skill = self.specs[code].skill
        return sorted(i for i, skills in self.skills_of.items() if skill in skills)

    def default_item(self, code: str) -> PriceBookItem:
        return next(self.items[item.code] for item in data.PRICE_BOOK if item.service_type == code)

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.tz)


class DemoSeedError(ApplicationError):
    code = "demo_seed_failed"
