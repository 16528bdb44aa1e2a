"""Webhook signing secrets at rest, and the address a delivery connects to.

Attacks: a database dump (or a read-only SQL injection) hands out every
subscriber's signing secret, so anyone could forge notifications they trust; a
sealed secret copied from one row to another signs for the wrong subscription;
a host name that resolves to a public address when checked and to an internal
one when connected (DNS rebinding) turns the sender against the service's own
network.
"""

from __future__ import annotations

import secrets

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from standardwebhooks import Webhook

from backend.chain import ChainClient
from backend.config import Settings, SettingsRefused
from backend.main import create_app
from backend.webhooks.delivery import Sender
from backend.webhooks.models import EventType, WebhookDelivery, WebhookSecret, WebhookSubscription
from backend.webhooks.sealing import PREFIX, SecretBox
from tests.backend.conftest import api_settings
from tests.backend.factories import Org, make_org
from tests.backend.webhooks.conftest import Receiver
from tests.backend.webhooks.factories import emit, subscribe
from tests.conftest import deployment_for
from tests.context import context

OLD_KEY = "old-sealing-key-" + "o" * 32
NEW_KEY = "new-sealing-key-" + "n" * 32


def _app(db_url: str, tester: ChainClient, **overrides: object) -> TestClient:
    settings = api_settings(db_url, **overrides)
    return TestClient(create_app(settings, tester, deployment=deployment_for(tester)))


def _deliver(client: TestClient, *, settings: Settings | None = None, **kw: object) -> int:
    """One round of the sender against ``client``'s database; how many it attempted."""
    sender = Sender(
        sessions=context(client).sessions,
        settings=settings or context(client).settings,
        owner="sealing-test",
        client=httpx.Client(timeout=2.0, follow_redirects=False),
        **kw,  # type: ignore[arg-type]
    )
    try:
        return sender.deliver_due()
    finally:
        sender.close()


def _stored(client: TestClient) -> list[WebhookSecret]:
    with context(client).sessions() as session:
        rows = list(session.scalars(select(WebhookSecret).order_by(WebhookSecret.id)))
        session.expunge_all()
        return rows


@pytest.fixture
def seller(api: TestClient) -> Org:
    return make_org(api, "seller", ("seller",))


def test_the_database_holds_no_secret_that_signs(
    api: TestClient, seller: Org, receiver: Receiver
) -> None:
    sub = subscribe(api, seller, receiver.url, EventType.ESCROW_RELEASED)
    issued = str(sub["secret"])
    (row,) = _stored(api)
    assert row.secret.startswith(PREFIX)
    assert issued not in row.secret
    assert issued.removeprefix("whsec_") not in row.secret
    # The subscriber's secret still verifies what is sent.
    receiver.start()
    emit(api, seller, EventType.ESCROW_RELEASED, 1)
    assert _deliver(api) == 1
    got = receiver.received[-1]
    Webhook(issued).verify(got.body, got.headers)


def test_a_sealed_secret_copied_to_another_subscription_does_not_sign(
    api: TestClient, seller: Org, receiver: Receiver
) -> None:
    subscribe(api, seller, receiver.url, EventType.ESCROW_RELEASED)
    victim = subscribe(api, seller, receiver.url, EventType.SHIPMENT_OVERDUE)
    first, second = _stored(api)
    with context(api).sessions() as session:
        session.execute(
            update(WebhookSecret).where(WebhookSecret.id == second.id).values(secret=first.secret)
        )
        session.commit()
    receiver.start()
    emit(api, seller, EventType.SHIPMENT_OVERDUE, 1)
    assert _deliver(api) == 1
    assert receiver.received == []  # nothing signed under the wrong secret
    with context(api).sessions() as session:
        delivery = session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.subscription_id == victim["id"])
        ).one()
        assert delivery.last_error is not None
        assert "signing secret unavailable" in delivery.last_error
        assert delivery.next_attempt_at is not None  # retried, not lost


def test_a_new_sealing_key_reseals_at_start_and_the_old_one_can_then_go(
    db_url: str, db_engine: Engine, tester: ChainClient, receiver: Receiver
) -> None:
    with _app(db_url, tester, webhook_secrets_keys=OLD_KEY) as first:
        org = make_org(first, "rotator", ("seller",))
        sub = subscribe(first, org, receiver.url, EventType.ESCROW_RELEASED)
        (before,) = _stored(first)
    assert SecretBox([OLD_KEY]).is_current(before.secret)
    with _app(db_url, tester, webhook_secrets_keys=f"{NEW_KEY},{OLD_KEY}") as second:
        (after,) = _stored(second)
    assert SecretBox([NEW_KEY]).is_current(after.secret)
    # The old key is gone from the settings: the secret still signs.
    with _app(db_url, tester, webhook_secrets_keys=NEW_KEY) as third:
        receiver.start()
        emit(third, org, EventType.ESCROW_RELEASED, 1)
        assert _deliver(third) == 1
    got = receiver.received[-1]
    Webhook(str(sub["secret"])).verify(got.body, got.headers)


def test_a_secret_stored_in_clear_before_sealing_is_sealed_at_start(
    db_url: str, db_engine: Engine, tester: ChainClient, receiver: Receiver
) -> None:
    clear = "whsec_" + "A" * 43 + "="
    with _app(db_url, tester) as first:
        org = make_org(first, "legacy", ("seller",))
        subscribe(first, org, receiver.url, EventType.ESCROW_RELEASED)
        with context(first).sessions() as session:
            session.execute(update(WebhookSecret).values(secret=clear))
            session.commit()
    with _app(db_url, tester) as second:
        (row,) = _stored(second)
        assert row.secret.startswith(PREFIX)
        box = SecretBox.from_settings(context(second).settings)
        assert box.open(row.secret, subscription_id=row.subscription_id) == clear


def test_a_real_chain_refuses_to_start_without_sealing_keys() -> None:
    common: dict[str, object] = {
        "chain_backend": "rpc",
        "rpc_url": "http://127.0.0.1:1",
        "relayer_private_key": "0x" + secrets.token_hex(32),
        "admin_token": "s" * 32,
        "_env_file": None,
    }
    with pytest.raises(SettingsRefused, match="WAYMARK_WEBHOOK_SECRETS_KEYS is required"):
        create_app(Settings(**common))  # type: ignore[arg-type]
    with pytest.raises(SettingsRefused, match="WAYMARK_WEBHOOK_SECRETS_KEYS key 1 has 5"):
        create_app(Settings(**common, webhook_secrets_keys="short"))  # type: ignore[arg-type]
    with pytest.raises(SettingsRefused, match="WAYMARK_CREDENTIAL_SEALING_KEYS is required"):
        create_app(Settings(**common, webhook_secrets_keys=NEW_KEY))  # type: ignore[arg-type]
    create_app(
        Settings(**common, webhook_secrets_keys=NEW_KEY, credential_sealing_keys=OLD_KEY)  # type: ignore[arg-type]
    )


@pytest.fixture
def named_subscription(api: TestClient, seller: Org, receiver: Receiver) -> str:
    """A subscription whose URL names a host only the test's resolver knows."""
    sub = subscribe(api, seller, receiver.url, EventType.ESCROW_RELEASED)
    host = "hooks.rebinding.test"
    with context(api).sessions() as session:
        session.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id == sub["id"])
            .values(url=f"http://{host}:{receiver.port}/hooks")
        )
        session.commit()
    return host


def test_a_delivery_connects_to_the_address_it_vetted_not_to_a_second_lookup(
    api: TestClient, seller: Org, receiver: Receiver, named_subscription: str
) -> None:
    lookups: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    receiver.start()
    emit(api, seller, EventType.ESCROW_RELEASED, 1)
    assert _deliver(api, resolver=resolver) == 1
    # One lookup, checked, and the connection went to its answer (the system resolver
    # does not know the name), with the subscriber's host name kept in Host.
    assert lookups == [named_subscription]
    (got,) = receiver.received
    assert got.headers["host"] == f"{named_subscription}:{receiver.port}"


def test_a_name_that_resolves_to_an_internal_address_is_not_called_in_production(
    db_url: str, db_engine: Engine, tester: ChainClient, receiver: Receiver
) -> None:
    with _app(db_url, tester) as client:
        org = make_org(client, "rebinder", ("seller",))
        sub = subscribe(client, org, receiver.url, EventType.ESCROW_RELEASED)
        with context(client).sessions() as session:
            session.execute(
                update(WebhookSubscription)
                .where(WebhookSubscription.id == sub["id"])
                .values(url=f"http://hooks.rebinding.test:{receiver.port}/hooks")
            )
            session.commit()
        receiver.start()
        emit(client, org, EventType.ESCROW_RELEASED, 1)
        strict = context(client).settings.model_copy(
            update={"webhook_allow_private_targets": False}
        )
        loopback = ["127.0.0.1"]
        assert _deliver(client, settings=strict, resolver=lambda host, port: loopback) == 1
        assert receiver.received == []
        with context(client).sessions() as session:
            delivery = session.scalars(select(WebhookDelivery)).one()
            assert delivery.last_error is not None
            assert "non-public address (127.0.0.1)" in delivery.last_error
