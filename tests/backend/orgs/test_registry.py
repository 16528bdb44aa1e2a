"""OrganisationRegistry as the authority: the operator's records mirrored on chain, read back."""

from __future__ import annotations

import copy
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.chain import ChainClient, ContractRevert
from backend.chain.organisations import KeyGrant, OrganisationRegistryClient, Role, org_id_for
from backend.db.base import utcnow
from backend.errors import Forbidden
from backend.gs1.keys import passport_id
from backend.orgs import registry as org_registry
from backend.orgs.authority import signer_keys
from backend.orgs.directory import party
from backend.orgs.models import (
    Organisation,
    RegistryKey,
    RegistryOrganisation,
    SignerKey,
)
from backend.orgs.schemas import OrganisationCreate
from backend.orgs.service import create_org
from backend.qr.bundle.verify import Trust, verify_bundle
from backend.relayer.models import RelayRequest, RelayStatus
from backend.relayer.service import Relayer
from tests.backend.factories import OPERATOR, domain_of, make_org, signed_event
from tests.backend.qr.flow import Flow, make_flow
from tests.backend.shipments.factories import Service
from tests.conftest import deployment_for
from tests.context import context, workers


def _registry(api: TestClient, chain: ChainClient) -> OrganisationRegistryClient:
    address = context(api).loaded().deployment.address("OrganisationRegistry")
    return OrganisationRegistryClient(chain, address)


def test_operators_organisation_and_keys_are_registered_on_chain_and_read_back(
    svc: Service,
) -> None:
    acme = make_org(svc.api, "acme", name="Acme Freight Ltd")
    svc.settle()
    registry = _registry(svc.api, svc.chain)
    on_chain = registry.organisation(org_id_for("acme"))
    assert on_chain is not None
    assert on_chain.legal_name == "Acme Freight Ltd"
    key = registry.key(acme.signer.address)
    assert key is not None
    assert key.org_id == org_id_for("acme")
    assert Role.CARRIER in key.roles
    with context(svc.api).sessions() as session:
        row = session.get(RegistryOrganisation, "0x" + org_id_for("acme").hex())
        assert row is not None
        assert row.legal_name == "Acme Freight Ltd"
        named = party(session=session, address=acme.signer.address)
        assert named.verified
        assert named.name == "Acme Freight Ltd"
        assert named.added_block == key.added_at
    me = svc.api.get("/v1/orgs/me", headers=acme.writer).json()
    assert me["chain_org_id"] == "0x" + org_id_for("acme").hex()


def test_key_revoked_on_chain_signs_nothing_though_the_service_record_says_active(
    svc: Service,
) -> None:
    acme = make_org(svc.api, "acme")
    svc.settle()
    # The registrar (or an organisation admin) revokes the key on chain directly.
    _registry(svc.api, svc.chain).revoke_key(acme.signer.address)
    svc.settle()
    resp = svc.api.post(
        "/v1/events", json=signed_event(domain_of(svc.api), acme.signer), headers=acme.writer
    )
    assert resp.status_code == 403
    assert resp.json()["detail"].startswith(
        f"key validity rule: signer {acme.signer.address} was revoked in OrganisationRegistry"
    )


def test_service_revocation_is_mirrored_on_chain(svc: Service) -> None:
    acme = make_org(svc.api, "acme")
    svc.settle()
    resp = svc.api.post(
        f"/v1/orgs/acme/signers/{acme.signer_id}/revoke", json={}, headers=acme.admin
    )
    assert resp.status_code == 200
    svc.settle()
    key = _registry(svc.api, svc.chain).key(acme.signer.address)
    assert key is not None
    assert key.revoked


def test_reorg_rollback_forgets_registry_rows_from_the_fork(svc: Service) -> None:
    acme = make_org(svc.api, "acme")
    svc.settle()
    with context(svc.api).sessions() as session:
        key = session.get(RegistryKey, acme.signer.address)
        assert key is not None
        org_registry.rollback(session, key.block_number)
        session.expire_all()
        assert session.get(RegistryKey, acme.signer.address) is None
        # The registration sits in an earlier block than the key: it survives the fork.
        assert session.get(RegistryOrganisation, "0x" + org_id_for("acme").hex()) is not None
        session.rollback()


def test_bundle_names_are_checked_against_the_registry(
    api: TestClient, tester: ChainClient
) -> None:
    flow: Flow = make_flow(api, tester)
    link, _ = flow.issue(lot="RB1", serial="SN-RB")
    pid = passport_id(link.gtin, link.lot, link.serial)
    flow.ship(pid)
    flow.sign_events(pid, count=1, by=flow.carrier)
    flow.anchor()
    bundle: dict[str, Any] = api.get(f"/proof-bundle/0x{pid.hex()}.json").json()
    assert "OrganisationRegistry" in bundle["contracts"]
    trust = Trust.from_manifest(deployment_for(tester).to_json())
    report = verify_bundle(bundle, tester.rpc, trust)
    assert report.ok, report.failures()
    # The carrier speaks for the passport as a party of a shipment carrying it.
    assert bundle["events"][0]["authorisation"]["basis"] == "shipment_party"
    keys = [c for c in report.checks if c.id == "event.signer_key"]
    assert keys
    assert all("organisation" in c.detail for c in keys)
    # Names in the bundle are hints: the verdict comes from the registry, not from them.
    hinted = copy.deepcopy(bundle)
    hinted["events"][0]["signed_by"]["organisation"] = "Famous Brand Inc"
    assert verify_bundle(hinted, tester.rpc, trust).ok
    # Claiming the carrier is the issuer does not hold: it is not the GTIN's owner.
    forged = copy.deepcopy(bundle)
    forged["events"][0]["authorisation"] = {"basis": "issuer"}
    failed = verify_bundle(forged, tester.rpc, trust).failures()
    assert [c.id for c in failed] == ["event.authorised"]
    with context(api).sessions() as session:
        assert session.scalar(
            select(RegistryKey).where(RegistryKey.key == flow.carrier.signer.address)
        )


# -- the registry read model decides which organisation a key speaks for --


def test_key_added_on_chain_only_signs_for_its_organisation(svc: Service) -> None:
    acme = make_org(svc.api, "acme")
    svc.settle()
    # An organisation's key added on chain directly (not through the service).
    direct = Account.create()
    _registry(svc.api, svc.chain).add_key(
        KeyGrant(org_id_for("acme"), direct.address, Role.CARRIER)
    )
    before = svc.api.post(
        "/v1/events", json=signed_event(domain_of(svc.api), direct), headers=acme.writer
    )
    assert before.status_code == 403  # not indexed yet: the service does not know it
    svc.settle()
    resp = svc.api.post(
        "/v1/events", json=signed_event(domain_of(svc.api), direct), headers=acme.writer
    )
    assert resp.status_code == 202, resp.text
    assert resp.json()["signer"] == direct.address


def test_bundle_shows_the_registry_window_of_a_key_added_on_chain_only(
    api: TestClient, tester: ChainClient
) -> None:
    """A key the service never registered has no service window; the bundle shows the
    registry's (added at block, revoked at block), so the anchor block can be checked."""
    flow: Flow = make_flow(api, tester)
    link, _ = flow.issue(lot="CW1", serial="SN-CW")
    pid = passport_id(link.gtin, link.lot, link.serial)
    direct = Account.create()
    receipt = _registry(api, tester).add_key(
        KeyGrant(org_id_for(flow.seller.slug), direct.address, Role.ISSUER)
    )
    flow.svc.settle()
    flow.sign_events(pid, count=1, by=replace(flow.seller, signer=direct))
    flow.anchor()
    bundle: dict[str, Any] = api.get(f"/proof-bundle/0x{pid.hex()}.json").json()
    (event,) = [e for e in bundle["events"] if e["signer"] == direct.address]
    registry = context(api).loaded().deployment.address("OrganisationRegistry")
    assert event["signer_validity"] == {
        "valid_from": None,
        "revoked_at": None,
        "source": "OrganisationRegistry",
        "registry": {
            "contract": registry,
            "organisation_id": "0x" + org_id_for(flow.seller.slug).hex(),
            "roles": ["issuer"],
            "valid_from_block": receipt.block_number,
            "revoked_at_block": None,
            "added_in": receipt.tx_hash,
        },
    }
    assert event["anchor"]["block_number"] >= receipt.block_number
    # A key the service registered shows both windows.
    flow.sign_events(pid, count=1)
    flow.anchor()
    bundle = api.get(f"/proof-bundle/0x{pid.hex()}.json").json()
    (own,) = [e for e in bundle["events"] if e["signer"] == flow.seller.signer.address]
    assert own["signer_validity"]["source"] == "service signer record"
    assert own["signer_validity"]["valid_from"]
    assert own["signer_validity"]["registry"]["valid_from_block"] > 0


def test_key_on_chain_for_another_organisation_does_not_sign_for_this_one(
    svc: Service,
) -> None:
    make_org(svc.api, "acme")
    mallory = make_org(svc.api, "mallory")
    svc.settle()
    direct = Account.create()
    _registry(svc.api, svc.chain).add_key(
        KeyGrant(org_id_for("acme"), direct.address, Role.CARRIER)
    )
    svc.settle()
    resp = svc.api.post(
        "/v1/events", json=signed_event(domain_of(svc.api), direct), headers=mallory.writer
    )
    assert resp.status_code == 403
    assert resp.json()["detail"] == f"{direct.address} is not a signer key of this organisation"


def test_key_only_in_the_service_table_signs_nothing(svc: Service) -> None:
    acme = make_org(svc.api, "acme")
    svc.settle()
    # A signer record the registry never saw and whose addition is not on its way
    # (e.g. kept from before the registry): the chain does not vouch for it.
    stray = Account.create()
    with context(svc.api).sessions() as session:
        org = session.scalar(select(Organisation).where(Organisation.slug == "acme"))
        assert org is not None
        session.add(SignerKey(org_id=org.id, address=stray.address, valid_from=utcnow()))
        session.commit()
    resp = svc.api.post(
        "/v1/events", json=signed_event(domain_of(svc.api), stray), headers=acme.writer
    )
    assert resp.status_code == 403
    assert resp.json()["detail"].startswith(
        f"key validity rule: signer {stray.address} is not a key of this organisation in "
        "OrganisationRegistry"
    )


def test_key_whose_addition_is_queued_signs_until_the_chain_refuses_it(svc: Service) -> None:
    acme = make_org(svc.api, "acme")
    # Not settled: the key's addKey is still in the relayer's queue.
    resp = svc.api.post(
        "/v1/events", json=signed_event(domain_of(svc.api), acme.signer), headers=acme.writer
    )
    assert resp.status_code == 202, resp.text
    with context(svc.api).sessions() as session:
        request = session.scalar(
            select(RelayRequest).where(
                RelayRequest.purpose == "org_key_add", RelayRequest.ref_id == acme.signer_id
            )
        )
        assert request is not None
        request.status = RelayStatus.FAILED
        session.commit()
    resp = svc.api.post(
        "/v1/events", json=signed_event(domain_of(svc.api), acme.signer), headers=acme.writer
    )
    assert resp.status_code == 403


def test_key_without_the_issuer_role_on_chain_is_refused_as_issuer(svc: Service) -> None:
    make_org(svc.api, "acme", scopes=("seller",), prefixes=("4006381",))
    svc.settle()
    carrier_only = Account.create()
    _registry(svc.api, svc.chain).add_key(
        KeyGrant(org_id_for("acme"), carrier_only.address, Role.CARRIER)
    )
    svc.settle()
    with context(svc.api).sessions() as session:
        window = signer_keys(session=session, org_id=_org_id(session, "acme"))[carrier_only.address]
    with pytest.raises(Forbidden, match="does not hold the role issuer in OrganisationRegistry"):
        window.require_active(carrier_only.address, int(time.time()), Role.ISSUER)
    window.require_active(carrier_only.address, int(time.time()), Role.CARRIER)


def _org_id(session: Session, slug: str) -> int:
    org = session.scalar(select(Organisation).where(Organisation.slug == slug))
    assert org is not None
    return org.id


# -- a key another organisation holds on chain is a clear 409, never "done" --


def test_key_another_organisation_holds_on_chain_is_a_409_even_while_in_flight(
    svc: Service,
) -> None:
    make_org(svc.api, "acme")
    svc.settle()
    taken = Account.create()
    _registry(svc.api, svc.chain).add_key(KeyGrant(org_id_for("acme"), taken.address, Role.CARRIER))
    # Beta's registration is still queued: its key additions are accepted behind it.
    beta = make_org(svc.api, "beta")
    resp = svc.api.post(
        "/v1/orgs/beta/signers", json={"address": taken.address}, headers=beta.admin
    )
    assert resp.status_code == 409, resp.text
    assert resp.json()["error"] == "OrgKeyAlreadyRegistered"
    assert resp.json()["arguments"]["orgId"] == "0x" + org_id_for("acme").hex()
    assert resp.json()["arguments"]["key"] == taken.address
    listed = svc.api.get("/v1/orgs/beta/signers", headers=beta.admin).json()["items"]
    assert taken.address not in [s["address"] for s in listed]


def test_queued_key_addition_the_chain_refuses_fails_and_the_key_signs_nothing(
    svc: Service,
) -> None:
    make_org(svc.api, "acme")
    svc.settle()
    beta = make_org(svc.api, "beta")  # its registration and key addition are queued
    # Before the relayer sends them, the registrar gives beta's key to acme on chain.
    _registry(svc.api, svc.chain).add_key(
        KeyGrant(org_id_for("acme"), beta.signer.address, Role.CARRIER)
    )
    svc.settle()
    with context(svc.api).sessions() as session:
        request = session.scalar(
            select(RelayRequest).where(
                RelayRequest.purpose == "org_key_add", RelayRequest.ref_id == beta.signer_id
            )
        )
        assert request is not None
        assert request.status == RelayStatus.FAILED
        assert request.last_error is not None
        assert request.last_error.startswith("OrgKeyAlreadyRegistered(")
        relay_id = request.id
    shown = svc.api.get(f"/v1/relay/{relay_id}", headers=beta.admin)
    assert shown.status_code == 200, shown.text
    assert shown.json()["status"] == "failed"
    resp = svc.api.post(
        "/v1/events", json=signed_event(domain_of(svc.api), beta.signer), headers=beta.writer
    )
    assert resp.status_code == 403
    assert resp.json()["detail"].startswith(
        f"key validity rule: signer {beta.signer.address} is not a key of this organisation "
        "in OrganisationRegistry"
    )


def test_key_revoked_on_chain_by_its_admin_completes_the_services_revocation(
    svc: Service,
) -> None:
    acme = make_org(svc.api, "acme")
    svc.settle()
    resp = svc.api.post(
        f"/v1/orgs/acme/signers/{acme.signer_id}/revoke", json={}, headers=acme.admin
    )
    assert resp.status_code == 200
    # The chain revokes the key first (an admin with `waymark org revoke-key`).
    _registry(svc.api, svc.chain).revoke_key(acme.signer.address)
    workers(svc.api).indexer.step()
    svc.settle()
    with context(svc.api).sessions() as session:
        request = session.scalar(
            select(RelayRequest).where(RelayRequest.purpose == "org_key_revoke")
        )
        assert request is not None
        assert request.status in (RelayStatus.MINED, RelayStatus.FINAL)


# -- backfill: organisations created before the registry --


def test_organisation_from_before_the_registry_signs_only_once_backfilled(
    svc: Service,
) -> None:
    legacy = Account.create()
    with context(svc.api).sessions() as session:
        created = create_org(
            session=session,
            data=OrganisationCreate(slug="legacy", name="Legacy Trading BV"),
            registrar=None,  # as the service stored organisations before the registry
        )
        org = session.scalar(select(Organisation).where(Organisation.slug == "legacy"))
        assert org is not None
        assert org.roles == 0
        session.add(SignerKey(org_id=org.id, address=legacy.address, valid_from=utcnow()))
        session.commit()
    admin = {"Authorization": f"Bearer {created.admin_key.key}"}
    writer = svc.api.post(
        "/v1/orgs/legacy/api-keys", json={"scopes": ["carrier"]}, headers=admin
    ).json()["key"]
    headers = {"X-API-Key": writer}
    refused = svc.api.post(
        "/v1/events", json=signed_event(domain_of(svc.api), legacy), headers=headers
    )
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith(f"key validity rule: signer {legacy.address}")

    body = {"country": "NL", "gs1_prefixes": ["8712345"]}
    not_operator = svc.api.post("/v1/orgs/legacy/registration", json=body, headers=admin)
    assert not_operator.status_code == 403
    resp = svc.api.post("/v1/orgs/legacy/registration", json=body, headers=OPERATOR)
    assert resp.status_code == 200, resp.text
    assert resp.json()["keys"] == [legacy.address]
    assert resp.json()["organisation"]["chain_org_id"] == "0x" + org_id_for("legacy").hex()
    svc.settle()
    registry = _registry(svc.api, svc.chain)
    on_chain = registry.organisation(org_id_for("legacy"))
    assert on_chain is not None
    assert on_chain.legal_name == "Legacy Trading BV"
    assert registry.owner_of_prefix("8712345") == org_id_for("legacy")
    accepted = svc.api.post(
        "/v1/events", json=signed_event(domain_of(svc.api), legacy), headers=headers
    )
    assert accepted.status_code == 202, accepted.text
    again = svc.api.post("/v1/orgs/legacy/registration", json=body, headers=OPERATOR)
    assert again.status_code == 409


def test_a_key_addition_sent_before_its_registration_is_mined_waits_and_lands(
    svc: Service,
) -> None:
    """Two workers, one relayer key: one holds the registration (sent, not mined yet)
    while the other reaches the key addition queued behind it. Simulated against the
    chain as it is, the addition reverts ``OrgUnknown``; it waits for the registration
    instead of being reported failed."""
    make_org(svc.api, "beta")  # its registration and key addition are queued
    with context(svc.api).sessions() as session:
        org = _org_id(session, "beta")
        register, add_key = session.scalars(
            select(RelayRequest).where(RelayRequest.org_id == org).order_by(RelayRequest.id)
        ).all()
        assert (register.purpose, add_key.purpose) == ("org_register", "org_key_add")
        register.claimed_by = "another-worker"
        register.lease_until = utcnow() + timedelta(minutes=5)
        session.commit()

    workers(svc.api).relay.relayer.drive()

    with context(svc.api).sessions() as session:
        waiting = session.get(RelayRequest, add_key.id)
        assert waiting is not None
        assert waiting.status == RelayStatus.QUEUED, waiting.last_error
        assert "OrgUnknown" in (waiting.last_error or "")
        held = session.get(RelayRequest, register.id)
        assert held is not None
        held.claimed_by = held.lease_until = waiting.next_attempt_at = None  # the lease ends
        session.commit()
    svc.settle()
    with context(svc.api).sessions() as session:
        assert session.get(RelayRequest, register.id).status == RelayStatus.FINAL  # type: ignore[union-attr]
        assert session.get(RelayRequest, add_key.id).status == RelayStatus.FINAL  # type: ignore[union-attr]


def test_a_key_addition_whose_registration_lands_during_its_simulation_waits_and_lands(
    svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers, one relayer key: worker 1 simulates the key addition while the
    registration is still queued (held by worker 2), so it reverts ``OrgUnknown``;
    before worker 1 looks at the organisation's earlier writes, worker 2 sends the
    registration and sees it mined. The revert was caused by the registration's
    absence at the time of the simulation, so the addition waits and lands; it is
    never reported failed."""
    make_org(svc.api, "beta")  # its registration and key addition are queued
    worker_1 = workers(svc.api).relay.relayer
    worker_2 = Relayer(
        sessions=context(svc.api).sessions,
        chain=worker_1.chain,
        settings=worker_1.settings,
        handlers=worker_1.handlers,
        owner="worker-2",
    )
    with context(svc.api).sessions() as session:
        org = _org_id(session, "beta")
        register, add_key = session.scalars(
            select(RelayRequest).where(RelayRequest.org_id == org).order_by(RelayRequest.id)
        ).all()
        assert (register.purpose, add_key.purpose) == ("org_register", "org_key_add")
        register.claimed_by = "worker-2"
        register.lease_until = utcnow() + timedelta(minutes=5)
        session.commit()

    simulate = worker_1.chain.gas_limit
    interleaved: list[str] = []

    def gas_limit_then_worker_2(tx: dict[str, Any]) -> int:
        try:
            return simulate(tx)
        except ContractRevert as exc:
            if tx["data"] == add_key.data and not interleaved:
                interleaved.append(exc.error_name)
                assert worker_2.drive() >= 1  # the registration is sent and mined now
            raise

    monkeypatch.setattr(worker_1.chain, "gas_limit", gas_limit_then_worker_2)
    worker_1.drive()
    monkeypatch.undo()

    assert interleaved == ["OrgUnknown"]
    with context(svc.api).sessions() as session:
        held = session.get(RelayRequest, register.id)
        assert held is not None
        assert held.status in (RelayStatus.MINED, RelayStatus.FINAL)
        waiting = session.get(RelayRequest, add_key.id)
        assert waiting is not None
        assert waiting.status == RelayStatus.QUEUED, waiting.last_error
        waiting.next_attempt_at = None
        session.commit()
    svc.settle()
    with context(svc.api).sessions() as session:
        assert session.get(RelayRequest, register.id).status == RelayStatus.FINAL  # type: ignore[union-attr]
        assert session.get(RelayRequest, add_key.id).status == RelayStatus.FINAL  # type: ignore[union-attr]
