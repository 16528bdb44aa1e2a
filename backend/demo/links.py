"""The URLs ``make demo`` prints, built from the app's own routes.

Every path comes from ``app.url_path_for(<route name>, …)``, which walks the
included routers (FastAPI lists an included router as one entry of
``app.routes``, so a scan of ``app.routes`` never sees their paths). A route
this build does not serve is left out instead of printing a dead link.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from starlette.routing import NoMatchFound
from starlette.types import ASGIApp

from backend.demo.scenario import DEMO_SERIALS, GTIN, ITEM_SERIAL, LOT, DemoResult
from backend.paths import FRONTEND_STATIC


@dataclass(frozen=True)
class Link:
    """One line of the demo's output: what it is, its URL, and an optional hint."""

    kind: str  # consumer-page, qr-image, label-sheet, proof-bundle, dashboard, api-docs, …
    label: str
    url: str
    hints: tuple[str, ...] = ()


#: Whose signer key the demo prints for a wallet, to try the field app with.
FIELD_APP_ORG = "pacific-bridge"

#: The second, independent verifier (plain JavaScript, frontend_static/verify/).
VERIFIER_PAGE = "/static/verify/index.html"


def _path(app: ASGIApp, name: str, **params: str) -> str | None:
    try:
        return str(app.url_path_for(name, **params))  # type: ignore[attr-defined]
    except NoMatchFound:
        return None


def demo_links(
    app: ASGIApp,
    *,
    base: str,
    result: DemoResult,
    rpc_url: str | None,
    inbox: str | None = None,
) -> list[Link]:
    """Every URL worth opening after the story is seeded, in reading order."""
    lot_path = f"{GTIN}/10/{quote(LOT, safe='')}"
    item_path = f"{lot_path}/21/{quote(DEMO_SERIALS[0], safe='')}"
    serial_path = f"{lot_path}/21/{quote(ITEM_SERIAL, safe='')}"
    pid = result.passport_id
    links: list[Link] = []

    def add(kind: str, label: str, name: str, *hints: str, query: str = "", **params: str) -> None:
        path = _path(app, name, **params)
        if path is not None:
            links.append(Link(kind, label, f"{base}{path}{query}", hints))

    add("consumer-page", "Consumer page, lot", "resolve", rest=lot_path)
    add(
        "consumer-page",
        "Consumer page, one item",
        "resolve",
        "(an item of the lot: the same passport, found through the serial)",
        rest=item_path,
    )
    add(
        "consumer-page",
        "Consumer page, serial",
        "resolve",
        "(a numbered set with a passport of its own, issued at item level)",
        rest=serial_path,
    )
    add("qr-image", "QR code for screens (SVG)", "qr_image", rest=f"{lot_path}.svg")
    add(
        "qr-image",
        "QR code for print (PNG)",
        "qr_image",
        "(0.5 mm modules at 600 dpi; add ?use=print to the SVG for the same size)",
        query="?use=print",
        rest=f"{lot_path}.png",
    )
    serials = [("gtin", GTIN), ("lot", LOT), *(("serial", s) for s in DEMO_SERIALS)]
    add("label-sheet", "Label sheet (A4)", "label_sheet", query=f"?{urlencode(serials)}")
    bundle = _path(app, "proof_bundle", passport_id=pid)
    if bundle is not None:
        # On the in-process chain the service itself answers read-only JSON-RPC at /rpc;
        # with CHAIN=anvil the verifier talks to anvil directly.
        node = rpc_url or f"{base}/rpc"
        trust = f"{base}/.well-known/waymark/deployment.json"
        command = (
            f"curl -s {base}{bundle} > bundle.json && "
            f".venv/bin/waymark proof verify bundle.json --rpc {node} --trust {trust}"
        )
        where = f"verify it against the chain alone (no Waymark API), through the node {node}:"
        links.append(Link("proof-bundle", "Proof bundle", f"{base}{bundle}", (where, command)))
        if (FRONTEND_STATIC / VERIFIER_PAGE.removeprefix("/static/")).is_file():
            links.append(
                Link(
                    "verifier",
                    "Proof verifier page",
                    f"{base}{VERIFIER_PAGE}",
                    (f"drop bundle.json on it; RPC URL {node}, trust manifest {trust}",),
                )
            )
    if result.label_sscc:
        add("shipment-label", "Shipment label (print, A6)", "label", sscc=result.label_sscc)
        add(
            "tracking-page",
            "Tracking page its QR opens",
            "track",
            rest=result.label_sscc,
        )
    add("proof", "Proof of a supply event", "get_proof", ref=result.event_digests[0])
    add("passport", "Passport (JSON)", "get_passport", passport_id=pid)
    add(
        "credential",
        "Passport as a credential",
        "latest_credential",
        "(UNTP Digital Product Passport, VC 2.0; Accept: application/vc+jwt for the signed form)",
        passport_id=pid,
    )
    add("did", "Issuer DID document", "did_document", "(did:web of the factory)", slug="lang-tre")
    login = _path(app, "login_form")
    add(
        "dashboard",
        "Seller dashboard",
        "dashboard",
        *([f"sign in at {base}{login} with the Hearth & Grove key below"] if login else []),
    )
    if result.agreement_id:
        paid = result.agreement.get("payout") or {}
        add(
            "agreement",
            "Purchase agreement (late)",
            "get_agreement",
            f"{paid.get('days_late', '?')} started days late: the keeper settled it by itself, "
            f"{_usd(paid.get('to_buyer'))} compensation to the buyer from the bond, "
            f"{_usd(paid.get('to_seller'))} to the seller",
            "(with the Hearth & Grove key; the seller dashboard lists it under Purchase agreements)",
            agreement_id=str(result.agreement_id),
        )
    if inbox is not None and result.webhook_subscription:
        deliveries = _path(app, "list_deliveries", sub_id=str(result.webhook_subscription))
        links.append(
            Link(
                "webhook-inbox",
                "Webhook receiver (deliveries)",
                inbox,
                (f"delivery log: GET {base}{deliveries} with the seller API key",)
                if deliveries
                else (),
            )
        )
    add("api-docs", "API docs (Swagger UI)", "swagger_ui")
    add("api-docs", "API reference (ReDoc)", "redoc")
    carrier = result.orgs.get(FIELD_APP_ORG)
    add(
        "field-app",
        "Field app (phones)",
        "field_app",
        *(
            [
                f"import this demo key into a wallet: 0x{bytes(carrier.signer.key).hex()} "
                f"({carrier.name}'s carrier key; it signs in and records milestones)",
                f"the wallet's network: RPC {rpc_url or base + '/rpc'} (the demo chain)",
            ]
            if carrier is not None
            else []
        ),
    )
    return links


def _usd(amount: object) -> str:
    """6-decimal test-stablecoin units as ``1,234.50 tUSD``."""
    return f"{int(amount) / 10**6:,.2f} tUSD" if isinstance(amount, int) else "?"


def summary_line(result: DemoResult, seconds: float) -> str:
    """One line: what the seeding created."""
    colours: dict[str, int] = {}
    for colour in result.expected_colours.values():
        colours[colour] = colours.get(colour, 0) + 1
    by_colour = ", ".join(f"{n} {c}" for c, n in sorted(colours.items()))
    return (
        f"Seeded in {seconds:.1f} s: {len(result.orgs)} organisations, "
        f"{len(result.shipments)} shipments ({by_colour}), 2 passports (lot and serial), "
        f"{len(result.event_digests)} supply events, 1 stock transfer, "
        f"1 settled pool period"
        + (", 1 purchase agreement settled late." if result.agreement_id else ".")
    )


def render(links: list[Link], *, result: DemoResult) -> str:
    """The block printed after the summary line."""
    width = max(len(link.label) for link in links) + 2
    lines = ["Open these:"]
    for link in links:
        lines.append(f"  {link.label:<{width}}{link.url}")
        lines += [f"  {'':<{width}}{hint}" for hint in link.hints]
    lines.append(f"  {'Hearth & Grove API key':<{width}}{result.seller_key}")
    lines.append("Other organisations' API keys (for the CLI and the API):")
    lines += [
        f"  {org.slug:<{width}}{org.api_key}"
        for org in result.orgs.values()
        if org.slug != "hearth-grove"
    ]
    return "\n".join(lines)
