"""The booking service under real concurrent load: threads with their own database connections,
released together (the `race` helper of test_double_booking_race).

PostgreSQL: 32 bookers through the API for one slot, and 500 random bookings across six
technicians through the service. SQLite: the same with fewer workers (its writers queue on
BEGIN IMMEDIATE). Whatever the interleaving: no overlap, no error but a clean `SlotTaken` with
alternatives. Run with `-s` to see bookings per second.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from bookings.models import Appointment, Job
from bookings.services import SlotTaken, appointment_book
from dispatchnode.accounts.services import api_token_issue
from tests.bookings.test_booking import CHICAGO, MONDAY_9, NOW, build_world
from tests.bookings.test_double_booking_race import race

OVERLAPS_SQL = """
    SELECT count(*)
    FROM bookings_appointment a
    JOIN bookings_appointment b
      ON a.id < b.id
     AND a.technician_id = b.technician_id
     AND a.status <> 'cancelled'
     AND b.status <> 'cancelled'
     AND a."start" < b."end" AND b."start" < a."end"
"""


def overlaps() -> int:
    """Overlapping active pairs, in SQL both databases understand."""
    with connection.cursor() as cursor:
        cursor.execute(OVERLAPS_SQL)
        return cursor.fetchone()[0]


def next_monday_10() -> dt.datetime:
    """10:00 (Chicago) on a Monday 3-9 days from the real now: inside the 14-day horizon."""
    day = timezone.now().astimezone(CHICAGO).date() + dt.timedelta(days=3)
    while day.weekday() != 0:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(10), tzinfo=CHICAGO)


def race_the_api_for_one_slot(bookers: int) -> None:
    # given one technician, one job per booker, and a client per booker
    world = build_world()
    jobs = [world.job() for _ in range(bookers)]
    clients = []
    for _ in range(bookers):
        issued = api_token_issue(
            organization=world.organization, name="booker", scopes=["bookings:write"]
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {issued.key}")
        clients.append(client)
    start = next_monday_10()
    body = {"technician": world.technician.pk, "start": start.isoformat()}

    def book(i: int):
        return clients[i].post(f"/api/v1/jobs/{jobs[i].pk}/book/", body, format="json")

    # when they all book the same technician at the same start at once
    outcomes, seconds = race(bookers, book)

    # then exactly one 201; every other booker a clean 409 with three fresh alternatives
    statuses = Counter(getattr(o, "status_code", repr(o)) for o in outcomes)
    print(f"\n{bookers} API bookers on one slot: {dict(statuses)} in {seconds * 1000:.0f} ms")
    assert statuses == {201: 1, 409: bookers - 1}
    for response in outcomes:
        if response.status_code == 409:
            payload = response.json()
            assert payload["code"] == "slot_taken"
            assert len(payload["alternatives"]) == 3
            assert all(a["start"] != start.isoformat() for a in payload["alternatives"])
    assert Appointment.objects.count() == 1
    assert Job.objects.filter(status=Job.Status.SCHEDULED).count() == 1
    assert overlaps() == 0


def race_random_bookings(*, attempts: int, workers: int, technicians: int = 6) -> None:
    # given six technicians, a job per attempt, and random (technician, start) picks over the
    # nine working days in the horizon: 6 x 9 days x 15 starts on the half-hour grid, with room
    # for about 240 two-hour visits, so many picks collide
    world = build_world(technicians=technicians)
    jobs = [world.job() for _ in range(attempts)]
    rng = random.Random(4)
    days = [MONDAY_9.date() + dt.timedelta(days=d) for d in (0, 1, 2, 3, 4, 7, 8, 9, 10)]
    picks = [
        (
            rng.choice(world.technicians),
            dt.datetime.combine(rng.choice(days), dt.time(8), tzinfo=CHICAGO)
            + dt.timedelta(minutes=30 * rng.randrange(15)),
        )
        for _ in range(attempts)
    ]

    def book_share(worker: int) -> Counter:
        outcomes = Counter()
        for i in range(worker, attempts, workers):
            technician, start = picks[i]
            try:
                appointment_book(job=jobs[i], technician=technician, start=start, now=NOW)
            except SlotTaken as taken:
                outcomes["taken" if taken.alternatives else "taken, no alternatives"] += 1
            else:
                outcomes["booked"] += 1
        return outcomes

    # when the workers book their shares at the same time
    results, seconds = race(workers, book_share)

    # then every attempt is a booking or a clean "taken", and nothing overlaps
    errors = [r for r in results if not isinstance(r, Counter)]
    assert errors == []
    total = sum(results, Counter())
    print(
        f"\n{attempts} random bookings, {workers} workers, {technicians} technicians: "
        f"{dict(total)} in {seconds:.2f} s = {attempts / seconds:.0f} attempts/s, "
        f"{total['booked'] / seconds:.0f} bookings/s"
    )
    assert total["booked"] + total["taken"] == attempts
    assert total["booked"] == Appointment.objects.count() > 0
    assert total["taken"] > 0
    assert overlaps() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_32_api_bookers_on_one_slot_give_one_201_and_31_clean_409s():
    race_the_api_for_one_slot(32)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_500_random_concurrent_bookings_never_overlap_or_fail():
    race_random_bookings(attempts=500, workers=16)


@pytest.mark.django_db(transaction=True)
def test_sqlite_api_bookers_on_one_slot_give_one_201_and_clean_409s():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: PostgreSQL runs 32 bookers above")
    race_the_api_for_one_slot(8)


@pytest.mark.django_db(transaction=True)
def test_sqlite_random_concurrent_bookings_never_overlap_or_fail():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: PostgreSQL runs 500 bookings above")
    race_random_bookings(attempts=120, workers=4)
