"""Delivery of queued webhook messages: claim, sign, POST, log, retry or give up.

A delivery is claimed with a lease (a conditional ``UPDATE``), so several
workers may run against one database without sending one delivery twice at
once. Each attempt is signed afresh (Standard Webhooks receivers refuse
timestamps older than five minutes) with the same ``webhook-id``. A 2xx answer
delivers; anything else (status, timeout, refused connection, a redirect, which
is never followed) schedules the next attempt after ``webhook_retry_schedule``
seconds. When the schedule runs out the delivery fails and the subscription is
disabled, with the reason kept for its owner to read.
"""

from __future__ import annotations

import functools
import json
import logging
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from backend.config import Settings
from backend.db.base import utcnow
from backend.errors import InvalidInput
from backend.webhooks import service, signing
from backend.webhooks.models import (
    DeliveryStatus,
    SubscriptionStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookMessage,
    WebhookSubscription,
)
from backend.webhooks.sealing import SecretBox, SecretUnavailable

log = logging.getLogger(__name__)

USER_AGENT = "Waymark-Webhooks/1"
EXCERPT = 500


def body_of(msg: WebhookMessage) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(msg.payload, separators=(",", ":"), sort_keys=True).encode()


def describe(delivery: WebhookDelivery) -> str:
    if delivery.last_status_code is not None:
        return f"HTTP {delivery.last_status_code}"
    return delivery.last_error or "no answer"


@functools.cache
def _tls() -> ssl.SSLContext:
    """One verifying TLS context for every sender: loading the CA bundle costs ~10 ms each time."""
    return httpx.create_ssl_context()


class Sender:
    """Sends due deliveries; ``deliver_due()`` is one round."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        settings: Settings,
        owner: str,
        client: httpx.Client | None = None,
        clock: Callable[[], datetime] = utcnow,
        resolver: service.Resolver = service.resolve_host,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.owner = owner
        self.clock = clock
        self.resolver = resolver
        self.box = SecretBox.from_settings(settings)
        self.client = client or httpx.Client(
            timeout=settings.webhook_timeout_seconds, follow_redirects=False, verify=_tls()
        )

    def close(self) -> None:
        self.client.close()

    def due_ids(self, session: Session, limit: int) -> list[int]:
        now = self.clock()
        return list(
            session.scalars(
                select(WebhookDelivery.id)
                .join(
                    WebhookSubscription,
                    WebhookSubscription.id == WebhookDelivery.subscription_id,
                )
                .where(
                    WebhookDelivery.status == DeliveryStatus.PENDING,
                    WebhookDelivery.next_attempt_at <= now,
                    WebhookSubscription.status == SubscriptionStatus.ACTIVE,
                    or_(
                        WebhookDelivery.claimed_by.is_(None),
                        WebhookDelivery.lease_until < now,
                    ),
                )
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(limit)
            )
        )

    def deliver_due(self) -> int:
        """Attempt every due delivery once, ``webhook_concurrency`` at a time; how many."""
        with self.sessions() as session:
            ids = self._claim_many(session, self.due_ids(session, self.settings.webhook_batch_size))
        if not ids:
            return 0

        def one(delivery_id: int) -> None:
            with self.sessions() as session:
                self.attempt(session, delivery_id)

        # One slow or silent receiver must not hold up the others: attempts run in
        # parallel, each with its own session and timeout.
        workers = min(self.settings.webhook_concurrency, len(ids))
        if workers <= 1:
            for delivery_id in ids:
                one(delivery_id)
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="webhook") as pool:
                list(pool.map(one, ids))
        return len(ids)

    def _claim_many(self, session: Session, ids: list[int]) -> list[int]:
        """Lease ``ids`` to this sender in one statement; the ones it got."""
        if not ids:
            return []
        now = self.clock()
        lease = now + timedelta(seconds=self.settings.webhook_timeout_seconds * 3 + 30)
        session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id.in_(ids),
                WebhookDelivery.status == DeliveryStatus.PENDING,
                or_(WebhookDelivery.claimed_by.is_(None), WebhookDelivery.lease_until < now),
            )
            .values(claimed_by=self.owner, lease_until=lease)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        return list(
            session.scalars(
                select(WebhookDelivery.id)
                .where(WebhookDelivery.id.in_(ids), WebhookDelivery.claimed_by == self.owner)
                .order_by(WebhookDelivery.id)
            )
        )

    def _post(
        self, url: str, address: str | None, body: bytes, headers: dict[str, str]
    ) -> httpx.Response:
        """POST to ``url``, connecting to ``address`` (the vetted one) when given.

        The request keeps the URL's host in ``Host`` and as the TLS server name, so
        virtual hosting and certificate checks see the name the subscriber gave.
        """
        if address is None:
            return self.client.post(url, content=body, headers=headers)
        target = httpx.URL(url)
        return self.client.post(
            target.copy_with(host=address),
            content=body,
            headers={**headers, "host": target.netloc.decode("ascii")},
            extensions={"sni_hostname": target.host},
        )

    def attempt(self, session: Session, delivery_id: int) -> None:
        """One signed POST of a claimed delivery, logged; commits."""
        d = session.get(WebhookDelivery, delivery_id)
        if d is None:
            return
        msg = session.get(WebhookMessage, d.message_id)
        sub = session.get(WebhookSubscription, d.subscription_id)
        if msg is None or sub is None:
            return
        now = self.clock()
        body = body_of(msg)
        status_code: int | None = None
        error: str | None = None
        excerpt = ""
        started = time.perf_counter()
        try:
            keys = service.live_secrets(session, sub.id, now=now, box=self.box)
            headers = {
                # The signed timestamp is the wall clock: receivers compare it with theirs.
                **signing.headers(keys, msg_id=msg.msg_id, timestamp=int(time.time()), body=body),
                "content-type": "application/json",
                "user-agent": USER_AGENT,
            }
            address = service.check_target(sub.url, self.settings, resolver=self.resolver)
            resp = self._post(sub.url, address, body, headers)
            status_code = resp.status_code
            excerpt = resp.text[:EXCERPT]
            if resp.is_redirect:
                error = f"redirect to {resp.headers.get('location', '?')[:200]} (not followed)"
        except InvalidInput as exc:
            error = exc.detail
        except SecretUnavailable as exc:
            error = f"signing secret unavailable: {exc}"
        except httpx.TimeoutException:
            error = f"timeout after {self.settings.webhook_timeout_seconds:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:EXCERPT]
        duration_ms = int((time.perf_counter() - started) * 1000)
        session.add(
            WebhookAttempt(
                delivery_id=d.id,
                attempted_at=now,
                status_code=status_code,
                error=error,
                duration_ms=duration_ms,
                response_excerpt=excerpt,
            )
        )
        d.attempts += 1
        d.last_attempt_at = now
        d.last_status_code = status_code
        d.last_error = error
        d.claimed_by = None
        d.lease_until = None
        if status_code is not None and 200 <= status_code < 300:
            d.status = DeliveryStatus.DELIVERED
            d.delivered_at = now
            d.next_attempt_at = None
        else:
            schedule = self.settings.webhook_retry_schedule
            if d.attempts <= len(schedule):
                d.next_attempt_at = now + timedelta(seconds=schedule[d.attempts - 1])
            else:
                d.status = DeliveryStatus.FAILED
                d.next_attempt_at = None
                first = d.created_at
                span = (now - first).total_seconds() / 3600 if first else 0.0
                if sub.status == SubscriptionStatus.ACTIVE:
                    service.disable(
                        sub,
                        reason=(
                            f"message {msg.msg_id} was not accepted after {d.attempts} "
                            f"attempts over {span:.1f} h; last answer: {describe(d)}"
                        ),
                    )
                    log.warning("webhook subscription %s disabled: %s", sub.id, sub.disabled_reason)
        session.commit()
