// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IOrganisationRegistry} from "./interfaces/IOrganisationRegistry.sol";
import {GS1} from "./utils/GS1.sol";
import {OrgRoles} from "./utils/OrgRoles.sol";
import {SignatureRule} from "./utils/SignatureRule.sol";
import {Delegated} from "./utils/Delegated.sol";

/// @title OrganisationRegistry
/// @notice Verified organisations, their GS1 company prefixes and their signer keys;
///         see {IOrganisationRegistry}.
contract OrganisationRegistry is IOrganisationRegistry, AccessControl, Delegated {
    /// @notice Role of accounts that register organisations and assign prefixes.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    /// @notice Key role bits ({OrgRoles}). ADMIN keys add and revoke the organisation's keys.
    uint32 public constant ROLE_ADMIN = OrgRoles.ADMIN;
    uint32 public constant ROLE_ISSUER = OrgRoles.ISSUER;
    uint32 public constant ROLE_SELLER = OrgRoles.SELLER;
    uint32 public constant ROLE_SUPPLIER = OrgRoles.SUPPLIER;
    uint32 public constant ROLE_CARRIER = OrgRoles.CARRIER;
    uint32 public constant ROLE_WAREHOUSE = OrgRoles.WAREHOUSE;
    uint32 public constant ROLE_CUSTOMS_BROKER = OrgRoles.CUSTOMS_BROKER;
    uint32 public constant ROLE_CERTIFIER = OrgRoles.CERTIFIER;
    uint32 public constant ROLE_ALLIANCE_MEMBER = OrgRoles.ALLIANCE_MEMBER;
    uint32 public constant ROLE_CONSIGNEE = OrgRoles.CONSIGNEE;
    uint32 public constant ROLE_ARBITER = OrgRoles.ARBITER;
    uint32 public constant ROLE_INSURER = OrgRoles.INSURER;
    uint32 public constant ALL_ROLES = OrgRoles.ALL;

    bytes32 public constant KEY_CONSENT_TYPEHASH = keccak256("KeyConsent(bytes32 orgId,address key,uint32 roles)");

    bytes32 public constant ADD_KEY_TYPEHASH = keccak256(
        "AddKey(bytes32 orgId,address key,uint32 roles,address admin,uint256 nonce,uint256 deadline)"
    );

    bytes32 public constant REVOKE_KEY_TYPEHASH =
        keccak256("RevokeKey(address key,address admin,uint256 nonce,uint256 deadline)");

    uint256 private constant _MAX_NAME_BYTES = 200;
    uint256 private constant _MAX_DOMAIN_BYTES = 253;

    mapping(bytes32 orgId => Organisation) private _orgs;
    mapping(address key => KeyRecord) private _keys;
    // Prefix key (see {GS1-prefixKey}) => owner.
    mapping(uint256 prefixKey => bytes32 orgId) private _prefixOwner;
    // Prefix key => number of assigned prefixes that strictly extend it (the overlap check
    // in the other direction, without enumerating).
    mapping(uint256 prefixKey => uint256 count) private _extensions;

    constructor(address admin, address registrar) Delegated("OrganisationRegistry") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGISTRAR_ROLE, registrar);
    }

    // ------------------------------------------------------- organisations

    /// @inheritdoc IOrganisationRegistry
    function registerOrganisation(
        bytes32 orgId,
        OrganisationInput calldata org,
        address firstAdmin,
        string[] calldata prefixes
    ) external onlyRole(REGISTRAR_ROLE) {
        if (orgId == bytes32(0)) revert OrgIdZero();
        Organisation storage o = _orgs[orgId];
        if (o.registeredAt != 0) revert OrgAlreadyRegistered(orgId);
        uint256 nameLength = bytes(org.legalName).length;
        if (nameLength == 0 || nameLength > _MAX_NAME_BYTES) revert OrgNameInvalid(orgId, nameLength);
        if (!_isUpper(org.country[0]) || !_isUpper(org.country[1])) revert OrgCountryInvalid(orgId, org.country);
        uint256 domainLength = bytes(org.webDomain).length;
        if (domainLength > _MAX_DOMAIN_BYTES) revert OrgDomainInvalid(orgId, domainLength);
        if (org.roles & ~ALL_ROLES != 0) revert OrgRolesInvalid(orgId, org.roles);
        uint32 roles = org.roles | ROLE_ADMIN;
        o.legalName = org.legalName;
        o.country = org.country;
        o.webDomain = org.webDomain;
        o.roles = roles;
        o.registeredAt = uint64(block.number);
        o.registrar = msg.sender;
        emit OrganisationRegistered(orgId, msg.sender, org.legalName, org.country, org.webDomain, roles);
        if (firstAdmin != address(0)) _addKey(orgId, firstAdmin, ROLE_ADMIN, msg.sender);
        for (uint256 i; i < prefixes.length; ++i) {
            _assignPrefix(orgId, prefixes[i]);
        }
    }

    /// @inheritdoc IOrganisationRegistry
    function grantOrganisationRoles(bytes32 orgId, uint32 roles) external onlyRole(REGISTRAR_ROLE) {
        Organisation storage o = _existing(orgId);
        if (roles == 0 || roles & ~ALL_ROLES != 0) revert OrgRolesInvalid(orgId, roles);
        uint32 all = o.roles | roles;
        o.roles = all;
        emit OrganisationRolesGranted(orgId, msg.sender, roles, all);
    }

    // ------------------------------------------------------------ prefixes

    /// @inheritdoc IOrganisationRegistry
    function assignPrefix(bytes32 orgId, string calldata prefix) external onlyRole(REGISTRAR_ROLE) {
        _existing(orgId);
        _assignPrefix(orgId, prefix);
    }

    function _assignPrefix(bytes32 orgId, string calldata prefix) private {
        bytes memory digits = bytes(prefix);
        uint256 key = _prefixKey(prefix);
        uint256 n = digits.length;
        // Every assigned prefix that equals or is a prefix of this one.
        uint256 value = 0;
        for (uint256 i; i < n; ++i) {
            value = value * 10 + (uint8(digits[i]) - 0x30);
            if (i + 1 < GS1.MIN_PREFIX_LENGTH) continue;
            bytes32 owner = _prefixOwner[GS1.prefixKey(value, i + 1)];
            if (owner != bytes32(0)) revert OrgPrefixOverlaps(prefix, owner, string(_slice(digits, i + 1)));
        }
        // Every assigned prefix that this one is a prefix of.
        uint256 longer = _extensions[key];
        if (longer != 0) revert OrgPrefixExtended(prefix, longer);
        _prefixOwner[key] = orgId;
        _countExtensions(digits, true);
        emit PrefixAssigned(orgId, msg.sender, prefix);
    }

    /// @inheritdoc IOrganisationRegistry
    function releasePrefix(bytes32 orgId, string calldata prefix) external onlyRole(REGISTRAR_ROLE) {
        uint256 key = _prefixKey(prefix);
        if (orgId == bytes32(0) || _prefixOwner[key] != orgId) revert OrgPrefixNotAssigned(prefix, orgId);
        delete _prefixOwner[key];
        _countExtensions(bytes(prefix), false);
        emit PrefixReleased(orgId, msg.sender, prefix);
    }

    /// @dev Adds (or removes) one to the extension count of every proper prefix of
    ///      `digits` that is long enough to be a company prefix.
    function _countExtensions(bytes memory digits, bool add) private {
        uint256 value = 0;
        for (uint256 i; i + 1 < digits.length; ++i) {
            value = value * 10 + (uint8(digits[i]) - 0x30);
            if (i + 1 < GS1.MIN_PREFIX_LENGTH) continue;
            uint256 k = GS1.prefixKey(value, i + 1);
            // At most one assignment per distinct longer prefix, and a removal follows its
            // own addition: the count never underflows nor reaches 2^256.
            unchecked {
                if (add) ++_extensions[k];
                else --_extensions[k];
            }
        }
    }

    function _prefixKey(string calldata prefix) private pure returns (uint256 key) {
        bool ok;
        (ok, key) = GS1.parsePrefix(bytes(prefix));
        if (!ok) revert OrgPrefixInvalid(prefix);
    }

    // ---------------------------------------------------------------- keys

    /// @inheritdoc IOrganisationRegistry
    function addKey(KeyGrant calldata grant, bytes calldata keyConsent) external {
        _requireAdmin(grant.orgId, msg.sender);
        _checkConsent(grant, keyConsent, msg.sender);
        _addKey(grant.orgId, grant.key, grant.roles, msg.sender);
    }

    /// @inheritdoc IOrganisationRegistry
    function addKeyWithSig(
        KeyGrant calldata grant,
        bytes calldata keyConsent,
        address admin,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(ADD_KEY_TYPEHASH, grant.orgId, grant.key, grant.roles, admin, _useNonce(admin), deadline)
        );
        _checkSignature(admin, structHash, deadline, signature);
        _requireAdmin(grant.orgId, admin);
        _checkConsent(grant, keyConsent, admin);
        _addKey(grant.orgId, grant.key, grant.roles, admin);
    }

    /// @inheritdoc IOrganisationRegistry
    function revokeKey(address key) external {
        _revokeKey(key, msg.sender);
    }

    /// @inheritdoc IOrganisationRegistry
    function revokeKeyWithSig(address key, address admin, uint256 deadline, bytes calldata signature) external {
        bytes32 structHash = keccak256(abi.encode(REVOKE_KEY_TYPEHASH, key, admin, _useNonce(admin), deadline));
        _checkSignature(admin, structHash, deadline, signature);
        _revokeKey(key, admin);
    }

    function _addKey(bytes32 orgId, address key, uint32 roles, address by) private {
        if (key == address(0)) revert OrgKeyZero();
        KeyRecord storage k = _keys[key];
        if (k.orgId != bytes32(0)) revert OrgKeyAlreadyRegistered(key, k.orgId);
        uint32 orgRoles = _orgs[orgId].roles;
        if (roles == 0 || roles & ~orgRoles != 0) revert OrgKeyRolesInvalid(orgId, key, roles, orgRoles);
        uint64 from = uint64(block.number);
        _keys[key] = KeyRecord({orgId: orgId, roles: roles, addedAt: from, revokedAt: 0});
        emit KeyAdded(orgId, key, by, roles, from);
    }

    function _revokeKey(address key, address by) private {
        KeyRecord storage k = _keys[key];
        bytes32 orgId = k.orgId;
        if (orgId == bytes32(0)) revert OrgKeyUnknown(key);
        _requireAdmin(orgId, by);
        if (k.revokedAt != 0) revert OrgKeyAlreadyRevoked(key, k.revokedAt);
        uint64 until = uint64(block.number);
        k.revokedAt = until;
        emit KeyRevoked(orgId, key, by, until);
    }

    /// @dev `account` is a registrar, or an active admin key of the (existing) organisation.
    function _requireAdmin(bytes32 orgId, address account) private view {
        _existing(orgId);
        if (hasRole(REGISTRAR_ROLE, account)) return;
        KeyRecord storage k = _keys[account];
        if (k.orgId != orgId || k.revokedAt != 0 || k.roles & ROLE_ADMIN == 0) revert OrgNotAdmin(orgId, account);
    }

    /// @dev An organisation admin adds only keys that signed `KeyConsent` for this very
    ///      grant; a registrar vouches for the key itself and may skip the consent.
    function _checkConsent(KeyGrant calldata grant, bytes calldata keyConsent, address by) private view {
        if (keyConsent.length == 0 && hasRole(REGISTRAR_ROLE, by)) return;
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(KEY_CONSENT_TYPEHASH, grant.orgId, grant.key, grant.roles)));
        if (!SignatureRule.isValidNow(grant.key, digest, keyConsent)) revert OrgKeyConsentInvalid(grant.key);
    }

    function _checkSignature(address signer, bytes32 structHash, uint256 deadline, bytes calldata signature)
        private
        view
    {
        uint256 now_ = _now();
        if (now_ > deadline) revert OrgSignatureExpired(signer, deadline, now_);
        if (!SignatureRule.isValidNow(signer, _hashTypedDataV4(structHash), signature)) {
            revert OrgSignatureInvalid(signer);
        }
    }

    // --------------------------------------------------------------- views

    /// @inheritdoc IOrganisationRegistry
    function organisation(bytes32 orgId) external view returns (Organisation memory) {
        return _orgs[orgId];
    }

    /// @inheritdoc IOrganisationRegistry
    function keyOf(address key) external view returns (KeyRecord memory) {
        return _keys[key];
    }

    /// @inheritdoc IOrganisationRegistry
    function isActive(address key, uint32 role) external view returns (bool) {
        return _activeOrg(key, role) != bytes32(0);
    }

    /// @inheritdoc IOrganisationRegistry
    function wasActiveAt(address key, uint32 role, uint256 blockNumber) external view returns (bool) {
        KeyRecord storage k = _keys[key];
        if (k.orgId == bytes32(0) || role == 0 || k.roles & role != role) return false;
        return k.addedAt <= blockNumber && (k.revokedAt == 0 || blockNumber < k.revokedAt);
    }

    /// @inheritdoc IOrganisationRegistry
    function activeOrgOf(address key, uint32 role) external view returns (bytes32) {
        return _activeOrg(key, role);
    }

    /// @inheritdoc IOrganisationRegistry
    function ownerOfPrefix(string calldata prefix) external view returns (bytes32) {
        return _prefixOwner[_prefixKey(prefix)];
    }

    /// @inheritdoc IOrganisationRegistry
    function ownerOfGtin(string calldata gtin14) external view returns (bytes32 orgId, uint256 prefixLength) {
        bytes memory digits = bytes(gtin14);
        if (!GS1.isValidGtin14(digits)) revert OrgGtinInvalid(gtin14);
        // Digit 0 is the indicator digit; the company prefix starts at digit 1. Prefixes
        // never overlap, so the first length that has an owner is the only one.
        uint256 value = 0;
        for (uint256 len = 1; len <= GS1.MAX_PREFIX_LENGTH; ++len) {
            value = value * 10 + (uint8(digits[len]) - 0x30);
            if (len < GS1.MIN_PREFIX_LENGTH) continue;
            orgId = _prefixOwner[GS1.prefixKey(value, len)];
            if (orgId != bytes32(0)) return (orgId, len);
        }
        return (bytes32(0), 0);
    }

    function _activeOrg(address key, uint32 role) private view returns (bytes32) {
        KeyRecord storage k = _keys[key];
        if (role == 0 || k.revokedAt != 0 || k.roles & role != role) return bytes32(0);
        return k.orgId;
    }

    function _existing(bytes32 orgId) private view returns (Organisation storage o) {
        o = _orgs[orgId];
        if (o.registeredAt == 0) revert OrgUnknown(orgId);
    }

    function _slice(bytes memory digits, uint256 length) private pure returns (bytes memory out) {
        out = new bytes(length);
        for (uint256 i; i < length; ++i) {
            out[i] = digits[i];
        }
    }

    function _isUpper(bytes1 b) private pure returns (bool) {
        return b >= 0x41 && b <= 0x5A;
    }
}
