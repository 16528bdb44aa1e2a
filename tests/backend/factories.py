"""Factories for organisations, signer keys and signed supply events."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from backend.chain import eip712
from backend.chain.eip712 import Domain
from backend.chain.typed_data.events import SUPPLY_EVENT, location_bytes
from backend.orgs.schemas import DEFAULT_ORG_ROLES
from tests.backend.conftest import OPERATOR_TOKEN
from tests.context import context

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
#: GS1 company prefix of the sample passport's GTIN 08936045870013.
SAMPLE_PREFIX = "8936045"
#: Roles of organisations created without a list (the API default) and of certifiers.
DEFAULT_ROLES = [r.value for r in DEFAULT_ORG_ROLES]


@dataclass
class Org:
    slug: str
    admin: dict[str, str]
    writer: dict[str, str]
    signer: LocalAccount
    signer_id: int


def gtin_under(prefix: str, item: str = "87001") -> str:
    """A GTIN-14 (indicator 0) under GS1 company ``prefix``, with its check digit."""
    body = ("0" + prefix + item)[:13].ljust(13, "0")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def make_org(
    client: TestClient,
    slug: str,
    scopes: tuple[str, ...] = ("carrier",),
    prefixes: tuple[str, ...] = (),
    name: str | None = None,
    roles: tuple[str, ...] | None = None,
) -> Org:
    """An organisation with an admin key, a writer key and one registered signer.

    It is registered on chain with ``prefixes`` and ``roles`` (default: the API's
    default roles); an organisation with the certifier scope is also accredited as a
    certifier (the operator grants that role explicitly).
    """
    body: dict[str, Any] = {
        "slug": slug,
        "name": name or slug.title(),
        "gs1_prefixes": list(prefixes),
    }
    if roles is not None:
        body["roles"] = list(roles)
    elif "certifier" in scopes:
        body["roles"] = [*DEFAULT_ROLES, "certifier"]
    resp = client.post("/v1/orgs", json=body, headers=OPERATOR)
    assert resp.status_code == 201, resp.text
    admin = {"Authorization": f"Bearer {resp.json()['admin_key']['key']}"}
    key = client.post(f"/v1/orgs/{slug}/api-keys", json={"scopes": list(scopes)}, headers=admin)
    assert key.status_code == 201, key.text
    signer = Account.create()
    reg = client.post(
        f"/v1/orgs/{slug}/signers",
        json={"address": signer.address},
        headers=admin,
    )
    assert reg.status_code == 201, reg.text
    return Org(slug, admin, {"X-API-Key": key.json()["key"]}, signer, int(reg.json()["id"]))


def domain_of(client: TestClient) -> Domain:
    return context(client).loaded().events_domain


def signed_event(
    domain: Domain,
    signer: LocalAccount,
    *,
    occurred_at: int | None = None,
    kind: int = 0,
    location: str = "NLRTM",
    event_id: bytes | None = None,
    subject: bytes | None = None,
    also: tuple[LocalAccount, ...] = (),
    named: bool = False,
) -> dict[str, Any]:
    """A request body for POST /v1/events signed by ``signer`` over ``domain``.

    ``also``: further keys whose signatures follow (a multi-key wallet's signature);
    ``named``: the body names ``signer.address`` as its signer (a wallet's must).
    """
    msg = {
        "eventId": event_id or secrets.token_bytes(32),
        "subject": subject or secrets.token_bytes(32),
        "kind": kind,
        "occurredAt": occurred_at if occurred_at is not None else int(time.time()) - 60,
        "location": location_bytes(location),
        "payloadHash": secrets.token_bytes(32),
    }
    sig = b"".join(eip712.sign(k.key, domain, SUPPLY_EVENT, msg) for k in (signer, *also))
    named_signer = {"signer": signer.address} if named else {}
    return {
        **named_signer,
        "eventId": "0x" + msg["eventId"].hex(),
        "subject": "0x" + msg["subject"].hex(),
        "kind": kind,
        "occurredAt": msg["occurredAt"],
        "location": location,
        "payloadHash": "0x" + msg["payloadHash"].hex(),
        "signature": "0x" + sig.hex(),
    }


APP_ORIGIN = {"Origin": "http://testserver"}


def app_sign_in(api: TestClient, org: Org) -> None:
    """Sign ``org``'s signer key in to the field app (EIP-4361) on this client."""
    chain = context(api).chain
    context(api).settings.public_base_url = "http://testserver"
    issued = api.post(
        "/app/api/sign-in/message",
        json={"address": org.signer.address, "chainId": chain.chain_id},
        headers=APP_ORIGIN,
    ).json()["message"]
    signature = org.signer.sign_message(encode_defunct(text=issued)).signature.hex()
    resp = api.post(
        "/app/api/sign-in",
        json={"message": issued, "signature": "0x" + signature},
        headers=APP_ORIGIN,
    )
    assert resp.status_code == 200, resp.text
