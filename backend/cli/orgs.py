"""``waymark org``: an organisation admin's view of, and changes to, ``OrganisationRegistry``.

Reads (``show``) need only a JSON-RPC node. Key changes (``add-key``,
``revoke-key``) are sent from the admin's own keystore, whose key must hold the
admin role on chain; the registry itself checks that, so the service is not
involved and cannot add or remove an organisation's keys behind its back. A new
key joins only with its own consent (``KeyConsent``), signed from its keystore.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from eth_account import Account

from backend.chain import ChainClient, ChainError, ContractRevert, connect_rpc
from backend.chain import deployments as deployments_mod
from backend.chain.organisations import (
    KeyGrant,
    OrganisationRegistryClient,
    Role,
    org_id_for,
)
from backend.cli.common import ADDRESS
from backend.cli.keys import load_account
from backend.cli.output import Output
from backend.common.types import parse_hex

F = TypeVar("F", bound=Callable[..., Any])


def _reports_errors(fn: F) -> F:
    """Contract reverts and chain errors exit 2 with a one-line reason."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        out: Output = click.get_current_context().find_object(Output) or Output()
        try:
            return fn(*args, **kwargs)
        except ContractRevert as exc:
            info = exc.to_dict()
            shown = ", ".join(f"{k}={v}" for k, v in info["arguments"].items())
            out.fail(f"{info['error']}({shown})")
        except (ChainError, deployments_mod.DeploymentMissing) as exc:
            out.fail(f"{type(exc).__name__}: {exc}")
        except ValueError as exc:
            out.fail(str(exc))

    return wrapper  # type: ignore[return-value]


def _registry(chain: ChainClient, address: str | None) -> OrganisationRegistryClient:
    if address is None:
        address = deployments_mod.load(chain.chain_id).address("OrganisationRegistry")
    return OrganisationRegistryClient(chain, address)


def _org_id(value: str) -> bytes:
    """A 0x bytes32 registry id, or a Waymark organisation slug."""
    if value.startswith("0x"):
        try:
            return parse_hex(value, "organisation id", 32)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--org") from exc
    return org_id_for(value)


def _roles(value: str) -> Role:
    try:
        return Role.parse([r.strip() for r in value.split(",") if r.strip()])
    except KeyError as exc:
        raise click.BadParameter(f"unknown role {exc.args[0]!r}") from exc


def _key_view(registry: OrganisationRegistryClient, key: str) -> dict[str, Any] | None:
    record = registry.key(key)
    if record is None:
        return None
    org = registry.organisation(record.org_id)
    return {
        "key": key,
        "organisation": org.legal_name if org else None,
        "org_id": "0x" + record.org_id.hex(),
        "roles": record.roles.names(),
        "valid_from_block": record.added_at,
        "revoked_at_block": record.revoked_at or None,
    }


RPC = click.option(
    "--rpc", "rpc_url", envvar="WAYMARK_RPC_URL", required=True, help="JSON-RPC URL."
)
REGISTRY = click.option(
    "--registry",
    "registry_address",
    help="OrganisationRegistry address (default: the chain's deployment manifest).",
)
KEYSTORE = click.option(
    "--keystore",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    envvar="WAYMARK_KEYSTORE",
    required=True,
    help="The organisation admin's encrypted keystore.",
)
PASSWORD = click.option(
    "--password-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="File holding the keystore password (else $WAYMARK_KEYSTORE_PASSWORD).",
)


@click.group()
def org() -> None:
    """Organisations on chain: the registry view, adding and revoking signer keys."""


@org.command("show")
@RPC
@REGISTRY
@click.option("--org", "org_ref", help="Organisation slug or 0x registry id.")
@click.option(
    "--key", "keys_", multiple=True, type=ADDRESS, help="Signer key address (repeatable)."
)
@click.pass_obj
@_reports_errors
def show(
    out: Output, rpc_url: str, registry_address: str | None, org_ref: str | None, keys_: tuple[str]
) -> None:
    """What the registry says: an organisation's record and its keys' validity in blocks."""
    if org_ref is None and not keys_:
        raise click.UsageError("give --org and/or --key")
    # Reads sign nothing: any account will do.
    registry = _registry(connect_rpc(rpc_url, Account.create()), registry_address)
    data: dict[str, Any] = {"registry": registry.address}
    if org_ref is not None:
        info = registry.organisation(_org_id(org_ref))
        data["organisation"] = None
        if info is not None:
            data["organisation"] = {
                "org_id": "0x" + info.org_id.hex(),
                "legal_name": info.legal_name,
                "country": info.country,
                "web_domain": info.web_domain,
                "roles": info.roles.names(),
                "registered_at_block": info.registered_at,
            }
    data["keys"] = [_key_view(registry, k) or {"key": k, "unknown": True} for k in keys_]
    lines = []
    org_view = data.get("organisation")
    if org_ref is not None:
        lines.append(
            f"{org_view['legal_name']} ({org_view['country']}) · {', '.join(org_view['roles'])}"
            f" · registered in block {org_view['registered_at_block']}"
            if org_view
            else f"organisation {org_ref} is not registered"
        )
    for k in data["keys"]:
        if k.get("unknown"):
            lines.append(f"{k['key']}: not in the registry")
        else:
            until = k["revoked_at_block"]
            window = (
                f"blocks {k['valid_from_block']} to {until - 1}"
                if until
                else (f"from block {k['valid_from_block']}")
            )
            lines.append(
                f"{k['key']}: {k['organisation']} · {', '.join(k['roles'])} · valid {window}"
            )
    out.emit(data, "\n".join(lines))


@org.command("add-key")
@RPC
@REGISTRY
@KEYSTORE
@PASSWORD
@click.option("--org", "org_ref", required=True, help="Organisation slug or 0x registry id.")
@click.option(
    "--new-keystore",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    required=True,
    help="Keystore of the key to add (it signs its consent).",
)
@click.option("--new-password-file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--roles", required=True, help="Comma-separated roles, e.g. carrier,warehouse.")
@click.pass_obj
@_reports_errors
def add_key(
    out: Output,
    rpc_url: str,
    registry_address: str | None,
    keystore: Path,
    password_file: Path | None,
    org_ref: str,
    new_keystore: Path,
    new_password_file: Path | None,
    roles: str,
) -> None:
    """Add a signer key, valid from the block that records it (sent from the admin's key)."""
    admin = load_account(keystore, password_file)
    new = load_account(new_keystore, new_password_file)
    registry = _registry(connect_rpc(rpc_url, admin), registry_address)
    grant = KeyGrant(_org_id(org_ref), new.address, _roles(roles))
    consent = registry.sign_key_consent(new.key, grant)
    tx = registry.add_key(grant, consent)
    view = _key_view(registry, new.address) or {}
    out.emit(
        {"tx_hash": tx.tx_hash, "block_number": tx.block_number, **view},
        f"added {new.address} for {view.get('organisation')} as {roles} "
        f"from block {view.get('valid_from_block')} (tx {tx.tx_hash})",
    )


@org.command("revoke-key")
@RPC
@REGISTRY
@KEYSTORE
@PASSWORD
@click.option("--key", "key", required=True, type=ADDRESS, help="The signer key to revoke.")
@click.pass_obj
@_reports_errors
def revoke_key(
    out: Output,
    rpc_url: str,
    registry_address: str | None,
    keystore: Path,
    password_file: Path | None,
    key: str,
) -> None:
    """Revoke a signer key from the block that records it on; nothing it signs counts after."""
    admin = load_account(keystore, password_file)
    registry = _registry(connect_rpc(rpc_url, admin), registry_address)
    tx = registry.revoke_key(key)
    view = _key_view(registry, key) or {}
    out.emit(
        {"tx_hash": tx.tx_hash, "block_number": tx.block_number, **view},
        f"revoked {key} ({view.get('organisation')}) at block {view.get('revoked_at_block')} "
        f"(tx {tx.tx_hash})",
    )
