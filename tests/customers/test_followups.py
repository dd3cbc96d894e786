"""Follow-ups with a frozen clock: `now` is passed into the scan and the send, never read."""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo

import pytest
from django.db import connection, transaction

from bookings.models import Job
from customers.followups import followup_send_one, followups_scan, followups_send
from customers.models import Consent, FollowUp, FollowUpRule, Message
from customers.tasks import followups_scan_task, followups_send_task
from tests import factories

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
PHONE = "+15125550142"


@pytest.fixture(autouse=True)
def console_sms(settings):
    settings.SMS_BACKEND = "console"


def _local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CHICAGO)


def _completed_job(*, completed_at: dt.datetime, phone: str = PHONE, org=None) -> Job:
    org = org or factories.OrganizationFactory(name="Acme Heating", office_phone="+15125550199")
    customer = factories.CustomerFactory(organization=org, first_name="Dana")
    factories.ContactPointFactory(customer=customer, value=phone)
    return factories.JobFactory(
        organization=org,
        customer=customer,
        status=Job.Status.COMPLETED,
        completed_at=completed_at,
        service_type__name="AC repair",
    )


def _only_rule(org, name: str = "30 days after the job") -> FollowUpRule:
    """The organisation's default rules (the first scan creates them), all but `name` off."""
    followups_scan(now=_local(2020, 1, 1, 12), organization=org)
    FollowUpRule.objects.filter(organization=org).exclude(name=name).update(is_active=False)
    return FollowUpRule.objects.get(organization=org, name=name)


@pytest.mark.django_db
def test_the_30_day_follow_up_is_sent_once_in_daytime():
    # Given a job completed at 10:00 on 1 March, local time
    job = _completed_job(completed_at=_local(2026, 3, 1, 10))
    rule = _only_rule(job.organization)

    # When the scan runs on 31 March at 23:00 local, and the send right after
    late = _local(2026, 3, 31, 23)
    assert followups_scan(now=late, organization=job.organization) == 1
    result = followups_send(now=late)

    # Then nothing is sent at night: the follow-up moves to 08:00 the next morning
    followup = FollowUp.objects.get(rule=rule)
    assert result.rescheduled == 1
    assert result.sent == 0
    assert followup.status == FollowUp.Status.SCHEDULED
    assert followup.scheduled_for == _local(2026, 4, 1, 8)
    assert not Message.objects.exists()

    # When the send runs at 07:59 it still waits; at 08:00 it sends
    assert followups_send(now=_local(2026, 4, 1, 7, 59)).sent == 0
    assert followups_send(now=_local(2026, 4, 1, 8)).sent == 1

    # Then exactly one text, on the customer's timeline, with the placeholders filled
    followup.refresh_from_db()
    message = Message.objects.get()
    assert followup.status == FollowUp.Status.SENT
    assert followup.message == message
    assert followup.sent_at == _local(2026, 4, 1, 8)
    assert message.customer == job.customer
    assert message.job == job
    assert message.to_address == PHONE
    assert message.purpose == "follow_up"
    assert message.body.startswith("Hi Dana, it's Acme Heating. How is everything running")
    assert "AC repair" in message.body
    assert "+15125550199" in message.body

    # When the scan and the send run again the next days
    for day in (2, 3, 5):
        followups_scan(now=_local(2026, 4, day, 12), organization=job.organization)
        followups_send(now=_local(2026, 4, day, 12))

    # Then there is still one follow-up and one message
    assert FollowUp.objects.count() == 1
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_an_opted_out_contact_is_skipped_never_sent():
    # Given the customer's number opted out of texts
    job = _completed_job(completed_at=_local(2026, 3, 1, 10))
    _only_rule(job.organization)
    factories.ConsentFactory(organization=job.organization, address=PHONE)

    # When the follow-up comes due in daytime
    noon = _local(2026, 3, 31, 12)
    followups_scan(now=noon, organization=job.organization)
    result = followups_send(now=noon)

    # Then it is skipped with the reason and no message exists at all
    followup = FollowUp.objects.get()
    assert result.skipped == 1
    assert result.sent == 0
    assert followup.status == FollowUp.Status.SKIPPED
    assert followup.reason == f"{PHONE} opted out of sms."
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_no_contact_is_skipped():
    # Given a customer without a phone number
    org = factories.OrganizationFactory()
    factories.JobFactory(
        organization=org, status=Job.Status.COMPLETED, completed_at=_local(2026, 3, 1, 10)
    )
    _only_rule(org)

    # When it comes due
    followups_scan(now=_local(2026, 3, 31, 12), organization=org)
    followups_send(now=_local(2026, 3, 31, 12))

    # Then it is skipped: no sms contact
    assert FollowUp.objects.get().reason == "No sms contact."
    assert not Message.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_send_killed_after_queueing_rolls_back_and_the_redelivery_sends_once():
    # Given a due follow-up
    job = _completed_job(completed_at=_local(2026, 3, 1, 10))
    _only_rule(job.organization)
    noon = _local(2026, 3, 31, 12)
    followups_scan(now=noon, organization=job.organization)
    followup = FollowUp.objects.get()

    # When the worker dies inside the transaction, after the message was queued
    class WorkerKilled(Exception):
        pass

    queued_before_the_kill = []

    def send_then_die():
        with transaction.atomic():
            followup_send_one(followup_id=followup.pk, now=noon)
            queued_before_the_kill.append(Message.objects.count())
            raise WorkerKilled

    with pytest.raises(WorkerKilled):
        send_then_die()
    assert queued_before_the_kill == [1]  # the message was queued inside the transaction

    # Then nothing of it survives: no message, no outbox event, the row still scheduled
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.SCHEDULED
    assert followup.message_id is None
    assert not Message.objects.exists()

    # When the task is redelivered (twice, as at-least-once delivery allows)
    assert followups_send(now=noon).sent == 1
    assert followups_send(now=noon).sent == 0

    # Then exactly one message was queued
    assert Message.objects.count() == 1
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.SENT


@pytest.mark.django_db
def test_overdue_rule_sends_at_most_max_count_times():
    # Given a job follow-up rule repeated every 7 days at most 3 times: modelled by the invoice
    # trigger in invoicing; here the unique key alone: the same sequence twice is one row
    job = _completed_job(completed_at=_local(2026, 3, 1, 10))
    rule = _only_rule(job.organization)
    rows = [
        FollowUp(
            organization=job.organization,
            rule=rule,
            object_type="job",
            object_id=job.pk,
            sequence=seq,
            customer=job.customer,
            scheduled_for=_local(2026, 3, 31, 12),
        )
        for seq in (1, 1, 2)
    ]

    # When they are bulk-inserted with ignore_conflicts
    FollowUp.objects.bulk_create(rows, ignore_conflicts=True)

    # Then the duplicate sequence is one row
    assert sorted(FollowUp.objects.values_list("sequence", flat=True)) == [1, 2]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_scans_insert_one_follow_up():
    if connection.vendor != "postgresql":
        pytest.skip("threads share one SQLite database lock")
    # Given a due job
    job = _completed_job(completed_at=_local(2026, 3, 1, 10))
    _only_rule(job.organization)
    noon = _local(2026, 3, 31, 12)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def scan():
        try:
            barrier.wait()
            followups_scan(now=noon, organization=job.organization)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    # When two scans run at once
    threads = [threading.Thread(target=scan) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Then one row: the unique key decided
    assert errors == []
    assert FollowUp.objects.count() == 1


@pytest.mark.django_db
def test_a_rule_for_another_category_does_not_match():
    # Given a plumbing-only rule and an HVAC job
    job = _completed_job(completed_at=_local(2026, 3, 1, 10))
    rule = _only_rule(job.organization)
    job.service_type.category = "hvac"
    job.service_type.save()
    rule.category = "plumbing"
    rule.save()

    # When the scan runs
    # Then nothing is scheduled
    assert followups_scan(now=_local(2026, 3, 31, 12), organization=job.organization) == 0


@pytest.mark.django_db
def test_nurture_stops_when_the_lead_books_and_skips_hot_leads():
    # Given two unbooked calls a day ago, one lukewarm (score 40), one hot (score 85)
    org = factories.OrganizationFactory()
    _only_rule(org, "Lead nurture: text after a day")
    ended = _local(2026, 3, 1, 11)
    calls = []
    for score, phone in ((40, "+15125550150"), (85, "+15125550151")):
        customer = factories.CustomerFactory(organization=org)
        factories.ContactPointFactory(customer=customer, value=phone)
        calls.append(
            factories.CallSessionFactory(
                organization=org,
                customer=customer,
                outcome="no_booking",
                lead_score=score,
                started_at=ended - dt.timedelta(minutes=5),
                ended_at=ended,
            )
        )

    # When the scan runs a day later
    followups_scan(now=_local(2026, 3, 2, 12), organization=org)

    # Then only the lukewarm lead is in the nurture (the hot one is the office's callback)
    followup = FollowUp.objects.get()
    assert followup.object_id == calls[0].pk

    # When that customer books before the text goes out
    factories.JobFactory(organization=org, customer=calls[0].customer)
    followups_send(now=_local(2026, 3, 2, 12))

    # Then the nurture is cancelled, nothing sent
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.CANCELLED
    assert followup.reason == "Booked since the call."
    assert not Message.objects.exists()
    assert Consent.objects.count() == 0


@pytest.mark.django_db
def test_the_beat_tasks_scan_and_send_in_each_organisations_scope():
    # Given a due 30-day follow-up in one organisation and nothing in another
    job = _completed_job(completed_at=_local(2026, 3, 1, 10))
    _only_rule(job.organization)
    factories.OrganizationFactory()
    noon = _local(2026, 3, 31, 12).isoformat()

    # When beat's two tasks run (through Celery's apply, as a worker calls them), twice
    scanned = [followups_scan_task.apply(kwargs={"now": noon}).get() for _ in range(2)]
    sent = [followups_send_task.apply(kwargs={"now": noon}).get() for _ in range(2)]

    # Then one follow-up, one text
    assert scanned == [1, 0]
    assert sent == [1, 0]
    assert Message.objects.filter(customer=job.customer).count() == 1
