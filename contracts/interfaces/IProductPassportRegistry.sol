// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IOrganisationRegistry} from "./IOrganisationRegistry.sol";

/// @title IProductPassportRegistry
/// @notice Digital product passports: a versioned, hash-anchored record per GS1 key
///         (model, batch or serialised item), owned by the brand that issued it,
///         with certifier attestations over exact document versions.
/// @dev Passport ids are derived on chain: `keccak256(bytes(gs1Path))` of the canonical
///      GS1 Digital Link path (`/01/{gtin14}[/10/{lot}][/21/{serial}]`, lot and serial
///      percent-encoded per RFC 3986) passed to `issue`. Documents live off chain; the
///      registry stores their RFC 8785 (JCS) keccak256 hash, their URI and the key
///      figures a verifier needs without fetching them.
///
///      Who may speak for a product ({IOrganisationRegistry}): `issue` is accepted only
///      from a key that is active in the ISSUER role of the organisation owning the
///      GTIN's GS1 company prefix ({PassportPrefixNotOwned} otherwise), so nobody issues
///      for another brand's GTIN, lot or serial. The issuing key becomes the passport's
///      `issuer`; its organisation owns the passport for good: any active issuer key of
///      that organisation may amend, recall or revoke it (so key rotation keeps control),
///      and the admin may revoke it. Attestations are accepted only from keys active in
///      the CERTIFIER role, a role only the registrar grants. Every issuer and certifier
///      action is also relayable with the actor's EIP-712 signature (EOA or ERC-1271
///      wallet), following the `fooWithSig(args, signer, deadline, signature)` convention
///      with the signer's current {nonces} value inside the struct.
///
///      State machine: Active --amend--> Active; Active --recall--> Recalled;
///      Recalled --amend--> Recalled; Active|Recalled --revoke--> Revoked (terminal).
interface IProductPassportRegistry {
    /// @notice Lifecycle state of a passport.
    enum PassportStatus {
        None,
        Active,
        Recalled,
        Revoked
    }

    /// @notice State of one attestation as seen now.
    enum AttestationStatus {
        None,
        Valid,
        Expired,
        Revoked
    }

    /// @notice What an issuer commits to in one version.
    /// @param documentHash keccak256 of the RFC 8785 canonical JSON of the passport document.
    /// @param uri Where the document can be fetched.
    /// @param originCountry ISO 3166-1 alpha-2 code of the country of origin, as two ASCII bytes.
    /// @param recycledContentBps Mass-weighted recycled content in basis points (0..10000).
    /// @param carbonGramsCO2e Cradle-to-grave footprint in grams CO2e (rounded).
    /// @param waterLitres Water use over all lifecycle stages in litres (rounded).
    struct PassportContent {
        bytes32 documentHash;
        string uri;
        bytes2 originCountry;
        uint16 recycledContentBps;
        uint64 carbonGramsCO2e;
        uint64 waterLitres;
    }

    /// @notice The head record of a passport.
    /// @param issuer The brand account that issued (and owns) the passport.
    /// @param version Number of the latest version (versions count from 1).
    /// @param status Lifecycle state.
    /// @param reasonCode Reason code of the last recall or revocation (0 while Active).
    /// @param statusChangedAt Timestamp of the last status change (issue, recall, revoke).
    struct Passport {
        address issuer;
        uint32 version;
        PassportStatus status;
        uint16 reasonCode;
        uint40 statusChangedAt;
    }

    /// @notice One immutable version of a passport.
    struct PassportVersion {
        bytes32 documentHash;
        bytes2 originCountry;
        uint16 recycledContentBps;
        uint64 carbonGramsCO2e;
        uint64 waterLitres;
        uint64 recordedAt;
        string uri;
    }

    /// @notice What a certifier attests to: a claim about one exact passport version.
    /// @param passportId The passport.
    /// @param version The version attested (its document hash must match `documentHash`).
    /// @param documentHash Hash of the document the certifier reviewed.
    /// @param claim Claim type, e.g. `keccak256("carbon-verified")`.
    /// @param validUntil Timestamp after which the attestation is expired.
    struct AttestationRequest {
        bytes32 passportId;
        uint32 version;
        bytes32 documentHash;
        bytes32 claim;
        uint64 validUntil;
    }

    /// @notice A recorded attestation.
    struct Attestation {
        bytes32 passportId;
        bytes32 claim;
        address certifier;
        uint32 version;
        uint64 validUntil;
        uint64 recordedAt;
        uint64 revokedAt;
    }

    /// @notice A passport was issued (version 1) by `issuer`, a key of organisation
    ///         `issuerOrg`, for the GS1 key `gs1Path` (`passportId == keccak256(bytes(gs1Path))`).
    event PassportIssued(
        bytes32 indexed passportId,
        address indexed issuer,
        bytes32 indexed issuerOrg,
        string gs1Path,
        bytes32 documentHash,
        string uri,
        bytes2 originCountry,
        uint16 recycledContentBps,
        uint64 carbonGramsCO2e,
        uint64 waterLitres
    );

    /// @notice A new version of a passport was recorded; earlier versions stay readable.
    event PassportAmended(
        bytes32 indexed passportId,
        address indexed issuer,
        uint32 indexed version,
        bytes32 documentHash,
        string uri,
        bytes2 originCountry,
        uint16 recycledContentBps,
        uint64 carbonGramsCO2e,
        uint64 waterLitres
    );

    /// @notice The product was recalled; `reasonHash == keccak256(bytes(reason))`.
    event PassportRecalled(
        bytes32 indexed passportId, address indexed by, uint16 reasonCode, bytes32 reasonHash, string reason
    );

    /// @notice The passport was withdrawn for good.
    event PassportRevoked(
        bytes32 indexed passportId, address indexed by, uint16 reasonCode, bytes32 reasonHash, string reason
    );

    /// @notice A certifier's attestation was recorded; `certifierOrg` is the organisation
    ///         the certifying key speaks for.
    event AttestationRecorded(
        bytes32 indexed attestationId,
        bytes32 indexed passportId,
        address indexed certifier,
        bytes32 certifierOrg,
        uint32 version,
        bytes32 documentHash,
        bytes32 claim,
        uint64 validUntil
    );

    /// @notice A certifier withdrew its attestation.
    event AttestationRevoked(
        bytes32 indexed attestationId,
        bytes32 indexed passportId,
        address indexed certifier,
        uint16 reasonCode,
        bytes32 reasonHash,
        string reason
    );

    /// @notice `gs1Path` is not a GS1 Digital Link path `/01/{gtin14}[/...]` with a valid GTIN-14.
    error PassportKeyInvalid(string gs1Path);

    /// @notice The GTIN's company prefix belongs to `ownerOrg` (zero: to nobody), not to
    ///         the issuing key's organisation `issuerOrg`.
    error PassportPrefixNotOwned(string gtin, bytes32 issuerOrg, bytes32 ownerOrg);

    /// @notice A passport commits to a document; the zero hash commits to nothing.
    error PassportDocumentHashZero(bytes32 passportId);

    /// @notice `originCountry` is not two upper-case ASCII letters.
    error PassportOriginCountryInvalid(bytes32 passportId, bytes2 originCountry);

    /// @notice Recycled content above 100 %.
    error PassportRecycledShareInvalid(bytes32 passportId, uint16 recycledContentBps);

    /// @notice A passport with this id already exists.
    error PassportAlreadyIssued(bytes32 passportId, address issuer);

    /// @notice No passport with this id.
    error PassportUnknown(bytes32 passportId);

    /// @notice No such version of an existing passport.
    error PassportVersionUnknown(bytes32 passportId, uint32 version);

    /// @notice An amendment was prepared on top of another version than the current one.
    error PassportVersionConflict(bytes32 passportId, uint32 expectedVersion, uint32 actualVersion);

    /// @notice `account` is not a key active in the ISSUER role ({IOrganisationRegistry}).
    error PassportIssuerUnauthorized(address account);

    /// @notice `account` is not an active issuer key of the passport's organisation
    ///         `issuerOrg` (nor, for revoke, the admin).
    error PassportNotIssuer(bytes32 passportId, address account, bytes32 issuerOrg);

    /// @notice The action is not allowed in the passport's current state.
    error PassportInvalidStatus(bytes32 passportId, PassportStatus status);

    /// @notice Recalls and revocations need a non-zero reason code.
    error PassportReasonCodeZero(bytes32 passportId);

    /// @notice A signed request was submitted after its deadline.
    error PassportSignatureExpired(address signer, uint256 deadline, uint256 now);

    /// @notice The signature is not `signer`'s over the request (wrong key, data or nonce).
    error PassportSignatureInvalid(address signer);

    /// @notice `account` is not a key active in the CERTIFIER role ({IOrganisationRegistry}).
    error PassportCertifierUnauthorized(address account);

    /// @notice An attestation needs a claim type.
    error PassportAttestationClaimZero(bytes32 passportId);

    /// @notice The certifier reviewed another document than the one recorded for that version.
    error PassportAttestationHashMismatch(
        bytes32 passportId, uint32 version, bytes32 recordedHash, bytes32 attestedHash
    );

    /// @notice `validUntil` is not in the future.
    error PassportAttestationExpiryInvalid(uint64 validUntil, uint256 now);

    /// @notice No attestation with this id.
    error PassportAttestationUnknown(bytes32 attestationId);

    /// @notice Only the certifying key, or an active certifier key of its organisation, may revoke it.
    error PassportAttestationNotCertifier(bytes32 attestationId, address account, address certifier);

    /// @notice The attestation was already revoked.
    error PassportAttestationAlreadyRevoked(bytes32 attestationId, uint64 revokedAt);

    /// @notice The registry that says which organisation a key speaks for and who owns a GTIN.
    function ORGANISATIONS() external view returns (IOrganisationRegistry);

    /// @notice Issue the passport of GS1 key `gs1Path` (version 1) as the caller, an active
    ///         issuer key of the organisation owning the GTIN's company prefix.
    /// @dev Reverts {PassportKeyInvalid}, {PassportIssuerUnauthorized}, {PassportPrefixNotOwned},
    ///      {PassportAlreadyIssued} and the content checks.
    function issue(string calldata gs1Path, PassportContent calldata content) external;

    /// @notice Issue on behalf of `issuer` with its EIP-712 `IssuePassport` signature, whose
    ///         `passportId` is `keccak256(bytes(gs1Path))`.
    /// @dev Consumes `nonces(issuer)`; reverts {PassportSignatureExpired} after `deadline`.
    function issueWithSig(
        string calldata gs1Path,
        PassportContent calldata content,
        address issuer,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Record version `currentVersion + 1`; `baseVersion` must equal the current version.
    /// @return version The new version number.
    function amend(bytes32 passportId, uint32 baseVersion, PassportContent calldata content)
        external
        returns (uint32 version);

    /// @notice Amend on behalf of `issuer` with its EIP-712 `AmendPassport` signature.
    function amendWithSig(
        bytes32 passportId,
        uint32 baseVersion,
        PassportContent calldata content,
        address issuer,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint32 version);

    /// @notice Mark the product recalled (issuer only); the passport stays readable and amendable.
    /// @dev `reasonCode` values are listed in docs/passports.md (1 safety hazard, 2 regulatory, ...).
    function recall(bytes32 passportId, uint16 reasonCode, string calldata reason) external;

    /// @notice Recall on behalf of `issuer` with its EIP-712 `RecallPassport` signature.
    function recallWithSig(
        bytes32 passportId,
        uint16 reasonCode,
        string calldata reason,
        address issuer,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Withdraw the passport for good (issuer or admin).
    function revoke(bytes32 passportId, uint16 reasonCode, string calldata reason) external;

    /// @notice Revoke on behalf of `issuer` (the passport's issuer or an admin) with its
    ///         EIP-712 `RevokePassport` signature.
    function revokeWithSig(
        bytes32 passportId,
        uint16 reasonCode,
        string calldata reason,
        address issuer,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Record an attestation as the caller, a key active in the CERTIFIER role.
    /// @dev Consumes the caller's nonce; the id is
    ///      `keccak256(abi.encode(passportId, version, claim, certifier, nonce))`.
    function attest(AttestationRequest calldata request) external returns (bytes32 attestationId);

    /// @notice Record `certifier`'s attestation from its EIP-712 `Attest` signature.
    function attestWithSig(
        AttestationRequest calldata request,
        address certifier,
        uint256 deadline,
        bytes calldata signature
    ) external returns (bytes32 attestationId);

    /// @notice Withdraw an attestation: the certifying key (it needs no active role for this,
    ///         so a revoked key can still withdraw its statements) or an active certifier key of
    ///         its organisation.
    function revokeAttestation(bytes32 attestationId, uint16 reasonCode, string calldata reason) external;

    /// @notice Revoke on behalf of `certifier` with its EIP-712 `RevokeAttestation` signature.
    function revokeAttestationWithSig(
        bytes32 attestationId,
        uint16 reasonCode,
        string calldata reason,
        address certifier,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Head record of a passport; `status == None` when unknown.
    function passportOf(bytes32 passportId) external view returns (Passport memory);

    /// @notice Version `version` (1-based) of a passport.
    function versionOf(bytes32 passportId, uint32 version) external view returns (PassportVersion memory);

    /// @notice The latest version of a passport.
    function latestVersionOf(bytes32 passportId) external view returns (PassportVersion memory);

    /// @notice A recorded attestation.
    function attestationOf(bytes32 attestationId) external view returns (Attestation memory);

    /// @notice Valid, Expired or Revoked as of now; None when unknown.
    function attestationStatus(bytes32 attestationId) external view returns (AttestationStatus);
}
