"""Webhook delivery throughput: outbox → signed POST → delivery log, on SQLite.

``BENCH_WEBHOOKS`` messages (default 2,000) are written to the outbox with
``emit`` and delivered by one :class:`~backend.webhooks.delivery.Sender` to a
receiver on loopback answering 204. The baseline is the same number of POSTs of
the same bodies over the same kind of keep-alive client to the same receiver,
without the database or signing: the floor of what the HTTP round trips cost.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from backend.config import Settings
from backend.db import migrate
from backend.db.engine import make_engine, make_sessionmaker
from backend.orgs.models import Organisation
from backend.webhooks import service, signing
from backend.webhooks.delivery import Sender
from backend.webhooks.models import (
    DeliveryStatus,
    EventType,
    WebhookDelivery,
    WebhookSecret,
    WebhookSubscription,
)
from bench.common import Row, publish

N = int(os.environ.get("BENCH_WEBHOOKS", "2000"))


class _Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        migrate.upgrade(engine)
        sessions = make_sessionmaker(engine)
        settings = Settings(environment="test", database_url="sqlite://", webhook_batch_size=500)
        with sessions() as session:
            org = Organisation(slug="bench", name="Bench")
            session.add(org)
            session.flush()
            sub = WebhookSubscription(
                org_id=org.id, url=url, event_types=[str(EventType.SHIPMENT_OVERDUE)]
            )
            session.add(sub)
            session.flush()
            secret = signing.new_secret()
            session.add(WebhookSecret(subscription_id=sub.id, secret=secret))
            session.commit()
            org_id = org.id

        started = time.perf_counter()
        with sessions() as session:
            for i in range(N):
                service.emit(
                    session,
                    org_ids=[org_id],
                    event_type=EventType.SHIPMENT_OVERDUE,
                    data={"shipment_id": "0x" + f"{i:064x}", "milestone": "PICKED_UP"},
                    cause=f"bench:{i}",
                )
            session.commit()
        emit_rate = N / (time.perf_counter() - started)

        sender = Sender(sessions=sessions, settings=settings, owner="bench")
        started = time.perf_counter()
        while sender.deliver_due():
            pass
        deliver_rate = N / (time.perf_counter() - started)
        sender.close()
        with sessions() as session:
            delivered = (
                session.query(WebhookDelivery)
                .filter(WebhookDelivery.status == DeliveryStatus.DELIVERED)
                .count()
            )
        assert delivered == N, delivered
        engine.dispose()

    body = b'{"data":{"milestone":"PICKED_UP","shipment_id":"0x00"},"type":"shipment.overdue"}'
    with httpx.Client(timeout=10) as client:
        started = time.perf_counter()
        for i in range(N):
            client.post(url, content=body, headers={"webhook-id": f"msg_{i}"})
        raw_rate = N / (time.perf_counter() - started)
    server.shutdown()

    publish(
        "webhooks",
        f"Webhook delivery, {N:,} messages, SQLite, one sender",
        [
            Row("outbox writes (emit)", emit_rate, "messages/s"),
            Row(
                "signed deliveries with log",
                deliver_rate,
                "deliveries/s",
                raw_rate,
                "plain POSTs/s to the same receiver",
            ),
        ],
    )


if __name__ == "__main__":
    main()
