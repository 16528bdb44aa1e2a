// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {IProductPassportRegistry} from "./interfaces/IProductPassportRegistry.sol";

/// @title ProductPassportRegistry
/// @notice Versioned product passports owned by their issuing brand, with recalls,
///         revocations and certifier attestations, all relayable with EIP-712 signatures.
contract ProductPassportRegistry is IProductPassportRegistry, AccessControl, EIP712, Nonces {
    /// @notice Version of this deployment's code; also the EIP-712 domain version.
    string public constant VERSION = "1.0.0";

    /// @notice Role of brand accounts allowed to issue passports.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");

    /// @notice Role of certification bodies allowed to attest.
    bytes32 public constant CERTIFIER_ROLE = keccak256("CERTIFIER_ROLE");

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

    mapping(bytes32 passportId => Passport) private _passports;
    mapping(bytes32 passportId => mapping(uint32 version => PassportVersion)) private _versions;
    mapping(bytes32 attestationId => Attestation) private _attestations;

    constructor(address admin) EIP712("ProductPassportRegistry", VERSION) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // -- passports -----------------------------------------------------------

    /// @inheritdoc IProductPassportRegistry
    function issue(bytes32 passportId, PassportContent calldata content) external {
        _issue(passportId, content, msg.sender);
    }

    /// @inheritdoc IProductPassportRegistry
    function issueWithSig(
        bytes32 passportId,
        PassportContent calldata content,
        address issuer,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(ISSUE_TYPEHASH, issuer, passportId, _hashContent(content), _useNonce(issuer), deadline)
        );
        _checkSignature(issuer, structHash, deadline, signature);
        _issue(passportId, content, issuer);
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

    function _issue(bytes32 passportId, PassportContent calldata content, address issuer) private {
        if (!hasRole(ISSUER_ROLE, issuer)) revert PassportIssuerUnauthorized(issuer);
        if (passportId == bytes32(0)) revert PassportIdZero();
        Passport storage passport = _passports[passportId];
        if (passport.status != PassportStatus.None) revert PassportAlreadyIssued(passportId, passport.issuer);
        _validateContent(passportId, content);
        passport.issuer = issuer;
        passport.version = 1;
        passport.status = PassportStatus.Active;
        passport.statusChangedAt = uint40(_now());
        _storeVersion(passportId, 1, content);
        emit PassportIssued(
            passportId,
            issuer,
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
        if (by != passport.issuer && !hasRole(DEFAULT_ADMIN_ROLE, by)) {
            revert PassportNotIssuer(passportId, by, passport.issuer);
        }
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
        if (attestation.certifier != by) {
            revert PassportAttestationNotCertifier(attestationId, by, attestation.certifier);
        }
        if (attestation.revokedAt != 0) revert PassportAttestationAlreadyRevoked(attestationId, attestation.revokedAt);
        attestation.revokedAt = uint64(_now());
        emit AttestationRevoked(attestationId, attestation.passportId, by, reasonCode, keccak256(bytes(reason)), reason);
    }

    function _attest(AttestationRequest calldata request, address certifier, uint256 nonce)
        private
        returns (bytes32 attestationId)
    {
        if (!hasRole(CERTIFIER_ROLE, certifier)) revert PassportCertifierUnauthorized(certifier);
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

    function _requireIssuer(bytes32 passportId, Passport storage passport, address account) private view {
        if (account != passport.issuer) revert PassportNotIssuer(passportId, account, passport.issuer);
        if (!hasRole(ISSUER_ROLE, account)) revert PassportIssuerUnauthorized(account);
    }

    function _checkSignature(address signer, bytes32 structHash, uint256 deadline, bytes calldata signature)
        private
        view
    {
        uint256 now_ = _now();
        if (now_ > deadline) revert PassportSignatureExpired(signer, deadline, now_);
        if (!SignatureChecker.isValidSignatureNow(signer, _hashTypedDataV4(structHash), signature)) {
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

    /// @dev Clock seam; test harnesses may override.
    function _now() internal view virtual returns (uint256) {
        return block.timestamp;
    }
}
