"""The EIP-4361 message the service writes, and the strict parser that reads it back."""

from __future__ import annotations

import pytest
from eth_account import Account

from backend.fieldapp import siwe

ADDRESS = Account.from_key(b"\x01" * 32).address


def _message(**overrides: object) -> siwe.SiweMessage:
    values: dict[str, object] = {
        "domain": "waymark.example:8443",
        "address": ADDRESS,
        "statement": "Sign in to Waymark.",
        "uri": "https://waymark.example:8443/app",
        "chain_id": 31337,
        "nonce": "0123456789abcdef0123456789abcdef",
        "issued_at": 1_800_000_000,
        "expiration_time": 1_800_000_600,
        **overrides,
    }
    return siwe.build(**values)  # type: ignore[arg-type]


def test_message_reads_back_as_written() -> None:
    message = _message()
    text = message.text()
    assert text.splitlines()[0] == (
        "waymark.example:8443 wants you to sign in with your Ethereum account:"
    )
    assert "Chain ID: 31337\nNonce: 0123456789abcdef0123456789abcdef\n" in text
    assert "Issued At: 2027-01-15T08:00:00Z" in text
    assert siwe.parse(text) == message


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda t: t.replace(ADDRESS, ADDRESS.lower()), "EIP-55"),
        (lambda t: t.replace("Version: 1", "Version: 2"), "version 2"),
        (lambda t: t + "\nResources:\n- https://evil.example", "form this service writes"),
        (lambda t: t.replace("Chain ID: 31337", "Chain ID: 0x7a69"), "form"),
        (lambda t: t.replace("Nonce: 0123", "Nonce: 0-23"), "form"),
        (lambda t: t.replace("08:00:00Z", "08:00:00+00:00"), "form"),
        (lambda t: t.replace("2027-01-15", "2027-13-15"), "RFC 3339"),
        (lambda t: t.replace("\n", "\r\n"), "form"),
        (lambda t: "https://" + t, "form"),
        (lambda t: t.replace("Sign in to Waymark.", "Sign in\nURI: https://evil.example"), "form"),
        (lambda t: t + "x" * 3000, "at most"),
    ],
)
def test_parse_refuses_anything_but_the_written_form(edit: object, reason: str) -> None:
    text = edit(_message().text())  # type: ignore[operator]
    with pytest.raises(siwe.MessageInvalid, match=reason):
        siwe.parse(text)


def test_build_refuses_a_statement_that_would_change_the_message() -> None:
    with pytest.raises(siwe.MessageInvalid):
        _message(statement="two\nlines")
