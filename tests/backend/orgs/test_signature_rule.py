"""The one signature rule of the service (ECDSA keys and ERC-1271 wallets) on each chain."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from backend.chain import ChainClient
from backend.chain.eip712 import Domain, digest
from backend.chain.signatures import refusal, signed_by
from backend.chain.typed_data.events import EPCIS_EVENT_HASH
from backend.errors import InvalidInput
from backend.orgs.signers import Signed, verify_signature


def hx(raw: bytes) -> str:
    return "0x" + raw.hex()


def test_signature_rule_asks_only_the_claimed_address_at_the_chain_head(
    chain: ChainClient,
) -> None:
    owner, stranger = Account.create(), Account.create()
    wallet = chain.deploy("OwnedSigningWallet", owner.address).address
    yes = chain.deploy("AcceptAllWallet").address
    message = encode_defunct(text="hand over pallet 7")
    raw = bytes(owner.sign_message(message).signature)
    hashed = bytes(owner.sign_message(message).message_hash)
    by_stranger = bytes(stranger.sign_message(message).signature)
    assert signed_by(chain, address=wallet, digest=hashed, signature=raw)
    assert signed_by(chain, address=owner.address, digest=hashed, signature=raw)
    assert not signed_by(chain, address=wallet, digest=hashed, signature=by_stranger)
    # The yes-wallet vouches for itself, never for a plain key or another wallet.
    assert signed_by(chain, address=yes, digest=hashed, signature=b"")
    assert refusal(chain, address=stranger.address, digest=hashed, signature=raw) == (
        f"it was made by {owner.address}"
    )
    assert not signed_by(chain, address=wallet, digest=hashed, signature=b"\x00" * 65)
    # Rotation takes effect at the next block: the head is what is asked.
    chain.send_value(owner.address, 10**18)
    chain.with_account(owner).transact(
        chain.contract("OwnedSigningWallet", wallet), "setOwner", stranger.address
    )
    assert not signed_by(chain, address=wallet, digest=hashed, signature=raw)
    assert signed_by(chain, address=wallet, digest=hashed, signature=by_stranger)


def test_verify_signature_names_the_field_and_returns_the_checksummed_wallet(
    tester: ChainClient,
) -> None:
    owner = Account.create()
    wallet = tester.deploy("OwnedSigningWallet", owner.address).address
    domain = Domain("Waymark Test", "1", tester.chain_id, wallet)
    msg = {"digest": b"\x07" * 32}
    sig = bytes(
        Account.unsafe_sign_hash(digest(domain, EPCIS_EVENT_HASH, msg), owner.key).signature
    )
    got = verify_signature(
        Signed(domain, EPCIS_EVENT_HASH, msg, sig, wallet.lower(), "signer"), chain=tester
    )
    assert got == wallet
    with pytest.raises(InvalidInput, match="signature is not signer"):
        verify_signature(
            Signed(domain, EPCIS_EVENT_HASH, msg, sig, Account.create().address, "signer"),
            chain=tester,
        )
