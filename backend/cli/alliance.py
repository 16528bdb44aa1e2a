"""``waymark pool`` and ``waymark transfer``: alliance settlement from a member's keystore.

Two channels, chosen per call by what the contract accepts:

* calls bound to ``msg.sender`` (deposit, withdraw, book, transfer a booking,
  report usage, dispute; request, offer, accept, confirm receipt) are signed
  with the member's keystore and sent to any JSON-RPC node (``--rpc``);
* calls the contracts take from anyone or with an EIP-712 signature (co-sign
  usage, settle) go to the Waymark API (``--api``), whose relayer pays the gas;
  reads (statement, net positions) come from its read model.

Amounts are integers in the token's base units (the test stablecoin has 6
decimals: 1 USD = 1000000).
"""

from __future__ import annotations

import functools
import hashlib
import io
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click
from eth_account.signers.local import LocalAccount

from backend.chain import (
    ChainClient,
    ChainError,
    ContractRevert,
    InsufficientFunds,
    connect_rpc,
    eip712,
)
from backend.chain import deployments as deployments_mod
from backend.chain.alliance import (
    CapacityPoolClient,
    EmergencyStockTransferClient,
    StockRequest,
    Terms,
)
from backend.chain.typed_data.alliance import BOOKING_TRANSFER, USAGE_REPORT
from backend.cli.client import Api
from backend.cli.common import ADDRESS, TIME_FORMS, Hex, parse_time, unfunded_line
from backend.cli.keys import load_account
from backend.cli.output import Output

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Alliance:
    """What a pool/transfer command needs, created lazily from the group's options."""

    out: Output
    api_url: str | None
    api_key: str | None
    rpc_url: str | None
    keystore: Path | None
    password_file: Path | None
    wait_seconds: float
    _account: LocalAccount | None = None
    _chain: ChainClient | None = None
    _config: dict[str, Any] | None = None
    _cache: dict[str, Any] = field(default_factory=dict)

    def api(self) -> Api:
        if not self.api_url:
            raise click.UsageError("this command talks to the Waymark API: give --api URL")
        return Api(self.api_url, self.api_key)

    def account(self) -> LocalAccount:
        if self._account is None:
            if self.keystore is None:
                raise click.UsageError("this command signs as a member: give --keystore PATH")
            self._account = load_account(self.keystore, self.password_file)
        return self._account

    def chain(self) -> ChainClient:
        if self._chain is None:
            if not self.rpc_url:
                raise click.UsageError(
                    "this call must come from the member's own address: give --rpc URL"
                )
            self._chain = connect_rpc(self.rpc_url, self.account())
        return self._chain

    def config(self) -> dict[str, Any]:
        """Contract addresses: from the API, else from the local manifest of the RPC chain."""
        if self._config is None:
            if self.api_url:
                self._config = self.api().get("/v1/alliance/config")
            else:
                dep = deployments_mod.load(self.chain().chain_id)
                self._config = {
                    "capacity_pool": dep.contracts.get("CapacityPool", None)
                    and dep.address("CapacityPool"),
                    "stock_transfer": dep.contracts.get("EmergencyStockTransfer", None)
                    and dep.address("EmergencyStockTransfer"),
                    "delivery_agreement": dep.contracts.get("DeliveryAgreement", None)
                    and dep.address("DeliveryAgreement"),
                    "settlement_token": dep.settlement_token,
                }
        return self._config

    def pool(self) -> CapacityPoolClient:
        return CapacityPoolClient(self.chain(), str(self.config()["capacity_pool"]))

    def stock(self) -> EmergencyStockTransferClient:
        return EmergencyStockTransferClient(self.chain(), str(self.config()["stock_transfer"]))

    def relayed(self, resp: dict[str, Any]) -> dict[str, Any]:
        """Wait for a relayed action unless --no-wait."""
        if self.wait_seconds <= 0:
            return resp
        return self.api().wait_action(
            int(resp["id"]), timeout=self.wait_seconds, show=not self.out.as_json
        )


def reports_errors(fn: F) -> F:
    """Turn contract reverts, API and chain errors into exit 2 with a one-line reason."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        out: Output = ctx.find_object(Alliance).out  # type: ignore[union-attr]
        try:
            return fn(*args, **kwargs)
        except ContractRevert as exc:
            info = exc.to_dict()
            shown = ", ".join(f"{k}={v}" for k, v in info["arguments"].items())
            out.fail(f"{info['error']}({shown})")
        except InsufficientFunds:
            out.fail(unfunded_line(ctx.find_object(Alliance)._account))  # type: ignore[union-attr]
        except (ChainError, deployments_mod.DeploymentMissing) as exc:
            out.fail(f"{type(exc).__name__}: {exc}")
        except ValueError as exc:
            out.fail(str(exc))

    return wrapper  # type: ignore[return-value]


def _group_options(fn: F) -> F:
    options = [
        click.option("--api", "api_url", envvar="WAYMARK_API_URL", help="Waymark API base URL."),
        click.option("--api-key", envvar="WAYMARK_API_KEY", help="API key (or $WAYMARK_API_KEY)."),
        click.option("--rpc", "rpc_url", envvar="WAYMARK_RPC_URL", help="JSON-RPC node URL."),
        click.option(
            "--keystore",
            type=click.Path(path_type=Path, dir_okay=False, exists=True),
            envvar="WAYMARK_KEYSTORE",
            help="The member's encrypted keystore.",
        ),
        click.option(
            "--password-file",
            type=click.Path(path_type=Path, dir_okay=False, exists=True),
            help="File holding the keystore password (else $WAYMARK_KEYSTORE_PASSWORD).",
        ),
        click.option(
            "--wait",
            "wait_seconds",
            type=float,
            default=60.0,
            show_default=True,
            help="Seconds to wait for a relayed call to be final (0: do not wait).",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _make(ctx: click.Context, **kwargs: Any) -> None:
    ctx.obj = Alliance(out=ctx.find_object(Output) or Output(), **kwargs)


def _tx(result: Any, **extra: Any) -> dict[str, Any]:
    return {"tx_hash": result.tx_hash, "block_number": result.block_number, **extra}


pass_alliance = click.make_pass_decorator(Alliance)


# -- waymark pool ---------------------------------------------------------------------


@click.group()
@_group_options
@click.pass_context
def pool(ctx: click.Context, **kwargs: Any) -> None:
    """Shared factory capacity: deposit, book, transfer, usage, settlement."""
    _make(ctx, **kwargs)


@pool.command("deposit")
@click.argument("pool_id", type=click.IntRange(0))
@click.argument("amount", type=click.IntRange(1))
@pass_alliance
@reports_errors
def pool_deposit(al: Alliance, pool_id: int, amount: int) -> None:
    """Approve (if needed) and deposit AMOUNT into the pool from the keystore's address."""
    with click.progressbar(length=2, label="approve + deposit", file=_bar(al)) as bar:
        client = al.pool()
        client.token(pool_id).ensure_allowance(client.address, amount)
        bar.update(1)
        result = client.deposit(pool_id, amount, approve=False)
        bar.update(1)
    al.out.emit(
        _tx(result, pool_id=pool_id, free=client.free_balance(pool_id, al.account().address))
    )


@pool.command("withdraw")
@click.argument("pool_id", type=click.IntRange(0))
@click.argument("amount", type=click.IntRange(1))
@pass_alliance
@reports_errors
def pool_withdraw(al: Alliance, pool_id: int, amount: int) -> None:
    """Withdraw AMOUNT of the free balance to the keystore's address."""
    result = al.pool().withdraw(pool_id, amount)
    al.out.emit(_tx(result, pool_id=pool_id, amount=amount))


@pool.command("book")
@click.argument("pool_id", type=click.IntRange(0))
@click.argument("period_id", type=click.IntRange(0))
@click.argument("units", type=click.IntRange(1, 2**64 - 1))
@pass_alliance
@reports_errors
def pool_book(al: Alliance, pool_id: int, period_id: int, units: int) -> None:
    """Book UNITS of a period's capacity (locks their largest possible charge)."""
    client = al.pool()
    result = client.book(pool_id, period_id, units)
    booking = client.booking(pool_id, period_id, al.account().address)
    al.out.emit(_tx(result, units=booking.units, locked=booking.locked))


@pool.command("consent")
@click.argument("pool_id", type=click.IntRange(0))
@click.argument("period_id", type=click.IntRange(0))
@click.option("--from", "from_", required=True, type=ADDRESS, help="The giving member.")
@click.option("--units", type=click.IntRange(1, 2**64 - 1), required=True)
@click.option("--price", type=click.IntRange(0), default=0, show_default=True)
@click.option("--valid-for", type=click.IntRange(60), default=86_400, show_default=True)
@pass_alliance
@reports_errors
def pool_consent(
    al: Alliance, pool_id: int, period_id: int, from_: str, units: int, price: int, valid_for: int
) -> None:
    """As the receiver, sign consent to take over UNITS of --from's booking for --price."""
    me = al.account()
    cfg = al.config()
    domain = cfg.get("pool_domain")
    nonce = int(al.api().get(f"/v1/alliance/nonces/{me.address}")["nonce"])
    deadline = _now(al) + valid_for
    assert domain is not None
    dom = eip712.Domain(
        domain["name"], domain["version"], int(domain["chainId"]), domain["verifyingContract"]
    )
    message = {
        "poolId": pool_id,
        "periodId": period_id,
        "from": from_,
        "to": me.address,
        "units": units,
        "price": price,
        "nonce": nonce,
        "deadline": deadline,
    }
    sig = eip712.sign(me.key, dom, BOOKING_TRANSFER, message)
    al.out.emit({**message, "signature": "0x" + sig.hex()})


@pool.command("transfer-booking")
@click.argument("pool_id", type=click.IntRange(0))
@click.argument("period_id", type=click.IntRange(0))
@click.option("--to", required=True, type=ADDRESS, help="The consenting receiver.")
@click.option("--units", type=click.IntRange(1, 2**64 - 1), required=True)
@click.option("--price", type=click.IntRange(0), default=0, show_default=True)
@click.option(
    "--deadline",
    required=True,
    help="The consent's deadline, as printed (Unix seconds or ISO 8601).",
)
@click.option(
    "--consent",
    type=Hex("consent signature"),
    required=True,
    help="The receiver's signature (pool consent).",
)
@pass_alliance
@reports_errors
def pool_transfer_booking(
    al: Alliance,
    pool_id: int,
    period_id: int,
    to: str,
    units: int,
    price: int,
    deadline: str,
    consent: bytes,
) -> None:
    """Hand UNITS of your booking to --to, who consented (and pays --price)."""
    client = al.pool()
    message = {
        "poolId": pool_id,
        "periodId": period_id,
        "from": al.account().address,
        "to": to,
        "units": units,
        "price": price,
        "deadline": parse_time(deadline),
    }
    result = client.transfer_booking(message, consent)
    al.out.emit(_tx(result, to=to, units=units, price=price))


@pool.command("report-usage")
@click.argument("pool_id", type=click.IntRange(0))
@click.argument("period_id", type=click.IntRange(0))
@click.argument("usage", nargs=-1, required=True)
@pass_alliance
@reports_errors
def pool_report_usage(al: Alliance, pool_id: int, period_id: int, usage: tuple[str, ...]) -> None:
    """As the operator, report used units: MEMBER=UNITS ..."""
    pairs: list[tuple[str, int]] = []
    for item in usage:
        member, sep, units = item.partition("=")
        if not sep or not units.isdigit():
            raise click.BadParameter(f"{item!r} is not MEMBER=UNITS")
        pairs.append((ADDRESS.convert(member, None, None), int(units)))
    result = al.pool().report_usage(pool_id, period_id, pairs)
    al.out.emit(_tx(result, reported=len(pairs)))


@pool.command("cosign")
@click.argument("pool_id", type=click.IntRange(0))
@click.argument("period_id", type=click.IntRange(0))
@click.argument("used_units", type=click.IntRange(0, 2**64 - 1))
@click.option("--valid-for", type=click.IntRange(60), default=86_400, show_default=True)
@pass_alliance
@reports_errors
def pool_cosign(
    al: Alliance, pool_id: int, period_id: int, used_units: int, valid_for: int
) -> None:
    """Co-sign the operator's usage report off-line; the API relays it (no gas)."""
    me = al.account()
    api = al.api()
    domain = al.config()["pool_domain"]
    nonce = int(api.get(f"/v1/alliance/nonces/{me.address}")["nonce"])
    deadline = _now(al) + valid_for
    dom = eip712.Domain(
        domain["name"], domain["version"], int(domain["chainId"]), domain["verifyingContract"]
    )
    message = {
        "poolId": pool_id,
        "periodId": period_id,
        "member": me.address,
        "usedUnits": used_units,
        "nonce": nonce,
        "deadline": deadline,
    }
    sig = eip712.sign(me.key, dom, USAGE_REPORT, message)
    resp = api.post(
        f"/v1/alliance/pools/{pool_id}/periods/{period_id}/cosign",
        {
            "member": me.address,
            "used_units": used_units,
            "deadline": deadline,
            "signature": "0x" + sig.hex(),
        },
    )
    al.out.emit(al.relayed(resp))


@pool.command("dispute")
@click.argument("pool_id", type=click.IntRange(0))
@click.argument("period_id", type=click.IntRange(0))
@click.argument("claimed_units", type=click.IntRange(0, 2**64 - 1))
@click.option(
    "--evidence",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="File whose SHA-256 is recorded on chain as the evidence hash.",
)
@pass_alliance
@reports_errors
def pool_dispute(
    al: Alliance, pool_id: int, period_id: int, claimed_units: int, evidence: Path | None
) -> None:
    """Dispute the operator's report, claiming CLAIMED_UNITS (before the window closes)."""
    digest = hashlib.sha256(evidence.read_bytes()).digest() if evidence else bytes(32)
    result = al.pool().dispute(pool_id, period_id, claimed_units, digest)
    al.out.emit(_tx(result, claimed_units=claimed_units, evidence_hash="0x" + digest.hex()))


@pool.command("settle")
@click.argument("pool_id", type=click.IntRange(0))
@click.argument("period_id", type=click.IntRange(0))
@click.option("--member", "members", multiple=True, type=ADDRESS, help="Repeatable.")
@pass_alliance
@reports_errors
def pool_settle(al: Alliance, pool_id: int, period_id: int, members: tuple[str, ...]) -> None:
    """Settle a period (every unsettled booker, or --member ...) through the relayer."""
    body = {"members": list(members)} if members else {}
    resp = al.api().post(f"/v1/alliance/pools/{pool_id}/periods/{period_id}/settle", body)
    al.out.emit(al.relayed(resp))


@pool.command("statement")
@click.argument("pool_id", type=click.IntRange(0))
@click.argument("period_id", type=click.IntRange(0))
@click.argument("member", type=ADDRESS)
@pass_alliance
@reports_errors
def pool_statement(al: Alliance, pool_id: int, period_id: int, member: str) -> None:
    """A member's settlement statement for one period."""
    al.out.emit(
        al.api().get(f"/v1/alliance/pools/{pool_id}/periods/{period_id}/statement/{member}")
    )


# -- waymark transfer -------------------------------------------------------------------


@click.group()
@_group_options
@click.pass_context
def transfer(ctx: click.Context, **kwargs: Any) -> None:
    """Emergency stock transfers between alliance members."""
    _make(ctx, **kwargs)


@transfer.command("request")
@click.option("--gtin", type=click.IntRange(1, 99_999_999_999_999), required=True)
@click.option("--quantity", type=click.IntRange(1, 2**32 - 1), required=True)
@click.option("--destination", required=True, help="UN/LOCODE, 5 characters (NLRTM).")
@click.option("--needed-by", required=True, help=f"When the stock is needed ({TIME_FORMS}).")
@click.option("--terms", type=click.Choice(["cash", "in-kind"]), default="cash")
@click.option("--max-price", type=click.IntRange(0), default=0, help="Per unit (cash).")
@click.option("--return-by", default=None, help="When in-kind stock comes back (same forms).")
@pass_alliance
@reports_errors
def transfer_request(
    al: Alliance,
    gtin: int,
    quantity: int,
    destination: str,
    needed_by: str,
    terms: str,
    max_price: int,
    return_by: str | None,
) -> None:
    """Ask the alliance for stock; ``now`` and ``+SECONDS`` count from the chain's clock."""
    now = _now(al)
    request = StockRequest(
        gtin,
        quantity,
        destination.upper(),
        parse_time(needed_by, now=now),
        Terms.CASH if terms == "cash" else Terms.IN_KIND,
        max_price,
        parse_time(return_by, default=0, now=now),
    )
    request_id, result = al.stock().request(request)
    al.out.emit(_tx(result, request_id=request_id))


@transfer.command("offer")
@click.argument("request_id", type=click.IntRange(0))
@click.option("--price", type=click.IntRange(0, 2**128 - 1), default=0, help="Per unit.")
@pass_alliance
@reports_errors
def transfer_offer(al: Alliance, request_id: int, price: int) -> None:
    """Offer stock for an open request (price 0 on in-kind terms)."""
    offer_id, result = al.stock().offer(request_id, price)
    al.out.emit(_tx(result, request_id=request_id, offer_id=offer_id))


@transfer.command("accept")
@click.argument("request_id", type=click.IntRange(0))
@click.argument("offer_id", type=click.IntRange(0))
@pass_alliance
@reports_errors
def transfer_accept(al: Alliance, request_id: int, offer_id: int) -> None:
    """Accept an offer; cash terms approve and escrow quantity x price."""
    with click.progressbar(length=1, label="approve + escrow", file=_bar(al)) as bar:
        result = al.stock().accept(request_id, offer_id)
        bar.update(1)
    al.out.emit(_tx(result, request_id=request_id, offer_id=offer_id))


@transfer.command("confirm-receipt")
@click.argument("request_id", type=click.IntRange(0))
@pass_alliance
@reports_errors
def transfer_confirm_receipt(al: Alliance, request_id: int) -> None:
    """As the requester, confirm the stock arrived (releases escrow / opens the obligation)."""
    result = al.stock().confirm_receipt(request_id)
    al.out.emit(_tx(result, request_id=request_id))


@transfer.command("net-positions")
@click.argument("a", type=ADDRESS)
@click.argument("b", type=ADDRESS)
@click.option("--gtin", type=click.IntRange(0, 2**64 - 1), required=True)
@pass_alliance
@reports_errors
def transfer_net_positions(al: Alliance, a: str, b: str, gtin: int) -> None:
    """What A owes B net of the reverse: in-kind units of --gtin and cash in escrow."""
    al.out.emit(al.api().get("/v1/alliance/net-positions", params={"a": a, "b": b, "gtin": gtin}))


@transfer.command("list")
@click.option(
    "--status",
    type=click.Choice(
        ["open", "accepted", "settled", "outstanding", "returned", "refunded", "cancelled"]
    ),
    default="open",
    show_default=True,
)
@pass_alliance
@reports_errors
def transfer_list(al: Alliance, status: str) -> None:
    """Transfer requests in a status (default: open)."""
    items = al.api().get("/v1/alliance/transfers", params={"status": status})["items"]
    if al.out.as_json:
        al.out.emit({"items": items})
    else:
        lines = [
            f"{t['request_id']:>6}  {t['status']:<11} gtin {t['gtin']}  x{t['quantity']}  "
            f"{t['destination']}  by {t['needed_by']}  {t['terms']}"
            for t in items
        ]
        click.echo("\n".join(lines) if lines else "no transfers")


# -- helpers ----------------------------------------------------------------------------


def _now(al: Alliance) -> int:
    """The chain's clock (via --rpc) or the local clock."""
    if al.rpc_url:
        return int(al.chain().block()["timestamp"])
    return int(time.time())


def _bar(al: Alliance) -> Any:
    """Progress bars go to stderr for people; --json keeps stdout and stderr clean."""
    return io.StringIO() if al.out.as_json else sys.stderr
