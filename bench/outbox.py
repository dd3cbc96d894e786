"""Outbox throughput and exactly-once-at-the-receiver, with real Celery workers.

    REDIS_URL=redis://127.0.0.1:6379/9 \
    DATABASE_URL=postgres://postgres@127.0.0.1/dispatchnode_bench \
        .venv/bin/python bench/outbox.py --events 10000

Emits N events on a topic with three subscribers (bench/outbox_subscribers.py), each of which
POSTs the event to its own local receiver with an idempotency key; the third receiver answers
503 half the time. One Celery worker on the `outbox` queue at the default concurrency delivers
them, kicked on commit, with this script standing in for beat's sweep (every second). Prints
the time, events and deliveries per second, and what the receivers saw: lost (never accepted)
and duplicated (accepted twice) keys, which must both be 0.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import _common  # noqa: E402, F401  (local debug settings unless chosen)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatchnode.settings")


class Receiver:
    """A local HTTP endpoint that accepts each idempotency key once and counts everything."""

    def __init__(self, *, fail_ratio: float = 0.0, seed: int = 7) -> None:
        self.accepted: Counter[str] = Counter()
        self.refused = 0
        self.fail_ratio = fail_ratio
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = self.headers.get("Idempotency-Key", "")
                with owner._lock:
                    fail = owner._random.random() < owner.fail_ratio
                    if fail:
                        owner.refused += 1
                    else:
                        owner.accepted[key] += 1
                status, body = (503, b"busy") if fail else (200, b'{"ok": true}')
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--per-transaction", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        sys.exit("bench/outbox.py needs REDIS_URL (and DATABASE_URL for PostgreSQL).")

    receivers = {
        "bench.crm": Receiver(),
        "bench.accounting": Receiver(),
        "bench.flaky": Receiver(fail_ratio=0.5),
    }
    os.environ.update(
        {
            "BENCH_RECEIVER_CRM": receivers["bench.crm"].url,
            "BENCH_RECEIVER_ACCOUNTING": receivers["bench.accounting"].url,
            "BENCH_RECEIVER_FLAKY": receivers["bench.flaky"].url,
            # Short retry waits and enough attempts that half-failing never dead-letters.
            "OUTBOX_RETRY_BASE_SECONDS": "0.2",
            "OUTBOX_RETRY_MAX_SECONDS": "2",
            "OUTBOX_MAX_ATTEMPTS": "40",
        }
    )

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    import bench.outbox_subscribers as subscribers
    from dispatchnode.accounts.models import Organization
    from dispatchnode.core.models import OutboxDelivery, OutboxEvent
    from dispatchnode.core.outbox import outbox_emit
    from dispatchnode.core.tasks import outbox_relay

    call_command("migrate", verbosity=0)
    org, _ = Organization.objects.get_or_create(
        slug="bench-outbox", defaults={"name": "Outbox bench", "timezone": "America/Chicago"}
    )
    OutboxEvent.objects.filter(organization=org).delete()

    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "bench.outbox_worker", "worker"),
            *("-Q", "outbox", "--concurrency", str(args.concurrency), "--loglevel", "ERROR"),
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        start_new_session=True,
    )
    try:
        started = time.monotonic()
        for first in range(0, args.events, args.per_transaction):
            with transaction.atomic():
                for n in range(first, min(first + args.per_transaction, args.events)):
                    outbox_emit(organization=org, topic=subscribers.TOPIC, payload={"n": n})
        emitted = time.monotonic() - started
        print(f"emitted {args.events:,} events in {emitted:.1f} s", flush=True)

        expected = args.events * len(receivers)
        deliveries = OutboxDelivery.objects.filter(organization=org)
        next_kick = next_report = 0.0
        while time.monotonic() - started < args.timeout:
            done = deliveries.exclude(status=OutboxDelivery.Status.PENDING).count()
            now = time.monotonic()
            if now >= next_report:
                bar = "#" * int(30 * done / expected)
                print(f"  [{bar:<30}] {done:,}/{expected:,} deliveries", flush=True)
                next_report = now + 5
            if done >= expected:
                break
            if now >= next_kick:  # what beat's sweep does, every second here
                outbox_relay.apply_async(queue="outbox")
                next_kick = now + 1
            time.sleep(0.2)
        elapsed = time.monotonic() - started
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)

    statuses = Counter(deliveries.values_list("status", flat=True))
    report = {"events": args.events, "subscribers": len(receivers), "seconds": round(elapsed, 1)}
    report["events_per_second"] = round(args.events / elapsed, 1)
    report["deliveries_per_second"] = round(expected / elapsed, 1)
    report["deliveries"] = dict(statuses)
    for key, receiver in receivers.items():
        wanted = {
            f"{key}:{pk}"
            for pk in OutboxEvent.objects.filter(organization=org).values_list("pk", flat=True)
        }
        report[key] = {
            "accepted": sum(receiver.accepted.values()),
            "refused_503": receiver.refused,
            "lost": len(wanted - set(receiver.accepted)),
            "duplicated": sum(1 for count in receiver.accepted.values() if count > 1),
        }
    print(json.dumps(report, indent=2))
    OutboxEvent.objects.filter(organization=org).delete()


if __name__ == "__main__":
    main()
