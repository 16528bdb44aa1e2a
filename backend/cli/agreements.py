"""``waymark agreement``: purchase agreements settled from proofs of delivery.

Same two channels as ``waymark pool``: the buyer's ``propose``, the bonder's
``bond`` and everyone's ``withdraw`` move the caller's own tokens and are sent
from its keystore to a JSON-RPC node (``--rpc``); the seller's acceptance is
signed off line (``sign-acceptance``) and relayed by the API (``accept``), and
``settle`` is relayed by the API (which also settles due agreements by itself).
Amounts are token base units; times are Unix seconds.
"""

from __future__ import annotations

from typing import Any

import click

from backend.chain.agreements import AgreementTerms, DeliveryAgreementClient
from backend.cli.alliance import (
    Alliance,
    _group_options,
    _make,
    _now,
    _tx,
    pass_alliance,
    reports_errors,
)
from backend.cli.common import ADDRESS, Hex, parse_time

ZERO = "0x" + "00" * 20


def _client(al: Alliance) -> DeliveryAgreementClient:
    address = al.config().get("delivery_agreement")
    if not address:
        raise click.UsageError("this deployment has no DeliveryAgreement")
    return DeliveryAgreementClient(al.chain(), str(address))


@click.group()
@_group_options
@click.pass_context
def agreement(ctx: click.Context, **kwargs: Any) -> None:
    """Purchase agreements: propose, bond, accept, settle, withdraw."""
    _make(ctx, **kwargs)


@agreement.command("propose")
@click.option("--seller", required=True, type=ADDRESS)
@click.option("--token", "token_", type=ADDRESS, help="Default: the settlement token.")
@click.option("--price", type=click.IntRange(1, 2**128 - 1), required=True)
@click.option("--promised-in", type=click.IntRange(1), required=True, help="Seconds from now.")
@click.option("--final-in", type=click.IntRange(1), required=True, help="Seconds from now.")
@click.option("--per-day", type=click.IntRange(0, 2**128 - 1), default=0, show_default=True)
@click.option("--cap", type=click.IntRange(0, 2**128 - 1), default=0, show_default=True)
@click.option("--from-price/--bond-only", default=True, show_default=True)
@click.option("--tolerance-bps", type=click.IntRange(0, 10_000), default=200, show_default=True)
@click.option("--bonder", type=ADDRESS, help="Carrier or insurer posting the bond.")
@click.option("--bond", type=click.IntRange(0, 2**128 - 1), default=0, show_default=True)
@click.option("--arbiter", required=True, type=ADDRESS)
@click.option("--dispute-window", type=click.IntRange(1, 2**32 - 1), default=172_800)
@pass_alliance
@reports_errors
def agreement_propose(al: Alliance, **o: Any) -> None:
    """As the buyer, propose an agreement and escrow the price."""
    now = _now(al)
    token = o["token_"] or al.config().get("settlement_token")
    if not token:
        raise click.UsageError("give --token (no settlement token configured)")
    terms = AgreementTerms(
        buyer=al.account().address,
        seller=o["seller"],
        token=str(token),
        price=o["price"],
        promised_by=now + o["promised_in"],
        final_deadline=now + o["final_in"],
        compensation_per_day=o["per_day"],
        compensation_cap=o["cap"],
        compensation_from_price=o["from_price"],
        weight_tolerance_bps=o["tolerance_bps"],
        bonder=o["bonder"] or ZERO,
        bond_amount=o["bond"],
        arbiter=o["arbiter"],
        dispute_window=o["dispute_window"],
    )
    agreement_id, result = _client(al).propose(terms)
    al.out.emit(_tx(result, agreement_id=agreement_id, terms_hash="0x" + terms.hash().hex()))


@agreement.command("bond")
@click.argument("agreement_id", type=click.IntRange(1))
@click.argument("amount", type=click.IntRange(1, 2**128 - 1))
@pass_alliance
@reports_errors
def agreement_bond(al: Alliance, agreement_id: int, amount: int) -> None:
    """As the named bonder, post (part of) the bond."""
    result = _client(al).post_bond(agreement_id, amount)
    al.out.emit(_tx(result, agreement_id=agreement_id, amount=amount))


@agreement.command("sign-acceptance")
@click.argument("agreement_id", type=click.IntRange(1))
@click.option(
    "--shipment",
    type=Hex("shipment id", 32),
    required=True,
    help="The shipment id (0x…, consigned to the buyer).",
)
@click.option("--valid-for", type=click.IntRange(60), default=86_400, show_default=True)
@pass_alliance
@reports_errors
def agreement_sign_acceptance(
    al: Alliance, agreement_id: int, shipment: bytes, valid_for: int
) -> None:
    """As the seller, sign the acceptance off line (reads the terms through --rpc)."""
    c = _client(al)
    terms = c.agreement(agreement_id).terms
    deadline = _now(al) + valid_for
    message = c.acceptance_message(agreement_id, terms, shipment, deadline=deadline)
    signature = c.sign_acceptance(al.account().key, message)
    al.out.emit(
        {
            "agreement_id": agreement_id,
            "shipment_id": shipment,
            "deadline": deadline,
            "signature": "0x" + signature.hex(),
        }
    )


@agreement.command("accept")
@click.argument("agreement_id", type=click.IntRange(1))
@click.option("--shipment", required=True)
@click.option("--deadline", required=True, help="From sign-acceptance (Unix seconds or ISO 8601).")
@click.option("--signature", required=True, help="From sign-acceptance.")
@pass_alliance
@reports_errors
def agreement_accept(
    al: Alliance, agreement_id: int, shipment: str, deadline: str, signature: str
) -> None:
    """Relay the seller's signed acceptance through the API (no gas for the seller)."""
    body = {"shipment_id": shipment, "deadline": parse_time(deadline), "signature": signature}
    resp = al.api().request("POST", f"/v1/agreements/{agreement_id}/accept", json=body)
    al.out.emit(al.relayed(resp))


@agreement.command("settle")
@click.argument("agreement_id", type=click.IntRange(1))
@pass_alliance
@reports_errors
def agreement_settle(al: Alliance, agreement_id: int) -> None:
    """Settle now through the API (the service also settles due agreements by itself)."""
    resp = al.api().request("POST", f"/v1/agreements/{agreement_id}/settle")
    al.out.emit(al.relayed(resp))


@agreement.command("show")
@click.argument("agreement_id", type=click.IntRange(1))
@pass_alliance
@reports_errors
def agreement_show(al: Alliance, agreement_id: int) -> None:
    """State, clause, and what was paid (or would be now) and why."""
    al.out.emit(al.api().request("GET", f"/v1/agreements/{agreement_id}"))


@agreement.command("withdraw")
@click.option("--token", "token_", type=ADDRESS, help="Default: the settlement token.")
@pass_alliance
@reports_errors
def agreement_withdraw(al: Alliance, token_: str | None) -> None:
    """Withdraw everything credited to your address."""
    token = token_ or al.config().get("settlement_token")
    if not token:
        raise click.UsageError("give --token (no settlement token configured)")
    result = _client(al).withdraw(str(token))
    al.out.emit(_tx(result, token=token))
