// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IOrganisationRegistry} from "./interfaces/IOrganisationRegistry.sol";
import {IProductPassportRegistry} from "./interfaces/IProductPassportRegistry.sol";
import {GS1} from "./utils/GS1.sol";
import {OrgRoles} from "./utils/OrgRoles.sol";
import {SignatureRule} from "./utils/SignatureRule.sol";
import {Delegated} from "./utils/Delegated.sol";

/// @title ProductPassportRegistry
/// @notice Versioned product passports owned by the organisation that owns the GTIN's
///         GS1 company prefix, with recalls, revocations and certifier attestations, all
///         relayable with EIP-712 signatures.
contract ProductPassportRegistry is IProductPassportRegistry, AccessControl, Delegated {
    /// @inheritdoc IProductPassportRegistry
    IOrganisationRegistry public immutable ORGANISATIONS;

    bytes32 public constant PASSPORT_CONTENT_TYPEHASH = keccak256(
        "PassportContent(bytes32 documentHash,string uri,bytes2 originCountry,uint16 recycledContentBps,"
        "uint64 carbonGramsCO2e,uint64 waterLitres)"
    );

    bytes32 public constant ISSUE_TYPEHASH = keccak256(
        "IssuePassport(address issuer,bytes32 passportId,PassportContent content,uint256 nonce,uint256 deadline)"
        "PassportContent(bytes32 documentHash,string uri,bytes2 originCountry,uint16 recycledContentBps,"
        "uint64 carbonGramsCO2e,uint64 waterLitres)"
    );

    bytes32 public constant AMEND_TYPEHASH = keccak256(
        "AmendPassport(address issuer,bytes32 passportId,uint32 baseVersion,PassportContent content,uint256 nonce,"
        "uint256 deadline)"
        "PassportContent(bytes32 documentHash,string uri,bytes2 originCountry,uint16 recycledContentBps,"
        "uint64 carbonGramsCO2e,uint64 waterLitres)"
    );

    bytes32 public constant ATTEST_TYPEHASH = keccak256(
        "Attest(address certifier,bytes32 passportId,uint32 version,bytes32 documentHash,bytes32 claim,"
        "uint64 validUntil,uint256 nonce,uint256 deadline)"
    );

    bytes32 public constant RECALL_TYPEHASH = keccak256(
        "RecallPassport(address issuer,bytes32 passportId,uint16 reasonCode,string reason,uint256 nonce,"
        "uint256 deadline)"
    );

    bytes32 public constant REVOKE_TYPEHASH = keccak256(
        "RevokePassport(address issuer,bytes32 passportId,uint16 reasonCode,string reason,uint256 nonce,"
        "uint256 deadline)"
    );

    bytes32 public constant REVOKE_ATTESTATION_TYPEHASH = keccak256(
        "RevokeAttestation(address certifier,bytes32 attestationId,uint16 reasonCode,string reason,"
        "uint256 nonce,uint256 deadline)"
    );

    uint16 private constant _MAX_BPS = 10_000;
    // "/01/" + 14 digits: the shortest canonical GS1 Digital Link path (a model passport).
    uint256 private constant _GTIN_PATH_LENGTH = 18;

    mapping(bytes32 passportId => Passport) private _passports;
    mapping(bytes32 passportId => mapping(uint32 version => PassportVersion)) private _versions;
    mapping(bytes32 attestationId => Attestation) private _attestations;

    constructor(address admin, IOrganisationRegistry organisations) Delegated("ProductPassportRegistry") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        ORGANISATIONS = organisations;
    }

    // -- passports -----------------------------------------------------------

    /// @inheritdoc IProductPassportRegistry
    function issue(string calldata gs1Path, PassportContent calldata content) external {
        _issue(gs1Path, content, msg.sender);
    }

    /// @inheritdoc IProductPassportRegistry
    function issueWithSig(
        string calldata gs1Path,
        PassportContent calldata content,
        address issuer,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(
                ISSUE_TYPEHASH, issuer, keccak256(bytes(gs1Path)), _hashContent(content), _useNonce(issuer), deadline
            )
        );
        _checkSignature(issuer, structHash, deadline, signature);
        _issue(gs1Path, content, issuer);
    }

    /// @inheritdoc IProductPassportRegistry
    function amend(bytes32 passportId, uint32 baseVersion, PassportContent calldata content)
        external
        returns (uint32)
    {
        return _amend(passportId, baseVersion, content, msg.sender);
    }

    /// @inheritdoc IProductPassportRegistry
    function amendWithSig(
        bytes32 passportId,
        uint32 baseVersion,
        PassportContent calldata content,
        address issuer,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint32) {
        bytes32 structHash = keccak256(
            abi.encode(
                AMEND_TYPEHASH, issuer, passportId, baseVersion, _hashContent(content), _useNonce(issuer), deadline
            )
        );
        _checkSignature(issuer, structHash, deadline, signature);
        return _amend(passportId, baseVersion, content, issuer);
    }

    /// @inheritdoc IProductPassportRegistry
    function recall(bytes32 passportId, uint16 reasonCode, string calldata reason) external {
        _recall(passportId, reasonCode, reason, msg.sender);
    }

    /// @inheritdoc IProductPassportRegistry
    function recallWithSig(
        bytes32 passportId,
        uint16 reasonCode,
        string calldata reason,
        address issuer,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(
                RECALL_TYPEHASH,
                issuer,
                passportId,
                reasonCode,
                keccak256(bytes(reason)),
                _useNonce(issuer),
                deadline
            )
        );
        _checkSignature(issuer, structHash, deadline, signature);
        _recall(passportId, reasonCode, reason, issuer);
    }

    /// @inheritdoc IProductPassportRegistry
    function revoke(bytes32 passportId, uint16 reasonCode, string calldata reason) external {
        _revoke(passportId, reasonCode, reason, msg.sender);
    }

    /// @inheritdoc IProductPassportRegistry
    function revokeWithSig(
        bytes32 passportId,
        uint16 reasonCode,
        string calldata reason,
        address issuer,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(
                REVOKE_TYPEHASH,
                issuer,
                passportId,
                reasonCode,
                keccak256(bytes(reason)),
                _useNonce(issuer),
                deadline
            )
        );
        _checkSignature(issuer, structHash, deadline, signature);
        _revoke(passportId, reasonCode, reason, issuer);
    }

    // -- attestations --------------------------------------------------------

    /// @inheritdoc IProductPassportRegistry
    function attest(AttestationRequest calldata request) external returns (bytes32) {
        return _attest(request, msg.sender, _useNonce(msg.sender));
    }

    /// @inheritdoc IProductPassportRegistry
    function attestWithSig(
        AttestationRequest calldata request,
        address certifier,
        uint256 deadline,
        bytes calldata signature
    ) external returns (bytes32) {
        uint256 nonce = _useNonce(certifier);
        bytes32 structHash = keccak256(
            abi.encode(
                ATTEST_TYPEHASH,
                certifier,
                request.passportId,
                request.version,
                request.documentHash,
                request.claim,
                request.validUntil,
                nonce,
                deadline
            )
        );
        _checkSignature(certifier, structHash, deadline, signature);
        return _attest(request, certifier, nonce);
    }

    /// @inheritdoc IProductPassportRegistry
    function revokeAttestation(bytes32 attestationId, uint16 reasonCode, string calldata reason) external {
        _revokeAttestation(attestationId, reasonCode, reason, msg.sender);
    }

    /// @inheritdoc IProductPassportRegistry
    function revokeAttestationWithSig(
        bytes32 attestationId,
        uint16 reasonCode,
        string calldata reason,
        address certifier,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(
                REVOKE_ATTESTATION_TYPEHASH,
                certifier,
                attestationId,
                reasonCode,
                keccak256(bytes(reason)),
                _useNonce(certifier),
                deadline
            )
        );
        _checkSignature(certifier, structHash, deadline, signature);
        _revokeAttestation(attestationId, reasonCode, reason, certifier);
    }

    // -- views ---------------------------------------------------------------

    /// @inheritdoc IProductPassportRegistry
    function passportOf(bytes32 passportId) external view returns (Passport memory) {
        return _passports[passportId];
    }

    /// @inheritdoc IProductPassportRegistry
    function versionOf(bytes32 passportId, uint32 version) public view returns (PassportVersion memory) {
        Passport storage passport = _passports[passportId];
        if (passport.status == PassportStatus.None) revert PassportUnknown(passportId);
        if (version < 1 || version > passport.version) revert PassportVersionUnknown(passportId, version);
        return _versions[passportId][version];
    }

    /// @inheritdoc IProductPassportRegistry
    function latestVersionOf(bytes32 passportId) external view returns (PassportVersion memory) {
        return versionOf(passportId, _passports[passportId].version);
    }

    /// @inheritdoc IProductPassportRegistry
    function attestationOf(bytes32 attestationId) external view returns (Attestation memory) {
        return _attestations[attestationId];
    }

    /// @inheritdoc IProductPassportRegistry
    function attestationStatus(bytes32 attestationId) external view returns (AttestationStatus) {
        Attestation storage attestation = _attestations[attestationId];
        if (attestation.certifier == address(0)) return AttestationStatus.None;
        if (attestation.revokedAt != 0) return AttestationStatus.Revoked;
        if (_now() > attestation.validUntil) return AttestationStatus.Expired;
        return AttestationStatus.Valid;
    }

    // -- internals -----------------------------------------------------------

    function _issue(string calldata gs1Path, PassportContent calldata content, address issuer) private {
        bytes32 issuerOrg = _authoriseIssue(gs1Path, issuer);
        bytes32 passportId = keccak256(bytes(gs1Path));
        Passport storage passport = _passports[passportId];
        if (passport.status != PassportStatus.None) revert PassportAlreadyIssued(passportId, passport.issuer);
        _validateContent(passportId, content);
        passport.issuer = issuer;
        passport.version = 1;
        passport.status = PassportStatus.Active;
        passport.statusChangedAt = uint40(_now());
        _storeVersion(passportId, 1, content);
        _emitIssued(passportId, issuer, issuerOrg, gs1Path, content);
    }

    /// @dev The issuing key's organisation, which must own the GTIN's company prefix.
    function _authoriseIssue(string calldata gs1Path, address issuer) private view returns (bytes32 issuerOrg) {
        issuerOrg = ORGANISATIONS.activeOrgOf(issuer, OrgRoles.ISSUER);
        if (issuerOrg == bytes32(0)) revert PassportIssuerUnauthorized(issuer);
        string memory gtin = _gtinOf(gs1Path);
        // The prefix length only says which prefix matched; the owner is all that counts.
        // slither-disable-next-line unused-return
        (bytes32 ownerOrg,) = ORGANISATIONS.ownerOfGtin(gtin);
        if (ownerOrg != issuerOrg) revert PassportPrefixNotOwned(gtin, issuerOrg, ownerOrg);
    }

    function _emitIssued(
        bytes32 passportId,
        address issuer,
        bytes32 issuerOrg,
        string calldata gs1Path,
        PassportContent calldata content
    ) private {
        emit PassportIssued(
            passportId,
            issuer,
            issuerOrg,
            gs1Path,
            content.documentHash,
            content.uri,
            content.originCountry,
            content.recycledContentBps,
            content.carbonGramsCO2e,
            content.waterLitres
        );
    }

    function _amend(bytes32 passportId, uint32 baseVersion, PassportContent calldata content, address issuer)
        private
        returns (uint32 version)
    {
        Passport storage passport = _existing(passportId);
        _requireIssuer(passportId, passport, issuer);
        if (passport.status == PassportStatus.Revoked) revert PassportInvalidStatus(passportId, passport.status);
        if (baseVersion != passport.version) revert PassportVersionConflict(passportId, baseVersion, passport.version);
        _validateContent(passportId, content);
        // Cannot overflow in practice: one increment per transaction, 2^32 amendments.
        unchecked {
            version = baseVersion + 1;
        }
        passport.version = version;
        _storeVersion(passportId, version, content);
        emit PassportAmended(
            passportId,
            issuer,
            version,
            content.documentHash,
            content.uri,
            content.originCountry,
            content.recycledContentBps,
            content.carbonGramsCO2e,
            content.waterLitres
        );
    }

    function _recall(bytes32 passportId, uint16 reasonCode, string calldata reason, address by) private {
        Passport storage passport = _existing(passportId);
        _requireIssuer(passportId, passport, by);
        if (passport.status != PassportStatus.Active) revert PassportInvalidStatus(passportId, passport.status);
        if (reasonCode == 0) revert PassportReasonCodeZero(passportId);
        passport.status = PassportStatus.Recalled;
        passport.reasonCode = reasonCode;
        passport.statusChangedAt = uint40(_now());
        emit PassportRecalled(passportId, by, reasonCode, keccak256(bytes(reason)), reason);
    }

    function _revoke(bytes32 passportId, uint16 reasonCode, string calldata reason, address by) private {
        Passport storage passport = _existing(passportId);
        if (!hasRole(DEFAULT_ADMIN_ROLE, by)) _requireIssuer(passportId, passport, by);
        if (passport.status == PassportStatus.Revoked) revert PassportInvalidStatus(passportId, passport.status);
        if (reasonCode == 0) revert PassportReasonCodeZero(passportId);
        passport.status = PassportStatus.Revoked;
        passport.reasonCode = reasonCode;
        passport.statusChangedAt = uint40(_now());
        emit PassportRevoked(passportId, by, reasonCode, keccak256(bytes(reason)), reason);
    }

    function _revokeAttestation(bytes32 attestationId, uint16 reasonCode, string calldata reason, address by)
        private
    {
        Attestation storage attestation = _attestations[attestationId];
        if (attestation.certifier == address(0)) revert PassportAttestationUnknown(attestationId);
        // The certifying key itself (it needs no active role to withdraw its own statement),
        // or an active certifier key of the same organisation (after a key rotation).
        if (attestation.certifier != by) {
            bytes32 certifierOrg = ORGANISATIONS.keyOf(attestation.certifier).orgId;
            if (ORGANISATIONS.activeOrgOf(by, OrgRoles.CERTIFIER) != certifierOrg) {
                revert PassportAttestationNotCertifier(attestationId, by, attestation.certifier);
            }
        }
        if (attestation.revokedAt != 0) revert PassportAttestationAlreadyRevoked(attestationId, attestation.revokedAt);
        attestation.revokedAt = uint64(_now());
        emit AttestationRevoked(attestationId, attestation.passportId, by, reasonCode, keccak256(bytes(reason)), reason);
    }

    function _attest(AttestationRequest calldata request, address certifier, uint256 nonce)
        private
        returns (bytes32 attestationId)
    {
        bytes32 certifierOrg = ORGANISATIONS.activeOrgOf(certifier, OrgRoles.CERTIFIER);
        if (certifierOrg == bytes32(0)) revert PassportCertifierUnauthorized(certifier);
        if (request.claim == bytes32(0)) revert PassportAttestationClaimZero(request.passportId);
        Passport storage passport = _existing(request.passportId);
        if (passport.status == PassportStatus.Revoked) {
            revert PassportInvalidStatus(request.passportId, passport.status);
        }
        if (request.version < 1 || request.version > passport.version) {
            revert PassportVersionUnknown(request.passportId, request.version);
        }
        bytes32 recorded = _versions[request.passportId][request.version].documentHash;
        if (recorded != request.documentHash) {
            revert PassportAttestationHashMismatch(request.passportId, request.version, recorded, request.documentHash);
        }
        uint256 now_ = _now();
        if (request.validUntil <= now_) revert PassportAttestationExpiryInvalid(request.validUntil, now_);
        attestationId = keccak256(abi.encode(request.passportId, request.version, request.claim, certifier, nonce));
        _attestations[attestationId] = Attestation({
            passportId: request.passportId,
            claim: request.claim,
            certifier: certifier,
            version: request.version,
            validUntil: request.validUntil,
            recordedAt: uint64(now_),
            revokedAt: 0
        });
        emit AttestationRecorded(
            attestationId,
            request.passportId,
            certifier,
            certifierOrg,
            request.version,
            request.documentHash,
            request.claim,
            request.validUntil
        );
    }

    function _storeVersion(bytes32 passportId, uint32 version, PassportContent calldata content) private {
        _versions[passportId][version] = PassportVersion({
            documentHash: content.documentHash,
            originCountry: content.originCountry,
            recycledContentBps: content.recycledContentBps,
            carbonGramsCO2e: content.carbonGramsCO2e,
            waterLitres: content.waterLitres,
            recordedAt: uint64(_now()),
            uri: content.uri
        });
    }

    function _validateContent(bytes32 passportId, PassportContent calldata content) private pure {
        if (content.documentHash == bytes32(0)) revert PassportDocumentHashZero(passportId);
        bytes2 country = content.originCountry;
        if (!_isUpperAscii(country[0]) || !_isUpperAscii(country[1])) {
            revert PassportOriginCountryInvalid(passportId, country);
        }
        if (content.recycledContentBps > _MAX_BPS) {
            revert PassportRecycledShareInvalid(passportId, content.recycledContentBps);
        }
    }

    function _existing(bytes32 passportId) private view returns (Passport storage passport) {
        passport = _passports[passportId];
        if (passport.status == PassportStatus.None) revert PassportUnknown(passportId);
    }

    /// @dev `account` is an active issuer key of the organisation whose key issued the
    ///      passport. Keys never change organisation, so the issuing key names it for good,
    ///      and a brand that rotated its keys keeps control of its passports.
    function _requireIssuer(bytes32 passportId, Passport storage passport, address account) private view {
        bytes32 issuerOrg = ORGANISATIONS.keyOf(passport.issuer).orgId;
        if (ORGANISATIONS.activeOrgOf(account, OrgRoles.ISSUER) != issuerOrg) {
            revert PassportNotIssuer(passportId, account, issuerOrg);
        }
    }

    /// @dev The GTIN-14 of a canonical GS1 Digital Link path `/01/{gtin14}[/...]`.
    function _gtinOf(string calldata gs1Path) private pure returns (string memory gtin) {
        bytes calldata path = bytes(gs1Path);
        if (
            path.length < _GTIN_PATH_LENGTH || bytes4(path[0:4]) != "/01/"
                || (path.length > _GTIN_PATH_LENGTH && path[_GTIN_PATH_LENGTH] != "/")
        ) revert PassportKeyInvalid(gs1Path);
        gtin = string(path[4:_GTIN_PATH_LENGTH]);
        if (!GS1.isValidGtin14(bytes(gtin))) revert PassportKeyInvalid(gs1Path);
    }

    function _checkSignature(address signer, bytes32 structHash, uint256 deadline, bytes calldata signature)
        private
        view
    {
        uint256 now_ = _now();
        if (now_ > deadline) revert PassportSignatureExpired(signer, deadline, now_);
        if (!SignatureRule.isValidNow(signer, _hashTypedDataV4(structHash), signature)) {
            revert PassportSignatureInvalid(signer);
        }
    }

    function _hashContent(PassportContent calldata content) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                PASSPORT_CONTENT_TYPEHASH,
                content.documentHash,
                keccak256(bytes(content.uri)),
                content.originCountry,
                content.recycledContentBps,
                content.carbonGramsCO2e,
                content.waterLitres
            )
        );
    }

    function _isUpperAscii(bytes1 b) private pure returns (bool) {
        return b >= 0x41 && b <= 0x5A;
    }
}
