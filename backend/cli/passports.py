"""``waymark passport``: validate a passport document, hash it, sign as issuer, submit.

The signed file carries the document, the ``IssuePassport``/``AmendPassport``
message (content hash, URI and key figures derived from the document) and the
issuer's signature, so it can be checked and uploaded later by anyone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from backend.chain import eip712
from backend.chain.passports import claim_type
from backend.chain.typed_data.passports import (
    AMEND_PASSPORT,
    ATTEST,
    ISSUE_PASSPORT,
    RECALL_PASSPORT,
    REVOKE_PASSPORT,
    content_message,
)
from backend.cli.chainio import chain_now, read_nonce
from backend.cli.client import Api, resolve_domain
from backend.cli.common import (
    api_key_opt,
    api_opt,
    fail,
    parse_time,
    read_json,
    to_json,
    write_json,
)
from backend.cli.keys import load_account, password_opt
from backend.cli.output import Output
from backend.common.types import parse_hex, to_hex
from backend.passports.canonical import document_hash
from backend.passports.carbon import footprint
from backend.passports.errors import PassportError
from backend.passports.schemas import PassportDocument, parse_document
from backend.passports.summary import key_figures

CONTRACT = "ProductPassportRegistry"
DEFAULT_VALIDITY = 7 * 24 * 3600


def load_document(path: Path) -> PassportDocument:
    """Parse and validate; every problem is listed on the one error line."""
    try:
        return parse_document(path.read_bytes())
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    except PassportError as exc:
        fail(f"{path}: {exc}")


def content(doc: PassportDocument, uri: str) -> dict[str, Any]:
    figures = key_figures(doc, footprint(doc))
    return content_message(
        document_hash=document_hash(doc),
        uri=uri,
        origin_country=figures.origin_country,
        recycled_content_bps=figures.recycled_content_bps,
        carbon_grams_co2e=figures.carbon_grams_co2e,
        water_litres=figures.water_litres,
    )


def _sign(
    *,
    action: str,
    path: Path,
    keystore: Path,
    password_file: Path | None,
    uri: str | None,
    base_version: int | None,
    nonce: int | None,
    deadline: str | None,
    chain_id: int | None,
    registry: str | None,
    rpc: str | None,
    api: str,
) -> dict[str, Any]:
    doc = load_document(path)
    account = load_account(keystore, password_file)
    if doc.issuer.account and doc.issuer.account.lower() != account.address.lower():
        fail(f"document names issuer {doc.issuer.account}, keystore holds {account.address}")
    domain = resolve_domain(
        CONTRACT, chain_id=chain_id, address=registry, api=None if chain_id is not None else api
    )
    if nonce is None:
        if rpc is None:
            fail("give --nonce (offline) or --rpc to read the issuer's next nonce")
        nonce = read_nonce(rpc, CONTRACT, domain.verifying_contract, account.address)
    link = uri or f"{api.rstrip('/')}{doc.identity.key.path}"
    now = chain_now(rpc)  # the contract judges the deadline by block time
    message: dict[str, Any] = {
        "issuer": account.address,
        "passportId": doc.passport_id,
        "content": content(doc, link),
        "nonce": nonce,
        "deadline": parse_time(deadline, default=now + DEFAULT_VALIDITY, now=now),
    }
    struct = ISSUE_PASSPORT
    if action == "amend":
        struct = AMEND_PASSPORT
        message = {**message, "baseVersion": base_version}
    signature = eip712.sign(account.key, domain, struct, message)
    return {
        "type": f"waymark.passport.{action}",
        "domain": domain.to_json(),
        "document": doc.to_json_dict(),
        "message": to_json(struct, message),
        "signature": "0x" + signature.hex(),
    }


def api_body(signed: dict[str, Any]) -> dict[str, Any]:
    """The ``POST /v1/passports`` (issue) or ``…/{id}/versions`` (amend) body."""
    message = dict(signed["message"])
    content = dict(message["content"])
    content["originCountry"] = bytes.fromhex(content["originCountry"][2:]).decode("ascii")
    body = {
        "content": content,
        "issuer": message["issuer"],
        "nonce": message["nonce"],
        "deadline": message["deadline"],
        "signature": signed["signature"],
        "document": signed["document"],
    }
    if signed["type"].endswith(".issue"):
        return {**body, "passportId": message["passportId"]}
    return {**body, "baseVersion": message["baseVersion"]}


def _submit(api: Api, signed: dict[str, Any], *, wait: bool) -> Any:
    pid = signed["message"]["passportId"]
    if signed["type"].endswith(".issue"):
        accepted = api.post("/v1/passports", api_body(signed))
    else:
        accepted = api.post(f"/v1/passports/{pid}/versions", api_body(signed))
    if wait:
        relay = api.wait_relay(int(accepted["relay_id"]))
        accepted = {**accepted, "status": relay["status"], "tx_hash": relay["tx_hash"]}
    return accepted


def _options(fn: Any) -> Any:
    options = [
        click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True)),
        click.option("--keystore", type=click.Path(path_type=Path, dir_okay=False), required=True),
        password_opt,
        click.option("--uri", default=None, help="Where the document is published."),
        click.option("--nonce", type=int, default=None, help="Issuer's nonce (else via --rpc)."),
        click.option("--deadline", default=None, help="Signature valid until (default 7 days)."),
        click.option("--chain-id", type=int, default=None),
        click.option("--registry", default=None, help="ProductPassportRegistry address."),
        click.option("--rpc", default=None, help="JSON-RPC URL to read the nonce from."),
        api_opt,
        api_key_opt,
        click.option(
            "--out", "out_path", type=click.Path(path_type=Path, dir_okay=False), default=None
        ),
        click.option("--submit", is_flag=True, help="Submit to the API right away."),
        click.option(
            "--wait",
            is_flag=True,
            help="With --submit: wait until it is mined and shows in the service.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@click.group()
def passport() -> None:
    """Issue and amend product passports."""


@passport.command("validate")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.pass_obj
def validate(out: Output, file: Path) -> None:
    """Validate a document and show its id, hash and on-chain key figures."""
    doc = load_document(file)
    msg = content(doc, "")
    out.emit(
        {
            "passport_id": "0x" + doc.passport_id.hex(),
            "digital_link": doc.identity.key.path,
            "document_hash": "0x" + msg["documentHash"].hex(),
            "origin_country": doc.origin.country,
            "recycled_content_bps": msg["recycledContentBps"],
            "carbon_grams_co2e": msg["carbonGramsCO2e"],
            "water_litres": msg["waterLitres"],
        }
    )


def _run(out: Output, action: str, **kwargs: Any) -> None:
    submit = kwargs.pop("submit")
    wait = kwargs.pop("wait")
    out_path = kwargs.pop("out_path")
    api_key = kwargs.pop("api_key")
    signed = _sign(action=action, path=kwargs.pop("file"), **kwargs)
    if submit:
        api = Api(kwargs["api"], api_key)
        out.emit({"submitted": True, "result": _submit(api, signed, wait=wait)})
        return
    if out_path is None:
        write_json(None, signed)
        return
    write_json(out_path, signed)
    out.emit({"file": str(out_path), "passport_id": signed["message"]["passportId"]})


@passport.command("issue")
@_options
@click.pass_obj
def issue(out: Output, **kwargs: Any) -> None:
    """Sign version 1 of a passport as its issuer (FILE is the passport document JSON)."""
    _run(out, "issue", base_version=None, **kwargs)


@passport.command("amend")
@_options
@click.option("--base-version", type=int, required=True, help="Version this one replaces.")
@click.pass_obj
def amend(out: Output, **kwargs: Any) -> None:
    """Sign a new version of a passport, replacing ``--base-version``."""
    _run(out, "amend", **kwargs)


@passport.command("submit")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@api_opt
@api_key_opt
@click.option("--wait", is_flag=True, help="Wait until it is mined and shows in the service.")
@click.pass_obj
def submit(out: Output, file: Path, api: str, api_key: str | None, wait: bool) -> None:
    """Upload a signed passport file (from ``passport issue|amend``)."""
    signed = read_json(file)
    if not isinstance(signed, dict) or not str(signed.get("type", "")).startswith(
        "waymark.passport."
    ):
        fail(f"{file} is not a signed passport")
    out.emit({"submitted": True, "result": _submit(Api(api, api_key), signed, wait=wait)})


def _status_change(
    out: Output,
    *,
    revoke: bool,
    passport_id: str,
    keystore: Path,
    password_file: Path | None,
    reason_code: int,
    reason: str,
    nonce: int | None,
    deadline: str | None,
    rpc: str | None,
    api: str,
    api_key: str | None,
    wait: bool,
) -> None:
    """Sign ``RecallPassport`` / ``RevokePassport`` as the issuer and relay it through the API."""
    try:
        pid = parse_hex(passport_id, "passport id", 32)
    except ValueError as exc:
        fail(str(exc))
    domain = resolve_domain(CONTRACT, chain_id=None, address=None, api=api)
    account = load_account(keystore, password_file)
    if nonce is None:
        if rpc is None:
            fail("give --nonce or --rpc to read the issuer's next nonce")
        nonce = read_nonce(rpc, CONTRACT, domain.verifying_contract, account.address)
    now = chain_now(rpc)
    message: dict[str, Any] = {
        "issuer": account.address,
        "passportId": pid,
        "reasonCode": reason_code,
        "reason": reason,
        "nonce": nonce,
        "deadline": parse_time(deadline, default=now + DEFAULT_VALIDITY, now=now),
    }
    struct = REVOKE_PASSPORT if revoke else RECALL_PASSPORT
    signature = eip712.sign(account.key, domain, struct, message)
    body = {
        "reasonCode": reason_code,
        "reason": reason,
        "issuer": account.address,
        "nonce": nonce,
        "deadline": message["deadline"],
        "signature": "0x" + signature.hex(),
    }
    client = Api(api, api_key)
    action = "revoke" if revoke else "recall"
    accepted = client.post(f"/v1/passports/0x{pid.hex()}/{action}", body)
    if wait:
        relay = client.wait_relay(int(accepted["relay_id"]))
        accepted = {**accepted, "status": relay["status"], "tx_hash": relay["tx_hash"]}
    out.emit({"passport_id": "0x" + pid.hex(), action: True, **accepted})


def _status_options(fn: Any) -> Any:
    options = [
        click.argument("passport_id"),
        click.option("--keystore", type=click.Path(path_type=Path, dir_okay=False), required=True),
        password_opt,
        click.option(
            "--reason-code", type=click.IntRange(1, 2**16 - 1), required=True, help="Your code."
        ),
        click.option("--reason", required=True, help="Plain-language reason, shown publicly."),
        click.option("--nonce", type=int, default=None, help="Issuer's nonce (else via --rpc)."),
        click.option("--deadline", default=None, help="Signature valid until (default 7 days)."),
        click.option("--rpc", default=None, help="JSON-RPC URL: the nonce and the chain's clock."),
        api_opt,
        api_key_opt,
        click.option(
            "--wait", is_flag=True, help="Wait until it is mined and shows in the service."
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@passport.command("recall")
@_status_options
@click.pass_obj
def recall(out: Output, **kwargs: Any) -> None:
    """Recall a passport as its issuer (it can be amended afterwards)."""
    _status_change(out, revoke=False, **kwargs)


@passport.command("revoke")
@_status_options
@click.pass_obj
def revoke(out: Output, **kwargs: Any) -> None:
    """Revoke a passport as its issuer (final)."""
    _status_change(out, revoke=True, **kwargs)


@passport.command("attest")
@click.argument("passport_id")
@click.option("--keystore", type=click.Path(path_type=Path, dir_okay=False), required=True)
@password_opt
@click.option(
    "--claim",
    required=True,
    help="What is attested, e.g. fsc-coc (its keccak-256 is the claim id).",
)
@click.option("--version", "version", type=click.IntRange(1, 2**32 - 1), default=None,
              help="Passport version attested (default: the latest).")  # fmt: skip
@click.option("--valid-until", required=True, help="Unix seconds, ISO 8601 or +SECONDS.")
@click.option("--nonce", type=int, default=None, help="Certifier's nonce (else via --rpc).")
@click.option("--deadline", default=None, help="Signature valid until (default 7 days).")
@click.option("--rpc", default=None, help="JSON-RPC URL: the nonce and the chain's clock.")
@api_opt
@api_key_opt
@click.option("--wait", is_flag=True, help="Wait until it is mined and shows in the service.")
@click.pass_obj
def attest(
    out: Output,
    passport_id: str,
    keystore: Path,
    password_file: Path | None,
    claim: str,
    version: int | None,
    valid_until: str,
    nonce: int | None,
    deadline: str | None,
    rpc: str | None,
    api: str,
    api_key: str | None,
    wait: bool,
) -> None:
    """Attest a claim about one passport version as a certifier; the API relays it."""
    try:
        pid = to_hex(parse_hex(passport_id, "passport id", 32))
    except ValueError as exc:
        fail(str(exc))
    if not claim.strip():
        fail("--claim is empty")
    client = Api(api, api_key)
    shown = client.get(f"/v1/passports/{pid}")
    versions = {int(v["version"]): v for v in shown.get("versions") or []}
    chosen = version or max(versions, default=0)
    if chosen not in versions:
        fail(f"passport {pid} has no version {chosen} (it has {sorted(versions) or 'none'})")
    now = chain_now(rpc)
    until = parse_time(valid_until, now=now)
    if until <= now:
        fail(f"--valid-until {valid_until!r} is not in the future")
    domain = resolve_domain(CONTRACT, chain_id=None, address=None, api=api)
    account = load_account(keystore, password_file)
    if nonce is None:
        if rpc is None:
            fail("give --nonce or --rpc to read the certifier's next nonce")
        nonce = read_nonce(rpc, CONTRACT, domain.verifying_contract, account.address)
    message: dict[str, Any] = {
        "certifier": account.address,
        "passportId": bytes.fromhex(pid[2:]),
        "version": chosen,
        "documentHash": parse_hex(versions[chosen]["document_hash"], "document hash", 32),
        "claim": claim_type(claim.strip()),
        "validUntil": until,
        "nonce": nonce,
        "deadline": parse_time(deadline, default=now + DEFAULT_VALIDITY, now=now),
    }
    signature = eip712.sign(account.key, domain, ATTEST, message)
    body = {
        **{k: v for k, v in to_json(ATTEST, message).items() if k != "passportId"},
        "signature": "0x" + signature.hex(),
    }
    accepted = client.post(f"/v1/passports/{pid}/attestations", body)
    if wait:
        relay = client.wait_relay(int(accepted["relay_id"]))
        accepted = {**accepted, "status": relay["status"], "tx_hash": relay["tx_hash"]}
    out.emit({"passport_id": pid, "claim": claim.strip(), "version": chosen, **accepted})
