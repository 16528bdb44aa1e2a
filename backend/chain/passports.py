"""Domain verbs over ``ProductPassportRegistry``: issue, amend, recall, attest, read."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak
from web3.types import BlockIdentifier

from backend.chain import eip712
from backend.chain.client import ChainClient, TxResult
from backend.chain.typed_data.passports import (
    AMEND_PASSPORT,
    ATTEST,
    ISSUE_PASSPORT,
    RECALL_PASSPORT,
    REVOKE_ATTESTATION,
    REVOKE_PASSPORT,
    content_message,
)

CONTRACT = "ProductPassportRegistry"


def passport_id_of(gs1_path: str) -> bytes:
    """The id the registry derives from a canonical GS1 Digital Link path: ``keccak256(path)``."""
    return keccak(gs1_path.encode("ascii"))


class PassportStatus(IntEnum):
    """``IProductPassportRegistry.PassportStatus``."""

    NONE = 0
    ACTIVE = 1
    RECALLED = 2
    REVOKED = 3


class AttestationStatus(IntEnum):
    """``IProductPassportRegistry.AttestationStatus``."""

    NONE = 0
    VALID = 1
    EXPIRED = 2
    REVOKED = 3


class ReasonCode(IntEnum):
    """Reason codes for recalls and revocations (documented in docs/passports.md)."""

    SAFETY_HAZARD = 1
    REGULATORY_NONCOMPLIANCE = 2
    QUALITY_DEFECT = 3
    DATA_ERROR = 4
    FRAUD = 5
    CERTIFICATE_WITHDRAWN = 6
    SUPERSEDED = 7
    OTHER = 99


def claim_type(name: str) -> bytes:
    """Claim type id: ``keccak256(name)``, e.g. ``claim_type("carbon-verified")``."""
    return keccak(name.encode())


@dataclass(frozen=True)
class PassportContent:
    """What one passport version commits to on chain."""

    document_hash: bytes
    uri: str
    origin_country: str
    recycled_content_bps: int
    carbon_grams_co2e: int
    water_litres: int

    def as_tuple(self) -> tuple[Any, ...]:
        return (
            self.document_hash,
            self.uri,
            self.origin_country.encode("ascii"),
            self.recycled_content_bps,
            self.carbon_grams_co2e,
            self.water_litres,
        )

    def message(self) -> dict[str, Any]:
        return content_message(
            document_hash=self.document_hash,
            uri=self.uri,
            origin_country=self.origin_country,
            recycled_content_bps=self.recycled_content_bps,
            carbon_grams_co2e=self.carbon_grams_co2e,
            water_litres=self.water_litres,
        )


@dataclass(frozen=True)
class PassportHead:
    """A passport's head record."""

    passport_id: bytes
    issuer: str
    version: int
    status: PassportStatus
    reason_code: int
    status_changed_at: int


@dataclass(frozen=True)
class PassportVersionRecord:
    """One immutable version."""

    passport_id: bytes
    version: int
    document_hash: bytes
    origin_country: str
    recycled_content_bps: int
    carbon_grams_co2e: int
    water_litres: int
    recorded_at: int
    uri: str


@dataclass(frozen=True)
class AttestationRequest:
    """A certifier's claim about one exact passport version."""

    passport_id: bytes
    version: int
    document_hash: bytes
    claim: bytes
    valid_until: int

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.passport_id, self.version, self.document_hash, self.claim, self.valid_until)


@dataclass(frozen=True)
class AttestationRecord:
    """A recorded attestation and its status as of the read."""

    attestation_id: bytes
    passport_id: bytes
    claim: bytes
    certifier: str
    version: int
    valid_until: int
    recorded_at: int
    revoked_at: int
    status: AttestationStatus


class PassportRegistryClient:
    """Issue, amend, recall and attest product passports on the deployed registry."""

    def __init__(self, chain: ChainClient, address: str) -> None:
        self.chain = chain
        self.address = address
        self.contract = chain.contract(CONTRACT, address)
        self._domain: eip712.Domain | None = None

    def as_account(self, account: LocalAccount) -> PassportRegistryClient:
        """The same registry, sending from ``account`` (a brand or certifier)."""
        return PassportRegistryClient(self.chain.with_account(account), self.address)

    # -- signing helpers ---------------------------------------------------

    def domain(self) -> eip712.Domain:
        """The EIP-712 domain read from ``eip712Domain()`` (cached: it is immutable)."""
        if self._domain is None:
            self._domain = self.chain.eip712_domain(self.contract)
        return self._domain

    def nonce(self, account: str) -> int:
        return int(self.chain.call(self.contract, "nonces", account))

    def issue_message(
        self, passport_id: bytes, content: PassportContent, issuer: str, deadline: int
    ) -> dict[str, Any]:
        """The ``IssuePassport`` message ``issuer`` signs (with its current nonce)."""
        return {
            "issuer": issuer,
            "passportId": passport_id,
            "content": content.message(),
            "nonce": self.nonce(issuer),
            "deadline": deadline,
        }

    def amend_message(
        self,
        passport_id: bytes,
        base_version: int,
        content: PassportContent,
        issuer: str,
        deadline: int,
    ) -> dict[str, Any]:
        return {
            "issuer": issuer,
            "passportId": passport_id,
            "baseVersion": base_version,
            "content": content.message(),
            "nonce": self.nonce(issuer),
            "deadline": deadline,
        }

    def attest_message(
        self, request: AttestationRequest, certifier: str, deadline: int
    ) -> dict[str, Any]:
        return {
            "certifier": certifier,
            "passportId": request.passport_id,
            "version": request.version,
            "documentHash": request.document_hash,
            "claim": request.claim,
            "validUntil": request.valid_until,
            "nonce": self.nonce(certifier),
            "deadline": deadline,
        }

    def sign_issue(
        self,
        key: str | bytes,
        passport_id: bytes,
        content: PassportContent,
        issuer: str,
        deadline: int,
    ) -> bytes:
        message = self.issue_message(passport_id, content, issuer, deadline)
        return eip712.sign(key, self.domain(), ISSUE_PASSPORT, message)

    def sign_amend(
        self,
        key: str | bytes,
        passport_id: bytes,
        base_version: int,
        content: PassportContent,
        issuer: str,
        deadline: int,
    ) -> bytes:
        message = self.amend_message(passport_id, base_version, content, issuer, deadline)
        return eip712.sign(key, self.domain(), AMEND_PASSPORT, message)

    def sign_attest(
        self, key: str | bytes, request: AttestationRequest, certifier: str, deadline: int
    ) -> bytes:
        message = self.attest_message(request, certifier, deadline)
        return eip712.sign(key, self.domain(), ATTEST, message)

    def sign_recall(
        self,
        key: str | bytes,
        passport_id: bytes,
        reason_code: int,
        reason: str,
        issuer: str,
        deadline: int,
    ) -> bytes:
        message = self._reason_message(
            "issuer", issuer, "passportId", passport_id, reason_code, reason, deadline
        )
        return eip712.sign(key, self.domain(), RECALL_PASSPORT, message)

    def sign_revoke(
        self,
        key: str | bytes,
        passport_id: bytes,
        reason_code: int,
        reason: str,
        issuer: str,
        deadline: int,
    ) -> bytes:
        message = self._reason_message(
            "issuer", issuer, "passportId", passport_id, reason_code, reason, deadline
        )
        return eip712.sign(key, self.domain(), REVOKE_PASSPORT, message)

    def sign_revoke_attestation(
        self,
        key: str | bytes,
        attestation_id: bytes,
        reason_code: int,
        reason: str,
        certifier: str,
        deadline: int,
    ) -> bytes:
        message = self._reason_message(
            "certifier", certifier, "attestationId", attestation_id, reason_code, reason, deadline
        )
        return eip712.sign(key, self.domain(), REVOKE_ATTESTATION, message)

    def _reason_message(
        self,
        actor_field: str,
        actor: str,
        subject_field: str,
        subject: bytes,
        reason_code: int,
        reason: str,
        deadline: int,
    ) -> dict[str, Any]:
        return {
            actor_field: actor,
            subject_field: subject,
            "reasonCode": int(reason_code),
            "reason": reason,
            "nonce": self.nonce(actor),
            "deadline": deadline,
        }

    # -- writes ------------------------------------------------------------

    def issue(self, gs1_path: str, content: PassportContent) -> TxResult:
        """Issue the passport of ``gs1_path`` as the sending account (an active issuer key
        of the organisation owning the GTIN's prefix)."""
        return self.chain.transact(self.contract, "issue", gs1_path, content.as_tuple())

    def issue_signed(
        self,
        gs1_path: str,
        content: PassportContent,
        issuer: str,
        deadline: int,
        signature: bytes,
    ) -> TxResult:
        """Relay ``issuer``'s signed issue (signed over ``passport_id_of(gs1_path)``)."""
        return self.chain.transact(
            self.contract, *self._issue_signed_args(gs1_path, content, issuer, deadline, signature)
        )

    def issue_signed_calldata(
        self,
        gs1_path: str,
        content: PassportContent,
        issuer: str,
        deadline: int,
        signature: bytes,
    ) -> str:
        return self.chain.encode(
            self.contract, *self._issue_signed_args(gs1_path, content, issuer, deadline, signature)
        )

    @staticmethod
    def _issue_signed_args(
        gs1_path: str, content: PassportContent, issuer: str, deadline: int, signature: bytes
    ) -> tuple[Any, ...]:
        return ("issueWithSig", gs1_path, content.as_tuple(), issuer, deadline, signature)

    def amend(self, passport_id: bytes, base_version: int, content: PassportContent) -> TxResult:
        return self.chain.transact(
            self.contract, "amend", passport_id, base_version, content.as_tuple()
        )

    def amend_signed(
        self,
        passport_id: bytes,
        base_version: int,
        content: PassportContent,
        issuer: str,
        deadline: int,
        signature: bytes,
    ) -> TxResult:
        return self.chain.transact(
            self.contract,
            "amendWithSig",
            passport_id,
            base_version,
            content.as_tuple(),
            issuer,
            deadline,
            signature,
        )

    def recall(self, passport_id: bytes, reason_code: int, reason: str) -> TxResult:
        return self.chain.transact(self.contract, "recall", passport_id, int(reason_code), reason)

    def recall_signed(
        self,
        passport_id: bytes,
        reason_code: int,
        reason: str,
        issuer: str,
        deadline: int,
        signature: bytes,
    ) -> TxResult:
        return self.chain.transact(
            self.contract,
            "recallWithSig",
            passport_id,
            int(reason_code),
            reason,
            issuer,
            deadline,
            signature,
        )

    def revoke(self, passport_id: bytes, reason_code: int, reason: str) -> TxResult:
        return self.chain.transact(self.contract, "revoke", passport_id, int(reason_code), reason)

    def revoke_signed(
        self,
        passport_id: bytes,
        reason_code: int,
        reason: str,
        issuer: str,
        deadline: int,
        signature: bytes,
    ) -> TxResult:
        return self.chain.transact(
            self.contract,
            "revokeWithSig",
            passport_id,
            int(reason_code),
            reason,
            issuer,
            deadline,
            signature,
        )

    def attest(self, request: AttestationRequest) -> TxResult:
        """Record an attestation as the sending certifier; the id is in ``AttestationRecorded``."""
        return self.chain.transact(self.contract, "attest", request.as_tuple())

    def attest_signed(
        self, request: AttestationRequest, certifier: str, deadline: int, signature: bytes
    ) -> TxResult:
        return self.chain.transact(
            self.contract, "attestWithSig", request.as_tuple(), certifier, deadline, signature
        )

    def revoke_attestation(self, attestation_id: bytes, reason_code: int, reason: str) -> TxResult:
        return self.chain.transact(
            self.contract, "revokeAttestation", attestation_id, int(reason_code), reason
        )

    def revoke_attestation_signed(
        self,
        attestation_id: bytes,
        reason_code: int,
        reason: str,
        certifier: str,
        deadline: int,
        signature: bytes,
    ) -> TxResult:
        return self.chain.transact(
            self.contract,
            "revokeAttestationWithSig",
            attestation_id,
            int(reason_code),
            reason,
            certifier,
            deadline,
            signature,
        )

    # -- reads -------------------------------------------------------------

    def passport(self, passport_id: bytes, block: int | str = "latest") -> PassportHead | None:
        issuer, version, status, reason_code, changed_at = self.chain.call(
            self.contract, "passportOf", passport_id, block=block
        )
        if status == PassportStatus.NONE:
            return None
        return PassportHead(
            passport_id, issuer, version, PassportStatus(status), reason_code, changed_at
        )

    def version(self, passport_id: bytes, version: int) -> PassportVersionRecord:
        """Version ``version``; unknown ones raise ``PassportVersionUnknown``."""
        raw = self.chain.call(self.contract, "versionOf", passport_id, version)
        return _version_record(passport_id, version, raw)

    def latest_version(self, passport_id: bytes) -> PassportVersionRecord:
        head = self.passport(passport_id)
        raw = self.chain.call(self.contract, "latestVersionOf", passport_id)
        return _version_record(passport_id, head.version if head else 0, raw)

    def attestation(self, attestation_id: bytes) -> AttestationRecord | None:
        passport_id, claim, certifier, version, valid_until, recorded_at, revoked_at = (
            self.chain.call(self.contract, "attestationOf", attestation_id)
        )
        if recorded_at == 0:
            return None
        return AttestationRecord(
            attestation_id,
            passport_id,
            claim,
            certifier,
            version,
            valid_until,
            recorded_at,
            revoked_at,
            self.attestation_status(attestation_id),
        )

    def attestation_status(self, attestation_id: bytes) -> AttestationStatus:
        return AttestationStatus(
            self.chain.call(self.contract, "attestationStatus", attestation_id)
        )

    @staticmethod
    def attestation_id(
        passport_id: bytes, version: int, claim: bytes, certifier: str, nonce: int
    ) -> bytes:
        """The id the registry assigns: ``keccak256(abi.encode(...))`` of these fields."""
        return keccak(
            encode(
                ["bytes32", "uint32", "bytes32", "address", "uint256"],
                [passport_id, version, claim, certifier, nonce],
            )
        )


@dataclass(frozen=True)
class SignedVersion:
    """How a passport version reached the chain: the transaction and, if relayed, the
    issuer's EIP-712 signature with the exact message it signed."""

    tx_hash: str
    sender: str
    function: str
    signer: str | None = None
    primary_type: str | None = None
    message: dict[str, Any] | None = None
    signature: bytes | None = None


def signed_version(
    registry: PassportRegistryClient, tx_hash: str, passport_id: bytes, block: int | None = None
) -> SignedVersion | None:
    """Decode the transaction that recorded a version (None if the node does not hold it).

    The contract consumed the signer's nonce at the time, so the nonce in the signed
    message is found as the one whose digest the claimed signer signed: a plain key's
    signature recovers to it; a contract wallet's is the one its ERC-1271
    ``isValidSignature`` accepted at ``block``, the block that recorded the version.
    """
    found = registry.chain.transaction(tx_hash)
    if found is None:
        return None
    sender, data = found
    try:
        fn, args = registry.contract.decode_function_input(data)
    except ValueError:
        return SignedVersion(tx_hash, sender, "unknown")
    name = str(fn.fn_name)
    if name not in ("issueWithSig", "amendWithSig"):
        return SignedVersion(tx_hash, sender, name)
    raw = args["content"]
    fields = (
        "documentHash",
        "uri",
        "originCountry",
        "recycledContentBps",
        "carbonGramsCO2e",
        "waterLitres",
    )
    values = [raw[f] for f in fields] if isinstance(raw, dict) else list(raw)
    content = PassportContent(
        document_hash=bytes(values[0]),
        uri=str(values[1]),
        origin_country=bytes(values[2]).decode("ascii"),
        recycled_content_bps=int(values[3]),
        carbon_grams_co2e=int(values[4]),
        water_litres=int(values[5]),
    )
    signer = str(args["issuer"])
    signature = bytes(args["signature"])
    struct = ISSUE_PASSPORT if name == "issueWithSig" else AMEND_PASSPORT
    message: dict[str, Any] = {"issuer": signer, "passportId": passport_id}
    if name == "amendWithSig":
        message["baseVersion"] = args["baseVersion"]
    message |= {"content": content.message(), "deadline": args["deadline"]}
    domain = registry.domain()
    at: BlockIdentifier = "latest" if block is None else block
    wallet = registry.chain.has_code(signer, at)
    for nonce in range(registry.nonce(signer)):
        candidate = {**message, "nonce": nonce}
        digest = eip712.digest(domain, struct, candidate)
        if wallet:
            signed = registry.chain.is_valid_signature(signer, digest, signature, at)
        else:
            try:
                signed = eip712.recover(digest, signature) == signer
            except eip712.SignatureInvalid:
                break
        if signed:
            return SignedVersion(tx_hash, sender, name, signer, struct.name, candidate, signature)
    return SignedVersion(tx_hash, sender, name, signer, struct.name, None, signature)


def _version_record(passport_id: bytes, version: int, raw: Any) -> PassportVersionRecord:
    document_hash, country, recycled, carbon, water, recorded_at, uri = raw
    return PassportVersionRecord(
        passport_id=passport_id,
        version=version,
        document_hash=bytes(document_hash),
        origin_country=bytes(country).decode("ascii"),
        recycled_content_bps=recycled,
        carbon_grams_co2e=carbon,
        water_litres=water,
        recorded_at=recorded_at,
        uri=uri,
    )
