"""Batch dedupe as a recorded background run: `dedupe_run_start`, the task on its `BackgroundRun`
row, throttled progress, the `/api/v1/dedupe-runs/` endpoint, and a real worker on Redis."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django.utils import timezone

from customers.models import Customer, CustomerMerge
from customers.services import dedupe_run_start
from customers.tasks import organization_dedupe_task
from dispatchnode.accounts.models import Membership
from dispatchnode.celery import app
from dispatchnode.core.errors import Conflict
from dispatchnode.core.models import BackgroundRun
from dispatchnode.core.runs import (
    STALE_AFTER,
    RunProgress,
    background_run_claim,
    background_run_fail,
)
from tests import factories
from tests.customers.test_dedupe_run import add

RUNS = "/api/v1/dedupe-runs/"
Status = BackgroundRun.Status
WAIT_SECONDS = 30


def people(org) -> dict[str, Customer]:
    """Two records of one person (merged by a run) and an unsure third (queued for review)."""
    found = {
        "william": add(
            org,
            "William",
            "Jenkins",
            phone="512-555-0101",
            address="123 Oak Street, Austin, TX 78702",
        ),
        "bill": add(
            org,
            "Bill",
            "Jenkins",
            phone="(512) 555-0101",
            email="bill@jenkins.net",
            address="123 Oak St, Austin TX 78702",
        ),
        "unsure": add(org, "W.", "Jenkins", address="123 Oak St, Austin TX 78702"),
    }
    org.refresh_from_db()  # the real thresholds again
    return found


@pytest.fixture
def inline_tasks(settings):
    """TASKS=inline: queued tasks run in this process, right after the commit."""
    settings.TASKS = "inline"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert app.conf.task_always_eager is True
    return settings


def run_row(run_id: int) -> BackgroundRun:
    return BackgroundRun.objects.get(pk=run_id)


# --- the service and the task -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_run_is_queued_and_its_task_is_sent_only_on_commit(
    org, inline_tasks, django_capture_on_commit_callbacks
):
    # given
    found = people(org)
    user = factories.UserFactory()

    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = dedupe_run_start(organization=org, merge=True, user=user)

    # then: before the commit nothing ran
    row = run_row(run.pk)
    assert (row.kind, row.status, row.params, row.requested_by) == (
        "dedupe",
        "queued",
        {"merge": True},
        user,
    )
    assert (row.started_at, row.finished_at, row.result, row.error) == (None, None, None, "")
    assert not CustomerMerge.objects.exists()
    assert len(callbacks) == 1

    # when the transaction commits (inline mode runs the task right then)
    callbacks[0]()

    # then
    row = run_row(run.pk)
    assert row.status == Status.SUCCEEDED
    assert row.started_at is not None
    assert row.finished_at >= row.started_at
    assert row.error == ""
    assert (row.result["customers"], row.result["clusters"], row.result["merged"]) == (3, 1, 1)
    assert row.result["queued"] == 1
    merge = CustomerMerge.objects.get()
    assert row.result["merges"] == [merge.pk]
    assert (merge.survivor, merge.duplicate) == (found["william"], found["bill"])
    assert row.stage == "queueing for review"
    assert row.total >= row.done > 0


@pytest.mark.django_db
def test_review_only_runs_merge_nothing(org, inline_tasks, django_capture_on_commit_callbacks):
    people(org)

    with django_capture_on_commit_callbacks(execute=True):
        run = dedupe_run_start(organization=org, merge=False)

    row = run_row(run.pk)
    assert (row.status, row.result["merged"], row.params) == ("succeeded", 0, {"merge": False})
    assert not CustomerMerge.objects.exists()


@pytest.mark.django_db
def test_a_second_run_while_one_is_active_is_a_conflict(org, other_org):
    # given a queued run
    first = dedupe_run_start(organization=org)

    # when another is asked for
    with pytest.raises(Conflict) as refused:
        dedupe_run_start(organization=org)

    # then: refused, naming the active run, and nothing was added
    assert refused.value.code == "run_in_progress"
    assert refused.value.extra == {"run": first.pk}
    assert BackgroundRun.objects.filter(organization=org).count() == 1
    # another organisation is not held up
    assert dedupe_run_start(organization=other_org).status == Status.QUEUED


@pytest.mark.django_db
def test_a_finished_or_failed_run_does_not_block_the_next(org):
    first = dedupe_run_start(organization=org)
    background_run_fail(run=first, error="ValueError: boom")

    second = dedupe_run_start(organization=org)

    assert run_row(first.pk).status == Status.FAILED
    assert run_row(first.pk).error == "ValueError: boom"
    assert run_row(first.pk).finished_at is not None
    assert second.status == Status.QUEUED


@pytest.mark.django_db
def test_a_running_row_without_progress_for_too_long_is_failed_and_replaced(org):
    # given a run whose worker died: running, nothing written for longer than STALE_AFTER
    dead = dedupe_run_start(organization=org)
    long_ago = timezone.now() - STALE_AFTER - dt.timedelta(seconds=5)
    BackgroundRun.objects.filter(pk=dead.pk).update(
        status=Status.RUNNING, started_at=long_ago, updated_at=long_ago
    )

    # when a new run is asked for
    fresh = dedupe_run_start(organization=org)

    # then the dead one is failed with the reason and the new one is queued
    row = run_row(dead.pk)
    assert row.status == Status.FAILED
    assert row.error.startswith("No progress for")
    assert fresh.status == Status.QUEUED


@pytest.mark.django_db
def test_a_live_running_row_still_blocks(org):
    live = dedupe_run_start(organization=org)
    BackgroundRun.objects.filter(pk=live.pk).update(status=Status.RUNNING)

    with pytest.raises(Conflict):
        dedupe_run_start(organization=org)

    assert run_row(live.pk).status == Status.RUNNING


@pytest.mark.django_db
def test_a_redelivered_task_for_a_finished_or_live_run_does_nothing(org):
    # given a run that finished and one that is running in another worker
    people(org)
    finished = factories.BackgroundRunFactory(organization=org)
    live = dedupe_run_start(organization=org)
    BackgroundRun.objects.filter(pk=live.pk).update(status=Status.RUNNING)
    before = {run.pk: run_row(run.pk).updated_at for run in (finished, live)}

    # when their messages are delivered again
    organization_dedupe_task.apply(args=[finished.pk])
    organization_dedupe_task.apply(args=[live.pk])
    organization_dedupe_task.apply(args=[987654])  # gone

    # then neither row moved and nothing was merged
    assert {run.pk: run_row(run.pk).updated_at for run in (finished, live)} == before
    assert run_row(live.pk).status == Status.RUNNING
    assert not CustomerMerge.objects.exists()
    assert background_run_claim(run_id=live.pk) is None


# --- progress: throttled short writes ---------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.django_db
def test_progress_is_written_at_most_every_half_second_and_flushed_at_the_end(org):
    # given a running run and a progress recorder on a clock the test moves
    run = dedupe_run_start(organization=org)
    background_run_claim(run_id=run.pk)
    clock = FakeClock()
    progress = RunProgress(run, interval=0.5, clock=clock)

    # when 1,000 updates arrive within 0.4 s
    for done in range(1, 1001):
        clock.now += 0.0004
        progress("scoring", done, 1000)

    # then only the first was written
    assert progress.writes == 1
    assert (run_row(run.pk).stage, run_row(run.pk).done) == ("scoring", 1)

    # when the clock passes the interval, the next update is written
    clock.now += 0.2
    progress("merging", 1, 5)
    assert progress.writes == 2
    assert (run_row(run.pk).stage, run_row(run.pk).done, run_row(run.pk).total) == ("merging", 1, 5)

    # and the latest unwritten value is written by flush(), once
    progress("merging", 5, 5)
    progress.flush()
    progress.flush()
    assert progress.writes == 3
    assert (run_row(run.pk).done, run_row(run.pk).total) == (5, 5)


@pytest.mark.django_db
def test_a_real_run_writes_progress_about_twice_a_second_at_most(org, inline_tasks):
    # given a queued run over a few hundred customers
    for n in range(60):
        add(org, f"Person{n}", "Jenkins", phone=f"512-555-{n:04d}")
        add(org, f"Person{n}", "Jenkins", phone=f"512-555-{n:04d}")
    org.refresh_from_db()
    run = dedupe_run_start(organization=org)

    # when its task runs, counting the UPDATEs of the run row
    table = BackgroundRun._meta.db_table
    updates: list[str] = []

    def count_run_updates(execute, sql, params, many, context):
        if sql.startswith(f'UPDATE "{table}"'):
            updates.append(sql)
        return execute(sql, params, many, context)

    started = time.monotonic()
    with connection.execute_wrapper(count_run_updates):
        organization_dedupe_task.apply(args=[run.pk])
    seconds = time.monotonic() - started

    # then it succeeded, and progress writes stayed within ~2 a second (plus claim and finish)
    row = run_row(run.pk)
    assert row.status == Status.SUCCEEDED, row.error
    assert row.result["merged"] == 60
    assert 3 <= len(updates) <= 2 * seconds + 4, (len(updates), seconds)


# --- the API ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_post_in_inline_mode_then_get_shows_the_run_succeeded_with_its_report(
    inline_tasks, api_client_for
):
    # given an organisation with one duplicate pair and a writing token
    org = factories.OrganizationFactory()
    found = people(org)
    client = api_client_for(org, scopes=["customers:write"])

    # when a run is started and then looked at
    started = client.post(RUNS, {}, format="json")
    detail = client.get(f"{RUNS}{started.json()['id']}/")
    listing = client.get(RUNS)

    # then it ran on commit, inside the request (inline mode), and reports what it did
    assert started.status_code == 202, started.json()
    assert detail.status_code == 200
    body = detail.json()
    assert (body["kind"], body["status"], body["error"]) == ("dedupe", "succeeded", "")
    assert body["params"] == {"merge": True}
    assert body["result"]["merged"] == 1
    assert body["result"]["merges"] == [CustomerMerge.objects.get().pk]
    assert body["started_at"] is not None
    assert body["finished_at"] is not None
    assert Customer.objects.get(pk=found["bill"].pk).merged_into == found["william"]
    assert [row["id"] for row in listing.json()["results"]] == [body["id"]]
    assert started.json()["status"] == "succeeded"


@pytest.mark.django_db
def test_post_while_a_run_is_active_is_a_409_in_the_error_envelope(org, api_client_for):
    # given a queued run
    active = factories.BackgroundRunFactory(organization=org, status=Status.QUEUED)
    client = api_client_for(org, scopes=["customers:write"])

    # when
    response = client.post(RUNS, {"merge": False}, format="json")

    # then
    assert response.status_code == 409
    assert response.json() == {
        "detail": "A dedupe run is already queued or running for this organisation.",
        "code": "run_in_progress",
        "run": active.pk,
    }
    assert BackgroundRun.objects.filter(organization=org).count() == 1


@pytest.mark.django_db
def test_post_with_a_read_token_or_as_a_technician_is_refused(org, api_client_for):
    # given
    reader = api_client_for(org, scopes=["customers:read"])
    technician = factories.MembershipFactory(organization=org, role=Membership.Role.TECHNICIAN)
    session = api_client_for(org)  # any client; log the technician in
    session.credentials()
    session.force_login(technician.user)

    # when
    by_token = reader.post(RUNS, {}, format="json")
    by_technician = session.post(RUNS, {}, format="json")
    read = reader.get(RUNS)

    # then
    assert by_token.status_code == 403
    assert by_technician.status_code == 403
    assert read.status_code == 200
    assert not BackgroundRun.objects.exists()


@pytest.mark.django_db
def test_a_dispatchers_session_starts_a_run_recorded_as_theirs(
    org, api_client_for, django_capture_on_commit_callbacks
):
    dispatcher = factories.MembershipFactory(organization=org, role=Membership.Role.DISPATCHER)
    client = api_client_for(org)
    client.credentials()
    client.force_login(dispatcher.user)

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(RUNS, {"merge": False}, format="json")

    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["params"], body["requested_by"]) == (
        "queued",
        {"merge": False},
        dispatcher.user.pk,
    )


@pytest.mark.django_db
def test_another_organisations_run_is_a_404_and_not_listed(org, other_org, api_client_for):
    theirs = factories.BackgroundRunFactory(organization=other_org)
    mine = factories.BackgroundRunFactory(organization=org)
    client = api_client_for(org, scopes=["customers:read"])

    foreign = client.get(f"{RUNS}{theirs.pk}/")
    own = client.get(f"{RUNS}{mine.pk}/")
    listing = client.get(RUNS)

    assert foreign.status_code == 404
    assert foreign.json() == {"detail": "Not found.", "code": "not_found"}
    assert own.status_code == 200
    assert [row["id"] for row in listing.json()["results"]] == [mine.pk]


# --- a real worker on Redis -------------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_the_routing_queue_moves_the_run_to_succeeded(broker_for_tests, api_client_for):
    # given broker mode, a duplicate pair and a run started through the API
    assert app.conf.task_always_eager is False
    org = factories.OrganizationFactory()
    found = people(org)
    client = api_client_for(org, scopes=["customers:write"])
    started = client.post(RUNS, {}, format="json")
    assert started.status_code == 202
    run_id = started.json()["id"]
    assert started.json()["status"] == "queued"  # sent to the broker, not run here
    seen = {"queued"}

    # when a worker consumes the routing queue (where the dedupe is routed)
    with start_worker(app, perform_ping_check=False, queues=["routing"], shutdown_timeout=20):
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            status = client.get(f"{RUNS}{run_id}/").json()["status"]
            seen.add(status)
            if status in {"succeeded", "failed"}:
                break
            time.sleep(0.05)

    # then the row moved to succeeded with the report, and the merge happened
    row = run_row(run_id)
    assert row.status == Status.SUCCEEDED, row.error
    assert row.result["merged"] == 1
    assert Customer.objects.get(pk=found["bill"].pk).merged_into == found["william"]
    assert seen <= {"queued", "running", "succeeded"}
