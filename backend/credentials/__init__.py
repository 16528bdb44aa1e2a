"""Passports as W3C Verifiable Credentials: did:web, UNTP DPP credentials, status lists."""
