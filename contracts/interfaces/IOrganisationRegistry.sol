// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IOrganisationRegistry
/// @notice Who may speak for a product: verified organisations, their GS1 company
///         prefixes and their signer keys, readable by any verifier without Waymark.
/// @dev Three kinds of record:
///
///      - **Organisations**, registered by a REGISTRAR (the operator, or a GS1 member
///        organisation acting as one) with a verified legal name, ISO 3166-1 alpha-2
///        country, optional web domain and the roles the organisation may act in
///        (issuer, carrier, certifier, ...). The registrar may later grant further
///        roles; roles are never taken from an organisation (revoke its keys instead),
///        so a key's history never changes after the fact.
///      - **GS1 company prefixes** (6-12 digits), assigned to one organisation each by
///        the registrar. No prefix overlaps another: neither may be a prefix of the
///        other, so every GTIN has at most one owner. {ownerOfGtin} finds it by trying
///        lengths 6..12 of the GTIN-14 digits after the indicator digit.
///      - **Signer keys**, added and revoked by the organisation's admin keys (or the
///        registrar), each with a role bitmask that must be within the organisation's
///        roles. A key belongs to one organisation for ever, is valid from the block in
///        which it was added until the block in which it was revoked (chain time only;
///        nothing is back-dated), and is never re-added after revocation: rotate to a
///        new key instead, and to change a key's roles add a new key and revoke the old.
///
///      The events ({OrganisationRegistered}, {OrganisationRolesGranted}, {PrefixAssigned},
///      {PrefixReleased}, {KeyAdded}, {KeyRevoked}) are enough to rebuild "which
///      organisation held this key, in which roles, between which blocks" and "which
///      organisation owned this prefix between which blocks".
///
///      Delegated calls follow the convention of every Waymark contract:
///      `fooWithSig(args, signer, deadline, signature)` with the signer's current
///      {nonces} value inside the EIP-712 struct (EOA or ERC-1271 wallet signatures).
interface IOrganisationRegistry {
    /// @notice An organisation as the registrar verified it.
    /// @param legalName Verified legal name (1..200 bytes of UTF-8).
    /// @param country ISO 3166-1 alpha-2 country of registration, two upper-case ASCII letters.
    /// @param webDomain Web domain the organisation controls (0..253 bytes; empty: none).
    /// @param roles Role bits ({ROLE_ISSUER} ...) the organisation's keys may hold.
    /// @param registeredAt Block number of the registration (0: unknown organisation).
    /// @param registrar The registrar account that registered it.
    struct Organisation {
        string legalName;
        bytes2 country;
        string webDomain;
        uint32 roles;
        uint64 registeredAt;
        address registrar;
    }

    /// @notice What the registrar submits to register an organisation.
    struct OrganisationInput {
        string legalName;
        bytes2 country;
        string webDomain;
        uint32 roles;
    }

    /// @notice A key an organisation's admin (or the registrar) adds; also the
    ///         EIP-712 struct `KeyConsent(bytes32 orgId,address key,uint32 roles)` the
    ///         key signs to consent, and part of `AddKey`.
    struct KeyGrant {
        bytes32 orgId;
        address key;
        uint32 roles;
    }

    /// @notice A signer key's record.
    /// @param orgId The organisation the key speaks for (zero: unknown key).
    /// @param roles Role bits the key holds.
    /// @param addedAt Block from which the key is valid.
    /// @param revokedAt Block from which the key is no longer valid (0: not revoked).
    struct KeyRecord {
        bytes32 orgId;
        uint32 roles;
        uint64 addedAt;
        uint64 revokedAt;
    }

    // --------------------------------------------------------------- events

    /// @notice `orgId` was registered by `registrar`.
    event OrganisationRegistered(
        bytes32 indexed orgId, address indexed registrar, string legalName, bytes2 country, string webDomain, uint32 roles
    );

    /// @notice The registrar granted `granted` role bits; `roles` is the organisation's full set after.
    event OrganisationRolesGranted(bytes32 indexed orgId, address indexed registrar, uint32 granted, uint32 roles);

    /// @notice GS1 company prefix `prefix` (ASCII digits) now belongs to `orgId`.
    event PrefixAssigned(bytes32 indexed orgId, address indexed registrar, string prefix);

    /// @notice GS1 company prefix `prefix` no longer belongs to `orgId`.
    event PrefixReleased(bytes32 indexed orgId, address indexed registrar, string prefix);

    /// @notice `key` speaks for `orgId` in `roles` from block `validFrom` on; `by` is
    ///         the organisation admin key or registrar that added it.
    event KeyAdded(bytes32 indexed orgId, address indexed key, address indexed by, uint32 roles, uint64 validFrom);

    /// @notice `key` no longer speaks for `orgId` from block `validUntil` on (exclusive end).
    event KeyRevoked(bytes32 indexed orgId, address indexed key, address indexed by, uint64 validUntil);

    // --------------------------------------------------------------- errors

    /// @notice The zero organisation id is reserved.
    error OrgIdZero();

    /// @notice An organisation with this id exists already.
    error OrgAlreadyRegistered(bytes32 orgId);

    /// @notice No organisation with this id.
    error OrgUnknown(bytes32 orgId);

    /// @notice The legal name is empty or longer than 200 bytes.
    error OrgNameInvalid(bytes32 orgId, uint256 length);

    /// @notice The country is not two upper-case ASCII letters.
    error OrgCountryInvalid(bytes32 orgId, bytes2 country);

    /// @notice The web domain is longer than 253 bytes.
    error OrgDomainInvalid(bytes32 orgId, uint256 length);

    /// @notice `roles` has bits outside the known roles (or, for a grant, none at all).
    error OrgRolesInvalid(bytes32 orgId, uint32 roles);

    /// @notice A GS1 company prefix must be 6 to 12 ASCII digits.
    error OrgPrefixInvalid(string prefix);

    /// @notice `prefix` equals or extends `existing`, which belongs to `ownerOrgId`.
    error OrgPrefixOverlaps(string prefix, bytes32 ownerOrgId, string existing);

    /// @notice `count` assigned prefixes extend `prefix`, so it cannot be assigned.
    error OrgPrefixExtended(string prefix, uint256 count);

    /// @notice `prefix` is not assigned (or not to this organisation).
    error OrgPrefixNotAssigned(string prefix, bytes32 orgId);

    /// @notice A GTIN-14 must be 14 ASCII digits with a valid GS1 check digit.
    error OrgGtinInvalid(string gtin);

    /// @notice The zero address cannot be a key.
    error OrgKeyZero();

    /// @notice `key` already belongs to `orgId` (keys are never moved or re-added).
    error OrgKeyAlreadyRegistered(address key, bytes32 orgId);

    /// @notice `key` was never added.
    error OrgKeyUnknown(address key);

    /// @notice `key` was revoked at block `revokedAt` already.
    error OrgKeyAlreadyRevoked(address key, uint64 revokedAt);

    /// @notice `roles` is zero or holds bits outside the organisation's `orgRoles` (and admin).
    error OrgKeyRolesInvalid(bytes32 orgId, address key, uint32 roles, uint32 orgRoles);

    /// @notice `key` did not sign `KeyConsent` for this grant (an organisation admin may
    ///         only add keys that consent, so nobody can claim another party's address).
    error OrgKeyConsentInvalid(address key);

    /// @notice `account` is neither an active admin key of `orgId` nor a registrar.
    error OrgNotAdmin(bytes32 orgId, address account);

    /// @notice A signed request was submitted after its deadline.
    error OrgSignatureExpired(address signer, uint256 deadline, uint256 now);

    /// @notice The signature is not `signer`'s over the request (wrong key, data or nonce).
    error OrgSignatureInvalid(address signer);

    // ------------------------------------------------------------ mutations

    /// @notice Register organisation `orgId` (REGISTRAR only), optionally with its first
    ///         admin key (`firstAdmin` zero: none yet; the registrar adds keys until one is)
    ///         and its GS1 company prefixes, atomically.
    /// @dev Reverts {OrgIdZero}, {OrgAlreadyRegistered}, {OrgNameInvalid},
    ///      {OrgCountryInvalid}, {OrgDomainInvalid}, {OrgRolesInvalid}; for the admin key
    ///      as {addKey}; for each prefix as {assignPrefix}.
    function registerOrganisation(
        bytes32 orgId,
        OrganisationInput calldata org,
        address firstAdmin,
        string[] calldata prefixes
    ) external;

    /// @notice Grant further role bits to an organisation (REGISTRAR only; never removes any).
    function grantOrganisationRoles(bytes32 orgId, uint32 roles) external;

    /// @notice Assign a GS1 company prefix (6-12 ASCII digits) to `orgId` (REGISTRAR only).
    /// @dev Reverts {OrgPrefixInvalid}, {OrgPrefixOverlaps} (an assigned prefix equals or is
    ///      a prefix of `prefix`), {OrgPrefixExtended} (`prefix` is a prefix of an assigned one).
    function assignPrefix(bytes32 orgId, string calldata prefix) external;

    /// @notice Withdraw a prefix from `orgId` (REGISTRAR only), e.g. when its GS1 licence lapsed.
    ///         Passports issued under it stay as they are.
    function releasePrefix(bytes32 orgId, string calldata prefix) external;

    /// @notice Add `grant.key` to `grant.orgId` as the caller, an active admin key of that
    ///         organisation (with the key's `KeyConsent` signature) or a registrar (consent
    ///         optional). Valid from this block on.
    function addKey(KeyGrant calldata grant, bytes calldata keyConsent) external;

    /// @notice {addKey} on behalf of `admin` with its EIP-712 signature over
    ///         `AddKey(bytes32 orgId,address key,uint32 roles,address admin,uint256 nonce,uint256 deadline)`.
    function addKeyWithSig(
        KeyGrant calldata grant,
        bytes calldata keyConsent,
        address admin,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Revoke `key` from this block on, as an active admin key of its organisation
    ///         or a registrar. An admin key may revoke itself.
    function revokeKey(address key) external;

    /// @notice {revokeKey} on behalf of `admin` with its EIP-712 signature over
    ///         `RevokeKey(address key,address admin,uint256 nonce,uint256 deadline)`.
    function revokeKeyWithSig(address key, address admin, uint256 deadline, bytes calldata signature) external;

    // ---------------------------------------------------------------- views

    /// @notice The organisation's record (`registeredAt == 0`: unknown).
    function organisation(bytes32 orgId) external view returns (Organisation memory);

    /// @notice The key's record (`orgId == 0`: unknown key).
    function keyOf(address key) external view returns (KeyRecord memory);

    /// @notice Whether `key` holds every bit of `role` and is not revoked, now.
    function isActive(address key, uint32 role) external view returns (bool);

    /// @notice Whether `key` held every bit of `role` and was valid at block `blockNumber`
    ///         (`addedAt <= blockNumber < revokedAt`).
    function wasActiveAt(address key, uint32 role, uint256 blockNumber) external view returns (bool);

    /// @notice The organisation `key` speaks for if it holds `role` and is active now; zero otherwise.
    function activeOrgOf(address key, uint32 role) external view returns (bytes32 orgId);

    /// @notice Owner of a GS1 company prefix (zero: unassigned). Reverts {OrgPrefixInvalid}.
    function ownerOfPrefix(string calldata prefix) external view returns (bytes32 orgId);

    /// @notice Owner of the company prefix of a GTIN-14 and that prefix's length (zero, 0:
    ///         no assigned prefix). Reverts {OrgGtinInvalid}.
    function ownerOfGtin(string calldata gtin14) external view returns (bytes32 orgId, uint256 prefixLength);
}
