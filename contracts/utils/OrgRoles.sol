// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title OrgRoles
/// @notice Role bits of organisations and signer keys in {OrganisationRegistry}, shared by
///         the contracts that ask it who a key speaks for. docs/organisations.md lists them.
library OrgRoles {
    uint32 internal constant ADMIN = 1 << 0;
    uint32 internal constant ISSUER = 1 << 1;
    uint32 internal constant SELLER = 1 << 2;
    uint32 internal constant SUPPLIER = 1 << 3;
    uint32 internal constant CARRIER = 1 << 4;
    uint32 internal constant WAREHOUSE = 1 << 5;
    uint32 internal constant CUSTOMS_BROKER = 1 << 6;
    uint32 internal constant CERTIFIER = 1 << 7;
    uint32 internal constant ALLIANCE_MEMBER = 1 << 8;
    uint32 internal constant CONSIGNEE = 1 << 9;
    uint32 internal constant ARBITER = 1 << 10;
    uint32 internal constant INSURER = 1 << 11;
    uint32 internal constant ALL = (1 << 12) - 1;
}
