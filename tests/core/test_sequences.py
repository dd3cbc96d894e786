"""`sequence_next`: per organisation and name, consecutive, and safe under concurrency."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from dispatchnode.core.models import Sequence
from dispatchnode.core.services import sequence_next
from tests import factories


def test_numbers_are_consecutive_per_organisation_and_name(org, other_org):
    # when numbers are drawn from two counters of one organisation and one of another
    invoices = [sequence_next(organization=org, name="invoice") for _ in range(3)]
    jobs = [sequence_next(organization=org, name="job") for _ in range(2)]
    theirs = [sequence_next(organization=other_org, name="invoice") for _ in range(2)]

    # then each counter starts at 1 and counts on its own
    assert invoices == [1, 2, 3]
    assert jobs == [1, 2]
    assert theirs == [1, 2]
    assert sorted(Sequence.objects.values_list("organization_id", "name", "last_value")) == sorted(
        [(org.pk, "invoice", 3), (org.pk, "job", 2), (other_org.pk, "invoice", 2)]
    )


def test_a_number_drawn_in_a_rolled_back_transaction_is_given_back(org):
    # given a counter at 1
    sequence_next(organization=org, name="invoice")

    # when a transaction draws the next number and then fails
    def failing_invoice():
        with transaction.atomic():
            assert sequence_next(organization=org, name="invoice") == 2
            raise RuntimeError("invoice could not be built")

    with pytest.raises(RuntimeError, match="could not be built"):
        failing_invoice()

    # then the number is drawn again by the next caller
    assert sequence_next(organization=org, name="invoice") == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_draws_have_no_duplicates_and_no_gaps():
    # given a fresh counter and 16 threads released together, each drawing 10 numbers
    org = factories.OrganizationFactory()
    threads_n, per_thread = 16, 10
    barrier = threading.Barrier(threads_n)
    drawn: list[int] = []
    errors: list[Exception] = []
    lock = threading.Lock()

    def draw():
        try:
            barrier.wait(timeout=30)
            mine = [sequence_next(organization=org, name="invoice") for _ in range(per_thread)]
            with lock:
                drawn.extend(mine)
        except Exception as exc:  # recorded and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=draw) for _ in range(threads_n)]

    # when they all draw at once (the first draws also race to create the row)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then the 160 numbers are exactly 1..160
    assert errors == []
    assert sorted(drawn) == list(range(1, threads_n * per_thread + 1))
    assert Sequence.objects.get(organization=org, name="invoice").last_value == 160
