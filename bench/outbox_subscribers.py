"""Three outbox subscribers for `bench/outbox.py`: each POSTs the event to a local receiver with
an idempotency key, through the real HTTP client, so the receivers can count what arrived."""

from __future__ import annotations

import os

from dispatchnode.core.http import HttpClient
from dispatchnode.core.outbox import outbox_register

TOPIC = "bench.outbox"
RECEIVERS = {
    "bench.crm": os.environ.get("BENCH_RECEIVER_CRM", ""),
    "bench.accounting": os.environ.get("BENCH_RECEIVER_ACCOUNTING", ""),
    "bench.flaky": os.environ.get("BENCH_RECEIVER_FLAKY", ""),
}


_clients: dict[str, HttpClient] = {}


def _subscriber(key: str):
    def deliver(event) -> None:
        # One client per worker process and receiver, as a connector keeps its session.
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = HttpClient(
                provider=key, label=key, base_url=RECEIVERS[key], timeout=5.0
            )
        client.post_json("/events", json=event.payload, idempotency_key=f"{key}:{event.pk}")

    deliver.__name__ = key.replace(".", "_")
    return outbox_register(TOPIC, key=key)(deliver)


for _key in RECEIVERS:
    _subscriber(_key)
