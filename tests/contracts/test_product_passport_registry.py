"""ProductPassportRegistry: issue, amend, recall, revoke, attest, relayed and direct."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak

from backend.chain import ChainClient, eip712
from backend.chain.deployments import Deployment
from backend.chain.organisations import (
    KeyGrant,
    OrganisationInput,
    OrganisationRegistryClient,
    Role,
    org_id_for,
)
from backend.chain.passports import (
    AttestationRequest,
    AttestationStatus,
    PassportContent,
    PassportRegistryClient,
    PassportStatus,
    ReasonCode,
    claim_type,
)
from backend.chain.typed_data.passports import ISSUE_PASSPORT, TYPEHASH_CONSTANTS
from backend.gs1.keys import passport_id
from backend.passports.canonical import document_hash
from backend.passports.carbon import TransportLeg, footprint
from backend.passports.schemas import PassportDocument
from backend.passports.summary import key_figures
from tests.conftest import deployment_for
from tests.helpers import reverts

SAMPLE = Path(__file__).resolve().parents[2] / "backend/passports/samples/bamboo_tableware.json"
PATH = "/01/08936045870013/10/TH2611-07"
PID = passport_id("08936045870013", lot="TH2611-07")
BRAND = org_id_for("lang-tre")
RIVAL = org_id_for("rival")
CERTIFIERS = org_id_for("control-union")
CARBON_VERIFIED = claim_type("carbon-verified")
DAY = 86_400


def _content(seed: int = 1, **changes: object) -> PassportContent:
    base = PassportContent(
        document_hash=bytes([seed]) * 32,
        uri=f"ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/{seed}.json",
        origin_country="VN",
        recycled_content_bps=1250,
        carbon_grams_co2e=5213,
        water_litres=555,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _funded(chain: ChainClient) -> LocalAccount:
    acct: LocalAccount = Account.create()
    chain.send_value(acct.address, 10**18)
    return acct


def _register_orgs(chain: ChainClient, deployment: Deployment) -> OrganisationRegistryClient:
    """The brand owning prefix 8936045, a rival brand and an accredited certifier."""
    orgs = OrganisationRegistryClient(chain, deployment.address("OrganisationRegistry"))
    orgs.register(
        BRAND, OrganisationInput("Lang Tre Homeware JSC", "VN", "", Role.ISSUER), None, ("8936045",)
    )
    orgs.register(
        RIVAL, OrganisationInput("Rival Trading", "CN", "", Role.ISSUER), None, ("6901234",)
    )
    orgs.register(CERTIFIERS, OrganisationInput("Control Union", "NL", "", Role.CERTIFIER))
    return orgs


def _key(
    orgs: OrganisationRegistryClient, org_id: bytes, role: Role, account: str | None = None
) -> LocalAccount:
    """A funded key of ``org_id`` holding ``role`` (or ``account`` added as such)."""
    acct: LocalAccount = Account.create()
    orgs.add_key(KeyGrant(org_id, account or acct.address, role))
    if account is None:
        orgs.chain.send_value(acct.address, 10**18)
    return acct


@pytest.fixture
def orgs(tester: ChainClient) -> OrganisationRegistryClient:
    return _register_orgs(tester, deployment_for(tester))


@pytest.fixture
def registry(tester: ChainClient, orgs: OrganisationRegistryClient) -> PassportRegistryClient:
    return PassportRegistryClient(tester, deployment_for(tester).address("ProductPassportRegistry"))


@pytest.fixture
def brand(orgs: OrganisationRegistryClient) -> LocalAccount:
    return _key(orgs, BRAND, Role.ISSUER)


@pytest.fixture
def certifier(orgs: OrganisationRegistryClient) -> LocalAccount:
    return _key(orgs, CERTIFIERS, Role.CERTIFIER)


@pytest.fixture
def as_brand(registry: PassportRegistryClient, brand: LocalAccount) -> PassportRegistryClient:
    return registry.as_account(brand)


@pytest.fixture
def as_certifier(
    registry: PassportRegistryClient, certifier: LocalAccount
) -> PassportRegistryClient:
    return registry.as_account(certifier)


@pytest.fixture
def issued(as_brand: PassportRegistryClient) -> PassportContent:
    content = _content()
    as_brand.issue(PATH, content)
    return content


def _deadline(registry: PassportRegistryClient, seconds: int = 3600) -> int:
    return int(registry.chain.block()["timestamp"]) + seconds


def _request(
    registry: PassportRegistryClient, version: int = 1, **changes: object
) -> AttestationRequest:
    record = registry.version(PID, version)
    request = AttestationRequest(
        passport_id=PID,
        version=version,
        document_hash=record.document_hash,
        claim=CARBON_VERIFIED,
        valid_until=_deadline(registry, 365 * DAY),
    )
    return replace(request, **changes)  # type: ignore[arg-type]


# -- typed data ----------------------------------------------------------------


@pytest.mark.parametrize("constant", sorted(TYPEHASH_CONSTANTS))
def test_python_type_string_hashes_to_contract_typehash(
    registry: PassportRegistryClient, constant: str
) -> None:
    assert registry.chain.call(registry.contract, constant) == TYPEHASH_CONSTANTS[constant].typehash


def test_domain_version_is_contract_version(registry: PassportRegistryClient) -> None:
    domain = registry.domain()
    assert domain.name == "Waymark ProductPassportRegistry"
    assert domain.version == registry.chain.call(registry.contract, "VERSION") == "2.0.0"
    assert domain.chain_id == registry.chain.chain_id


# -- issue -----------------------------------------------------------------------


def test_issue_records_head_version_and_emits_passport_issued(
    as_brand: PassportRegistryClient, brand: LocalAccount
) -> None:
    content = _content()
    result = as_brand.issue(PATH, content)
    assert result.event("PassportIssued").args == {
        "passportId": PID,
        "issuer": brand.address,
        "issuerOrg": BRAND,
        "gs1Path": PATH,
        "documentHash": content.document_hash,
        "uri": content.uri,
        "originCountry": b"VN",
        "recycledContentBps": 1250,
        "carbonGramsCO2e": 5213,
        "waterLitres": 555,
    }
    head = as_brand.passport(PID)
    assert head is not None
    assert (head.issuer, head.version, head.status, head.reason_code) == (
        brand.address,
        1,
        PassportStatus.ACTIVE,
        0,
    )
    timestamp = as_brand.chain.block(result.block_number)["timestamp"]
    assert head.status_changed_at == timestamp
    record = as_brand.version(PID, 1)
    assert record.document_hash == content.document_hash
    assert record.uri == content.uri
    assert (record.origin_country, record.recycled_content_bps) == ("VN", 1250)
    assert (record.carbon_grams_co2e, record.water_litres) == (5213, 555)
    assert record.recorded_at == timestamp
    assert as_brand.latest_version(PID) == record


def test_issue_reverts_when_caller_lacks_issuer_role(
    registry: PassportRegistryClient, orgs: OrganisationRegistryClient
) -> None:
    stranger = _funded(registry.chain)
    with reverts("PassportIssuerUnauthorized", account=stranger.address):
        registry.as_account(stranger).issue(PATH, _content())
    # A key of the brand itself that does not hold the issuer role is refused as well.
    seller = _key(orgs, BRAND, Role.ADMIN)
    with reverts("PassportIssuerUnauthorized", account=seller.address):
        registry.as_account(seller).issue(PATH, _content())
    assert registry.passport(PID) is None


def test_issue_for_a_foreign_prefix_reverts_naming_both_organisations(
    any_registry: PassportRegistryClient, any_orgs: OrganisationRegistryClient
) -> None:
    """A registered issuer cannot issue (or take first) a passport for another brand's GTIN,
    lot or serial: the GTIN's company prefix decides who speaks for it (on each backend)."""
    registry, orgs = any_registry, any_orgs
    brand = _key(orgs, BRAND, Role.ISSUER)
    rival = _key(orgs, RIVAL, Role.ISSUER)
    for path in (PATH, "/01/08936045870013", "/01/08936045870013/21/SN-1"):
        with reverts(
            "PassportPrefixNotOwned", gtin="08936045870013", issuerOrg=RIVAL, ownerOrg=BRAND
        ):
            registry.as_account(rival).issue(path, _content())
    # A GTIN under no registered prefix belongs to nobody.
    with reverts(
        "PassportPrefixNotOwned", gtin="04006381333931", issuerOrg=BRAND, ownerOrg=bytes(32)
    ):
        registry.as_account(brand).issue("/01/04006381333931", _content())
    registry.as_account(brand).issue(PATH, _content())


def test_issue_by_a_revoked_or_not_yet_added_key_reverts(
    any_registry: PassportRegistryClient, any_orgs: OrganisationRegistryClient
) -> None:
    registry, orgs = any_registry, any_orgs
    brand = _key(orgs, BRAND, Role.ISSUER)
    orgs.revoke_key(brand.address)
    with reverts("PassportIssuerUnauthorized", account=brand.address):
        registry.as_account(brand).issue(PATH, _content())
    later: LocalAccount = Account.create()
    deadline = _deadline(registry)
    signature = registry.sign_issue(later.key, PID, _content(), later.address, deadline)
    with reverts("PassportIssuerUnauthorized", account=later.address):
        registry.issue_signed(PATH, _content(), later.address, deadline, signature)
    _key(orgs, BRAND, Role.ISSUER, later.address)
    registry.issue_signed(PATH, _content(), later.address, deadline, signature)


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/01/0893604587001",
        "/01/08936045870012",
        "/01/08936045870013X",
        "/02/08936045870013",
        "01/08936045870013/",
        "/01/0893604587001a",
    ],
)
def test_issue_reverts_on_malformed_gs1_path(as_brand: PassportRegistryClient, path: str) -> None:
    with reverts("PassportKeyInvalid", gs1Path=path):
        as_brand.issue(path, _content())


def test_passport_id_is_derived_from_the_gs1_path(
    as_brand: PassportRegistryClient, brand: LocalAccount
) -> None:
    result = as_brand.issue(PATH, _content())
    ev = result.event("PassportIssued").args
    assert ev["passportId"] == PID == keccak(PATH.encode())
    assert (ev["gs1Path"], ev["issuerOrg"], ev["issuer"]) == (PATH, BRAND, brand.address)


def test_issue_reverts_when_passport_exists(
    registry: PassportRegistryClient,
    orgs: OrganisationRegistryClient,
    as_brand: PassportRegistryClient,
    brand: LocalAccount,
    issued: PassportContent,
) -> None:
    second = _key(orgs, BRAND, Role.ISSUER)
    with reverts("PassportAlreadyIssued", passportId=PID, issuer=brand.address):
        registry.as_account(second).issue(PATH, _content(2))
    with reverts("PassportAlreadyIssued", passportId=PID, issuer=brand.address):
        as_brand.issue(PATH, _content(3))


@pytest.mark.parametrize(
    ("content", "error", "args"),
    [
        (_content(0), "PassportDocumentHashZero", {"passportId": PID}),
        (_content(origin_country="vn"), "PassportOriginCountryInvalid", {"originCountry": b"vn"}),
        (_content(origin_country="V1"), "PassportOriginCountryInvalid", {"originCountry": b"V1"}),
        (
            _content(recycled_content_bps=10_001),
            "PassportRecycledShareInvalid",
            {"passportId": PID, "recycledContentBps": 10_001},
        ),
    ],
)
def test_issue_reverts_on_invalid_content(
    as_brand: PassportRegistryClient, content: PassportContent, error: str, args: dict[str, object]
) -> None:
    with reverts(error, **args):
        as_brand.issue(PATH, content)


def test_issue_with_sig_is_relayed_for_the_signing_issuer(
    registry: PassportRegistryClient, brand: LocalAccount
) -> None:
    content = _content()
    deadline = _deadline(registry)
    signature = registry.sign_issue(brand.key, PID, content, brand.address, deadline)
    result = registry.issue_signed(PATH, content, brand.address, deadline, signature)
    assert result.event("PassportIssued").args["issuer"] == brand.address
    head = registry.passport(PID)
    assert head is not None
    assert head.issuer == brand.address
    assert registry.nonce(brand.address) == 1
    # The same signature cannot be replayed: the nonce moved on.
    with reverts("PassportSignatureInvalid", signer=brand.address):
        registry.issue_signed(PATH, content, brand.address, deadline, signature)


def test_issue_with_sig_reverts_when_signed_content_differs(
    registry: PassportRegistryClient, brand: LocalAccount
) -> None:
    deadline = _deadline(registry)
    signature = registry.sign_issue(brand.key, PID, _content(), brand.address, deadline)
    tampered = _content(carbon_grams_co2e=1)
    with reverts("PassportSignatureInvalid", signer=brand.address):
        registry.issue_signed(PATH, tampered, brand.address, deadline, signature)


def test_issue_with_sig_reverts_after_deadline(
    registry: PassportRegistryClient, brand: LocalAccount
) -> None:
    deadline = _deadline(registry, 60)
    signature = registry.sign_issue(brand.key, PID, _content(), brand.address, deadline)
    registry.chain.advance_time(120)
    with reverts("PassportSignatureExpired", signer=brand.address, deadline=deadline) as info:
        registry.issue_signed(PATH, _content(), brand.address, deadline, signature)
    assert info.value.arguments["now"] > deadline
    assert registry.nonce(brand.address) == 0


def test_issue_with_sig_reverts_when_signer_is_not_an_issuer(
    registry: PassportRegistryClient,
) -> None:
    outsider: LocalAccount = Account.create()
    deadline = _deadline(registry)
    signature = registry.sign_issue(outsider.key, PID, _content(), outsider.address, deadline)
    with reverts("PassportIssuerUnauthorized", account=outsider.address):
        registry.issue_signed(PATH, _content(), outsider.address, deadline, signature)


def test_issue_with_sig_accepts_an_erc1271_wallet_issuer(
    registry: PassportRegistryClient, orgs: OrganisationRegistryClient
) -> None:
    owner: LocalAccount = Account.create()
    wallet = registry.chain.deploy("PassportSmartWallet", owner.address).address
    _key(orgs, BRAND, Role.ISSUER, wallet)
    deadline = _deadline(registry)
    signature = registry.sign_issue(owner.key, PID, _content(), wallet, deadline)
    registry.issue_signed(PATH, _content(), wallet, deadline, signature)
    head = registry.passport(PID)
    assert head is not None
    assert head.issuer == wallet
    stranger: LocalAccount = Account.create()
    other = passport_id("08936045870013", lot="OTHER")
    bad = registry.sign_issue(stranger.key, other, _content(), wallet, deadline)
    with reverts("PassportSignatureInvalid", signer=wallet):
        registry.issue_signed("/01/08936045870013/10/OTHER", _content(), wallet, deadline, bad)


# -- amend -----------------------------------------------------------------------


def test_amend_creates_new_version_and_keeps_earlier_ones(
    as_brand: PassportRegistryClient, brand: LocalAccount, issued: PassportContent
) -> None:
    v2 = _content(2, carbon_grams_co2e=4900)
    result = as_brand.amend(PID, 1, v2)
    assert result.event("PassportAmended").args["version"] == 2
    assert result.event("PassportAmended").args["issuer"] == brand.address
    v3 = _content(3, recycled_content_bps=0)
    as_brand.amend(PID, 2, v3)
    head = as_brand.passport(PID)
    assert head is not None
    assert head.version == 3
    assert as_brand.version(PID, 1).document_hash == issued.document_hash
    assert as_brand.version(PID, 2).carbon_grams_co2e == 4900
    assert as_brand.version(PID, 3).recycled_content_bps == 0
    assert as_brand.latest_version(PID).document_hash == v3.document_hash
    with reverts("PassportVersionUnknown", passportId=PID, version=4):
        as_brand.version(PID, 4)
    with reverts("PassportVersionUnknown", passportId=PID, version=0):
        as_brand.version(PID, 0)


def test_amend_reverts_on_stale_base_version(
    as_brand: PassportRegistryClient, issued: PassportContent
) -> None:
    as_brand.amend(PID, 1, _content(2))
    with reverts("PassportVersionConflict", passportId=PID, expectedVersion=1, actualVersion=2):
        as_brand.amend(PID, 1, _content(3))


def test_amend_reverts_for_another_issuer_and_for_unknown_passport(
    registry: PassportRegistryClient,
    orgs: OrganisationRegistryClient,
    as_brand: PassportRegistryClient,
    brand: LocalAccount,
    issued: PassportContent,
) -> None:
    rival = _key(orgs, RIVAL, Role.ISSUER)
    with reverts("PassportNotIssuer", passportId=PID, account=rival.address, issuerOrg=BRAND):
        registry.as_account(rival).amend(PID, 1, _content(2))
    unknown = passport_id("08936045870013")
    with reverts("PassportUnknown", passportId=unknown):
        as_brand.amend(unknown, 1, _content(2))


def test_amend_reverts_after_the_issuing_key_is_revoked_but_a_new_brand_key_may(
    registry: PassportRegistryClient,
    orgs: OrganisationRegistryClient,
    as_brand: PassportRegistryClient,
    brand: LocalAccount,
    issued: PassportContent,
) -> None:
    orgs.revoke_key(brand.address)
    with reverts("PassportNotIssuer", passportId=PID, account=brand.address, issuerOrg=BRAND):
        as_brand.amend(PID, 1, _content(2))
    # Key rotation: the brand's new issuer key keeps control of its passports.
    rotated = _key(orgs, BRAND, Role.ISSUER)
    registry.as_account(rotated).amend(PID, 1, _content(2))


def test_amend_with_sig_is_relayed(
    registry: PassportRegistryClient, brand: LocalAccount, issued: PassportContent
) -> None:
    deadline = _deadline(registry)
    v2 = _content(2)
    signature = registry.sign_amend(brand.key, PID, 1, v2, brand.address, deadline)
    result = registry.amend_signed(PID, 1, v2, brand.address, deadline, signature)
    assert result.event("PassportAmended").args["version"] == 2
    assert registry.latest_version(PID).document_hash == v2.document_hash
    # A signature over base version 1 is bound to it; it cannot move the head again.
    with reverts("PassportSignatureInvalid", signer=brand.address):
        registry.amend_signed(PID, 1, v2, brand.address, deadline, signature)


# -- recall and revoke -------------------------------------------------------------


def test_recall_marks_passport_recalled_and_it_stays_amendable(
    as_brand: PassportRegistryClient, brand: LocalAccount, issued: PassportContent
) -> None:
    reason = "Adhesive batch failed formaldehyde migration test"
    result = as_brand.recall(PID, ReasonCode.SAFETY_HAZARD, reason)
    event = result.event("PassportRecalled")
    assert event.args["reasonCode"] == ReasonCode.SAFETY_HAZARD
    assert event.args["reason"] == reason
    assert event.args["by"] == brand.address
    assert event.args["reasonHash"] == keccak(reason.encode())
    head = as_brand.passport(PID)
    assert head is not None
    assert (head.status, head.reason_code) == (PassportStatus.RECALLED, 1)
    with reverts("PassportInvalidStatus", passportId=PID, status=PassportStatus.RECALLED):
        as_brand.recall(PID, ReasonCode.SAFETY_HAZARD, reason)
    as_brand.amend(PID, 1, _content(2))
    assert as_brand.version(PID, 1).document_hash == issued.document_hash


def test_recall_reverts_for_non_issuer_and_zero_reason(
    registry: PassportRegistryClient,
    as_brand: PassportRegistryClient,
    brand: LocalAccount,
    issued: PassportContent,
) -> None:
    with reverts(
        "PassportNotIssuer", passportId=PID, account=registry.chain.address, issuerOrg=BRAND
    ):
        registry.recall(PID, ReasonCode.SAFETY_HAZARD, "admin cannot recall")
    with reverts("PassportReasonCodeZero", passportId=PID):
        as_brand.recall(PID, 0, "")


def test_revoke_is_terminal_and_allowed_to_admin(
    registry: PassportRegistryClient, as_brand: PassportRegistryClient, issued: PassportContent
) -> None:
    result = registry.revoke(PID, ReasonCode.FRAUD, "Issuer could not evidence origin")
    assert result.event("PassportRevoked").args["by"] == registry.chain.address
    head = registry.passport(PID)
    assert head is not None
    assert head.status == PassportStatus.REVOKED
    with reverts("PassportInvalidStatus", passportId=PID, status=PassportStatus.REVOKED):
        as_brand.amend(PID, 1, _content(2))
    with reverts("PassportInvalidStatus", passportId=PID, status=PassportStatus.REVOKED):
        as_brand.revoke(PID, ReasonCode.DATA_ERROR, "again")
    with reverts("PassportInvalidStatus", passportId=PID, status=PassportStatus.REVOKED):
        as_brand.recall(PID, ReasonCode.SAFETY_HAZARD, "too late")
    # Versions stay readable after revocation.
    assert registry.version(PID, 1).document_hash == issued.document_hash


def test_revoke_reverts_for_a_stranger(
    registry: PassportRegistryClient, brand: LocalAccount, issued: PassportContent
) -> None:
    stranger = _funded(registry.chain)
    with reverts("PassportNotIssuer", passportId=PID, account=stranger.address, issuerOrg=BRAND):
        registry.as_account(stranger).revoke(PID, ReasonCode.OTHER, "no")


def test_recall_and_revoke_with_sig_are_relayed_for_the_issuer(
    registry: PassportRegistryClient, brand: LocalAccount, issued: PassportContent
) -> None:
    deadline = _deadline(registry)
    reason = "Mould found in lot TH2611-07"
    signature = registry.sign_recall(
        brand.key, PID, ReasonCode.QUALITY_DEFECT, reason, brand.address, deadline
    )
    event = registry.recall_signed(
        PID, ReasonCode.QUALITY_DEFECT, reason, brand.address, deadline, signature
    ).event("PassportRecalled")
    assert (event.args["by"], event.args["reason"]) == (brand.address, reason)
    # The reason text is signed: relaying another text fails.
    signature = registry.sign_revoke(
        brand.key, PID, ReasonCode.DATA_ERROR, "issued twice", brand.address, deadline
    )
    with reverts("PassportSignatureInvalid", signer=brand.address):
        registry.revoke_signed(
            PID, ReasonCode.DATA_ERROR, "issued by mistake", brand.address, deadline, signature
        )
    registry.revoke_signed(
        PID, ReasonCode.DATA_ERROR, "issued twice", brand.address, deadline, signature
    )
    head = registry.passport(PID)
    assert head is not None
    assert (head.status, head.reason_code) == (PassportStatus.REVOKED, ReasonCode.DATA_ERROR)


def test_recall_with_sig_reverts_for_a_stranger_signature(
    registry: PassportRegistryClient, brand: LocalAccount, issued: PassportContent
) -> None:
    stranger: LocalAccount = Account.create()
    deadline = _deadline(registry)
    signature = registry.sign_recall(
        stranger.key, PID, ReasonCode.SAFETY_HAZARD, "x", stranger.address, deadline
    )
    with reverts("PassportNotIssuer", passportId=PID, account=stranger.address, issuerOrg=BRAND):
        registry.recall_signed(
            PID, ReasonCode.SAFETY_HAZARD, "x", stranger.address, deadline, signature
        )


# -- attestations ----------------------------------------------------------------


def test_attest_records_valid_attestation_with_predictable_id(
    as_certifier: PassportRegistryClient, certifier: LocalAccount, issued: PassportContent
) -> None:
    request = _request(as_certifier)
    expected_id = PassportRegistryClient.attestation_id(
        PID, 1, CARBON_VERIFIED, certifier.address, as_certifier.nonce(certifier.address)
    )
    result = as_certifier.attest(request)
    event = result.event("AttestationRecorded")
    assert event.args == {
        "attestationId": expected_id,
        "passportId": PID,
        "certifier": certifier.address,
        "certifierOrg": CERTIFIERS,
        "version": 1,
        "documentHash": issued.document_hash,
        "claim": CARBON_VERIFIED,
        "validUntil": request.valid_until,
    }
    record = as_certifier.attestation(expected_id)
    assert record is not None
    assert record.status is AttestationStatus.VALID
    assert (record.certifier, record.version, record.claim) == (
        certifier.address,
        1,
        CARBON_VERIFIED,
    )


def test_attestation_shows_expired_after_valid_until(
    as_certifier: PassportRegistryClient, issued: PassportContent
) -> None:
    request = _request(as_certifier, valid_until=_deadline(as_certifier, DAY))
    attestation_id = as_certifier.attest(request).event("AttestationRecorded").args["attestationId"]
    assert as_certifier.attestation_status(attestation_id) is AttestationStatus.VALID
    as_certifier.chain.advance_time(DAY + 1)
    assert as_certifier.attestation_status(attestation_id) is AttestationStatus.EXPIRED


def test_attest_reverts_when_document_hash_differs_from_recorded_version(
    as_certifier: PassportRegistryClient, issued: PassportContent
) -> None:
    wrong = bytes([9]) * 32
    with reverts(
        "PassportAttestationHashMismatch",
        passportId=PID,
        version=1,
        recordedHash=issued.document_hash,
        attestedHash=wrong,
    ):
        as_certifier.attest(_request(as_certifier, document_hash=wrong))


@pytest.mark.parametrize(
    ("changes", "error", "args"),
    [
        ({"claim": bytes(32)}, "PassportAttestationClaimZero", {"passportId": PID}),
        ({"version": 2}, "PassportVersionUnknown", {"passportId": PID, "version": 2}),
        ({"valid_until": 1}, "PassportAttestationExpiryInvalid", {"validUntil": 1}),
    ],
)
def test_attest_reverts_on_invalid_request(
    as_certifier: PassportRegistryClient,
    issued: PassportContent,
    changes: dict[str, object],
    error: str,
    args: dict[str, object],
) -> None:
    with reverts(error, **args):
        as_certifier.attest(_request(as_certifier, **changes))


def test_attest_by_a_key_without_the_certifier_role_reverts_on_every_backend(
    any_registry: PassportRegistryClient, any_orgs: OrganisationRegistryClient
) -> None:
    brand = _key(any_orgs, BRAND, Role.ISSUER)
    as_brand = any_registry.as_account(brand)
    as_brand.issue(PATH, _content())
    with reverts("PassportCertifierUnauthorized", account=brand.address):
        as_brand.attest(_request(any_registry))


def test_attest_reverts_for_unauthorised_certifier_and_unknown_passport(
    registry: PassportRegistryClient,
    as_certifier: PassportRegistryClient,
    as_brand: PassportRegistryClient,
    brand: LocalAccount,
    issued: PassportContent,
) -> None:
    request = _request(registry)
    with reverts("PassportCertifierUnauthorized", account=brand.address):
        as_brand.attest(request)
    unknown = passport_id("08936045870013", serial="X1")
    with reverts("PassportUnknown", passportId=unknown):
        as_certifier.attest(replace(request, passport_id=unknown))


def test_attest_with_sig_is_relayed_and_bound_to_the_certifier(
    registry: PassportRegistryClient,
    certifier: LocalAccount,
    brand: LocalAccount,
    issued: PassportContent,
) -> None:
    request = _request(registry)
    deadline = _deadline(registry)
    signature = registry.sign_attest(certifier.key, request, certifier.address, deadline)
    result = registry.attest_signed(request, certifier.address, deadline, signature)
    assert result.event("AttestationRecorded").args["certifier"] == certifier.address
    with reverts("PassportSignatureInvalid", signer=certifier.address):
        registry.attest_signed(request, certifier.address, deadline, signature)
    # A brand key signing as itself is refused by role, not by signature.
    own = registry.sign_attest(brand.key, request, brand.address, deadline)
    with reverts("PassportCertifierUnauthorized", account=brand.address):
        registry.attest_signed(request, brand.address, deadline, own)


def test_attest_with_sig_accepts_an_erc1271_wallet_certifier(
    registry: PassportRegistryClient, orgs: OrganisationRegistryClient, issued: PassportContent
) -> None:
    owner: LocalAccount = Account.create()
    wallet = registry.chain.deploy("PassportSmartWallet", owner.address).address
    _key(orgs, CERTIFIERS, Role.CERTIFIER, wallet)
    request = _request(registry)
    deadline = _deadline(registry)
    signature = registry.sign_attest(owner.key, request, wallet, deadline)
    event = registry.attest_signed(request, wallet, deadline, signature).event(
        "AttestationRecorded"
    )
    assert event.args["certifier"] == wallet
    assert registry.attestation_status(event.args["attestationId"]) is AttestationStatus.VALID


def test_revoke_attestation_only_by_its_certifier_and_once(
    registry: PassportRegistryClient,
    orgs: OrganisationRegistryClient,
    as_certifier: PassportRegistryClient,
    certifier: LocalAccount,
    issued: PassportContent,
) -> None:
    attestation_id = (
        as_certifier.attest(_request(as_certifier))
        .event("AttestationRecorded")
        .args["attestationId"]
    )
    other = _funded(registry.chain)
    _key(orgs, RIVAL, Role.ISSUER, other.address)
    with reverts(
        "PassportAttestationNotCertifier",
        attestationId=attestation_id,
        account=other.address,
        certifier=certifier.address,
    ):
        registry.as_account(other).revoke_attestation(
            attestation_id, ReasonCode.CERTIFICATE_WITHDRAWN, "not mine"
        )
    result = as_certifier.revoke_attestation(
        attestation_id, ReasonCode.CERTIFICATE_WITHDRAWN, "Audit found missing activity data"
    )
    event = result.event("AttestationRevoked")
    assert (event.args["passportId"], event.args["certifier"]) == (PID, certifier.address)
    assert as_certifier.attestation_status(attestation_id) is AttestationStatus.REVOKED
    record = as_certifier.attestation(attestation_id)
    assert record is not None
    assert record.revoked_at > 0
    with reverts(
        "PassportAttestationAlreadyRevoked",
        attestationId=attestation_id,
        revokedAt=record.revoked_at,
    ):
        as_certifier.revoke_attestation(attestation_id, ReasonCode.OTHER, "again")
    missing = bytes([7]) * 32
    with reverts("PassportAttestationUnknown", attestationId=missing):
        as_certifier.revoke_attestation(missing, ReasonCode.OTHER, "")
    assert as_certifier.attestation_status(missing) is AttestationStatus.NONE
    assert as_certifier.attestation(missing) is None


def test_revoke_attestation_with_sig_is_relayed_for_the_certifier(
    registry: PassportRegistryClient,
    as_certifier: PassportRegistryClient,
    certifier: LocalAccount,
    brand: LocalAccount,
    issued: PassportContent,
) -> None:
    attestation_id = (
        as_certifier.attest(_request(as_certifier))
        .event("AttestationRecorded")
        .args["attestationId"]
    )
    deadline = _deadline(registry)
    forged = registry.sign_revoke_attestation(
        brand.key, attestation_id, ReasonCode.OTHER, "x", certifier.address, deadline
    )
    with reverts("PassportSignatureInvalid", signer=certifier.address):
        registry.revoke_attestation_signed(
            attestation_id, ReasonCode.OTHER, "x", certifier.address, deadline, forged
        )
    signature = registry.sign_revoke_attestation(
        certifier.key,
        attestation_id,
        ReasonCode.SUPERSEDED,
        "re-audited",
        certifier.address,
        deadline,
    )
    registry.revoke_attestation_signed(
        attestation_id, ReasonCode.SUPERSEDED, "re-audited", certifier.address, deadline, signature
    )
    assert registry.attestation_status(attestation_id) is AttestationStatus.REVOKED


def test_certifier_can_revoke_after_losing_its_role(
    registry: PassportRegistryClient,
    orgs: OrganisationRegistryClient,
    as_certifier: PassportRegistryClient,
    certifier: LocalAccount,
    issued: PassportContent,
) -> None:
    attestation_id = (
        as_certifier.attest(_request(as_certifier))
        .event("AttestationRecorded")
        .args["attestationId"]
    )
    orgs.revoke_key(certifier.address)
    with reverts("PassportCertifierUnauthorized", account=certifier.address):
        as_certifier.attest(_request(as_certifier))
    as_certifier.revoke_attestation(attestation_id, ReasonCode.CERTIFICATE_WITHDRAWN, "exit")
    assert registry.attestation_status(attestation_id) is AttestationStatus.REVOKED


def test_attest_reverts_on_revoked_passport(
    registry: PassportRegistryClient,
    as_certifier: PassportRegistryClient,
    issued: PassportContent,
) -> None:
    request = _request(registry)
    registry.revoke(PID, ReasonCode.FRAUD, "withdrawn")
    with reverts("PassportInvalidStatus", passportId=PID, status=PassportStatus.REVOKED):
        as_certifier.attest(request)


# -- documents against the chain ----------------------------------------------------


def _sample() -> PassportDocument:
    return PassportDocument.model_validate(json.loads(SAMPLE.read_text()))


def _content_of(doc: PassportDocument, uri: str) -> PassportContent:
    legs = [TransportLeg("sea", 1.95, origin="VNHPH", destination="USLAX", source="sample")]
    figures = key_figures(doc, footprint(doc, legs))
    return PassportContent(
        document_hash=document_hash(doc),
        uri=uri,
        origin_country=figures.origin_country,
        recycled_content_bps=figures.recycled_content_bps,
        carbon_grams_co2e=figures.carbon_grams_co2e,
        water_litres=figures.water_litres,
    )


def test_tampered_document_is_detected_by_hash_mismatch(
    as_brand: PassportRegistryClient,
) -> None:
    doc = _sample()
    as_brand.issue(doc.identity.key.path, _content_of(doc, "https://langtre.example/p/1.json"))
    on_chain = as_brand.latest_version(doc.passport_id).document_hash
    assert document_hash(doc) == on_chain
    data = doc.to_json_dict()
    data["origin"]["country"] = "TH"
    tampered = PassportDocument.model_validate(data)
    assert document_hash(tampered) != on_chain
    # Re-serialised with other key order and whitespace, the genuine document still matches.
    reordered = json.loads(json.dumps(dict(reversed(list(doc.to_json_dict().items()))), indent=3))
    assert document_hash(reordered) == on_chain


@pytest.fixture
def any_orgs(chain: ChainClient, deployment: Deployment) -> OrganisationRegistryClient:
    return _register_orgs(chain, deployment)


@pytest.fixture
def any_registry(
    chain: ChainClient, deployment: Deployment, any_orgs: OrganisationRegistryClient
) -> PassportRegistryClient:
    return PassportRegistryClient(chain, deployment.address("ProductPassportRegistry"))


def _actors(orgs: OrganisationRegistryClient) -> Callable[[], tuple[LocalAccount, LocalAccount]]:
    def make() -> tuple[LocalAccount, LocalAccount]:
        return _key(orgs, BRAND, Role.ISSUER), _key(orgs, CERTIFIERS, Role.CERTIFIER)

    return make


def test_signed_issue_attest_and_expiry_on_every_backend(
    any_registry: PassportRegistryClient, any_orgs: OrganisationRegistryClient
) -> None:
    registry = any_registry
    brand, certifier = _actors(any_orgs)()
    assert any_orgs.is_active(brand.address, Role.ISSUER)
    assert any_orgs.is_active(certifier.address, Role.CERTIFIER)
    doc = _sample()
    content = _content_of(doc, "ipfs://bafy-sample")
    deadline = _deadline(registry)
    signature = registry.sign_issue(brand.key, doc.passport_id, content, brand.address, deadline)
    registry.issue_signed(doc.identity.key.path, content, brand.address, deadline, signature)
    request = AttestationRequest(
        doc.passport_id, 1, document_hash(doc), CARBON_VERIFIED, _deadline(registry, DAY)
    )
    signature = registry.sign_attest(certifier.key, request, certifier.address, deadline)
    event = registry.attest_signed(request, certifier.address, deadline, signature).event(
        "AttestationRecorded"
    )
    attestation_id = event.args["attestationId"]
    assert registry.attestation_status(attestation_id) is AttestationStatus.VALID
    registry.chain.advance_time(DAY + 10)
    assert registry.attestation_status(attestation_id) is AttestationStatus.EXPIRED


def test_recall_and_tamper_check_on_every_backend(
    any_registry: PassportRegistryClient, any_orgs: OrganisationRegistryClient
) -> None:
    registry = any_registry
    brand, _ = _actors(any_orgs)()
    doc = _sample()
    as_brand = registry.as_account(brand)
    as_brand.issue(doc.identity.key.path, _content_of(doc, "ipfs://bafy-sample"))
    as_brand.recall(doc.passport_id, ReasonCode.QUALITY_DEFECT, "Cracking along glue lines")
    head = registry.passport(doc.passport_id)
    assert head is not None
    assert head.status is PassportStatus.RECALLED
    data = doc.to_json_dict()
    data["materials"][0]["mass_share_pct"] = 93.9
    data["materials"][1]["mass_share_pct"] = 4.6
    assert document_hash(data) != registry.latest_version(doc.passport_id).document_hash


def test_wallet_payload_signed_with_eth_sign_typed_data_v4_is_accepted(
    registry: PassportRegistryClient, brand: LocalAccount
) -> None:
    content = _content()
    deadline = _deadline(registry)
    message = registry.issue_message(PID, content, brand.address, deadline)
    payload = eip712.typed_data_payload(registry.domain(), ISSUE_PASSPORT, message)
    signed = Account.sign_typed_data(brand.key, full_message=json.loads(json.dumps(payload)))
    assert bytes(signed.signature) == registry.sign_issue(
        brand.key, PID, content, brand.address, deadline
    )
    registry.issue_signed(PATH, content, brand.address, deadline, bytes(signed.signature))
    head = registry.passport(PID)
    assert head is not None
    assert head.issuer == brand.address
