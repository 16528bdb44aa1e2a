"""Sign-In with Ethereum (EIP-4361) messages: built by the server, parsed strictly.

The service writes every message it accepts (:func:`build`), so the parser
accepts exactly that shape and nothing looser: the fields the service always
sets are required, in the specification's order, and the message must render
back to the same text byte for byte (:func:`parse`). PyPI's ``siwe`` pins
``web3<8``, which this service has outgrown; the subset of the ABNF used here
is small enough to check by hand.

    {domain} wants you to sign in with your Ethereum account:
    {address}

    {statement}

    URI: {uri}
    Version: 1
    Chain ID: {chain_id}
    Nonce: {nonce}
    Issued At: {issued_at}
    Expiration Time: {expiration_time}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from eth_utils import is_checksum_address

HEADER = " wants you to sign in with your Ethereum account:"
VERSION = "1"
MAX_MESSAGE_CHARS = 2048

_DOMAIN = r"[A-Za-z0-9.\-]+(?::[0-9]{1,5})?"
_STATEMENT = r"[^\n]*"
_PATTERN = re.compile(
    rf"(?P<domain>{_DOMAIN}){re.escape(HEADER)}\n"
    r"(?P<address>0x[0-9a-fA-F]{40})\n"
    r"\n"
    rf"(?P<statement>{_STATEMENT})\n"
    r"\n"
    r"URI: (?P<uri>[!-~]+)\n"
    r"Version: (?P<version>[0-9]+)\n"
    r"Chain ID: (?P<chain_id>[1-9][0-9]{0,18})\n"
    r"Nonce: (?P<nonce>[A-Za-z0-9]{8,64})\n"
    r"Issued At: (?P<issued_at>[0-9T:\-]+Z)\n"
    r"Expiration Time: (?P<expiration_time>[0-9T:\-]+Z)"
)


class MessageInvalid(ValueError):
    """The text is not a sign-in message this service could have written."""


@dataclass(frozen=True, slots=True)
class SiweMessage:
    """One EIP-4361 message; times are Unix seconds (rendered as RFC 3339, UTC)."""

    domain: str
    address: str
    statement: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: int
    expiration_time: int
    version: str = VERSION

    def text(self) -> str:
        """The message as the wallet shows and signs it (``personal_sign``)."""
        return (
            f"{self.domain}{HEADER}\n{self.address}\n\n{self.statement}\n\n"
            f"URI: {self.uri}\nVersion: {self.version}\nChain ID: {self.chain_id}\n"
            f"Nonce: {self.nonce}\nIssued At: {_rfc3339(self.issued_at)}\n"
            f"Expiration Time: {_rfc3339(self.expiration_time)}"
        )


def _rfc3339(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _unix(text: str, field: str) -> int:
    try:
        when = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise MessageInvalid(f"{field} is not an RFC 3339 UTC time: {text!r}") from None
    return int(when.timestamp())


def build(
    *,
    domain: str,
    address: str,
    statement: str,
    uri: str,
    chain_id: int,
    nonce: str,
    issued_at: int,
    expiration_time: int,
) -> SiweMessage:
    """A message for ``address`` (EIP-55) that :func:`parse` reads back unchanged."""
    message = SiweMessage(
        domain, address, statement, uri, chain_id, nonce, issued_at, expiration_time
    )
    if parse(message.text()) != message:
        raise MessageInvalid("the message does not read back as written")
    return message


def parse(text: str) -> SiweMessage:
    """The message ``text`` carries, or :class:`MessageInvalid` saying what is wrong."""
    if len(text) > MAX_MESSAGE_CHARS:
        raise MessageInvalid(f"a sign-in message is at most {MAX_MESSAGE_CHARS} characters")
    found = _PATTERN.fullmatch(text)
    if found is None:
        raise MessageInvalid("not an EIP-4361 sign-in message in the form this service writes")
    address = found["address"]
    if not is_checksum_address(address):
        raise MessageInvalid(f"address {address} is not in EIP-55 mixed-case form")
    if found["version"] != VERSION:
        raise MessageInvalid(f"version {found['version']} is not {VERSION}")
    message = SiweMessage(
        domain=found["domain"],
        address=address,
        statement=found["statement"],
        uri=found["uri"],
        chain_id=int(found["chain_id"]),
        nonce=found["nonce"],
        issued_at=_unix(found["issued_at"], "Issued At"),
        expiration_time=_unix(found["expiration_time"], "Expiration Time"),
    )
    if message.text() != text:
        raise MessageInvalid("the message is not in canonical form")
    return message
