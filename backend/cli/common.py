"""Shared CLI plumbing: EIP-712 domains, message (de)serialisation, failures."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from backend.chain.eip712 import Domain, StructType

# The signing and checksum libraries (eth-account, eth-utils, pydantic) are imported
# where a value is parsed or a domain built, not here: every command module imports
# this one, and ``waymark --help`` should not wait for them.

API_KEY_ENV = "WAYMARK_API_KEY"
API_ENV = "WAYMARK_API"
DEFAULT_API = "http://127.0.0.1:8000"

# Domain names and versions of the signing contracts, as their eip712Domain() reports.
DOMAIN_NAMES = {
    "ShipmentRegistry": ("Waymark ShipmentRegistry", "2.0.0"),
    "ProductPassportRegistry": ("Waymark ProductPassportRegistry", "2.0.0"),
}


class CliFailure(click.ClickException):
    """A failure reported as one line on stderr with exit status 2 (and as JSON with --json)."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        # Raised inside a command, so the context (and its --json flag) is still current.
        ctx = click.get_current_context(silent=True)
        self.as_json = bool(ctx is not None and getattr(ctx.find_root().obj, "as_json", False))

    def show(self, file: Any = None) -> None:
        if self.as_json:
            click.echo(json.dumps({"error": self.message}))
        click.echo(f"error: {self.message}", err=True)


def fail(message: str) -> NoReturn:
    raise CliFailure(message)


class AddressType(click.ParamType):
    """An address option or argument, EIP-55 checksummed by the API's rule
    (:func:`~backend.common.types.parse_address`): ``0x`` and 40 hex digits, and a
    mixed-case address must carry the right checksum."""

    name = "address"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from backend.common.types import parse_address

        try:
            return parse_address(value, "address")
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


ADDRESS = AddressType()


def address(value: str, what: str) -> str:
    """An address read from a file or a compound value, by the rule of :data:`ADDRESS`."""
    from backend.common.types import parse_address

    try:
        return parse_address(value, what)
    except ValueError as exc:
        fail(str(exc))


def unfunded_line(account: Any) -> str:
    """Why a transaction from ``account`` (a signer, or None) was refused for want of ether."""
    who = getattr(account, "address", None) or "the sending account"
    return f"{who} has too little ether to pay for gas: fund it, then try again"


def revert_line(exc: Exception) -> str:
    """``ErrorName(arg=value, ...)`` of a decoded contract revert, else the message."""
    to_dict = getattr(exc, "to_dict", None)
    if to_dict is None:
        return str(exc)
    info = to_dict()
    args = ", ".join(f"{k}={v}" for k, v in info["arguments"].items())
    return f"{info['error']}({args})"


api_opt = click.option(
    "--api",
    envvar=API_ENV,
    default=DEFAULT_API,
    show_default=True,
    help=f"Waymark API base URL (or ${API_ENV}).",
)
api_key_opt = click.option(
    "--api-key",
    envvar=API_KEY_ENV,
    default=None,
    help=f"API key (or ${API_KEY_ENV}); never logged.",
)


def offline_domain(contract: str, chain_id: int, address: str) -> Domain:
    from backend.chain.eip712 import Domain

    name, version = DOMAIN_NAMES[contract]
    return Domain(name, version, chain_id, address)


def domain_from_json(data: Mapping[str, Any]) -> Domain:
    from backend.chain.eip712 import Domain

    return Domain(
        str(data["name"]),
        str(data["version"]),
        int(data["chainId"]),
        str(data["verifyingContract"]),
    )


# -- messages as JSON ----------------------------------------------------------


def to_json(struct: StructType, message: Mapping[str, Any]) -> dict[str, Any]:
    """A message as JSON: bytes as 0x-hex, nested structs recursively."""
    deps = {d.name: d for d in struct.deps}
    out: dict[str, Any] = {}
    for typ, name in struct.fields:
        value = message[name]
        if typ in deps:
            out[name] = to_json(deps[typ], value)
        elif isinstance(value, bytes):
            out[name] = "0x" + value.hex()
        elif isinstance(value, (list, tuple)):
            out[name] = list(value)
        else:
            out[name] = value
    return out


def from_json(struct: StructType, data: Mapping[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`to_json` with type checks; raises ``ValueError`` on a bad field."""
    from backend.common.types import parse_hex

    deps = {d.name: d for d in struct.deps}
    out: dict[str, Any] = {}
    for typ, name in struct.fields:
        if name not in data:
            raise ValueError(f"{struct.name}.{name} is missing")
        value = data[name]
        if typ in deps:
            out[name] = from_json(deps[typ], value)
        elif typ.startswith("bytes") and typ != "bytes":
            out[name] = parse_hex(value, f"{struct.name}.{name}", int(typ[5:]))
        elif typ.startswith(("uint", "int")):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{struct.name}.{name} must be an integer")
            out[name] = value
        else:
            out[name] = value
    return out


class Hex(click.ParamType):
    """A ``0x``-hex option, parsed into bytes by the rule request bodies use."""

    name = "0x-hex"

    def __init__(self, what: str, size: int | None = None) -> None:
        self.what = what
        self.size = size

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> bytes:
        if isinstance(value, bytes):
            return value
        from backend.common.types import parse_hex

        try:
            return parse_hex(value, self.what, self.size)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


TIME_FORMS = "Unix seconds, ISO 8601, now, +SECONDS or -SECONDS"


def parse_time(
    value: str | int | None, *, default: int | None = None, now: int | None = None
) -> int:
    """Unix seconds from ``1763769600``, ``2026-11-22T08:00:00Z``, ``now``, ``+3600`` or ``-600``.

    ``now`` is the clock that ``now`` and relative times count from (the chain's
    when the caller has read it; the local clock otherwise). A JSON file may give
    Unix seconds as a number.
    """
    if value is None:
        if default is None:
            fail("a time is required")
        return default
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if not isinstance(value, str):
        fail(f"not a time: {value!r} ({TIME_FORMS})")
    text = value.strip()
    clock = int(time.time()) if now is None else now
    if text == "now":
        return clock
    if text[:1] in "+-" and text[1:].isdigit():
        return clock + int(text)
    if text.isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail(f"not a time: {value!r} ({TIME_FORMS})")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    except ValueError as exc:
        fail(f"{path} is not JSON: {exc}")


def write_json(path: Path | None, data: Any) -> None:
    """Write ``data`` to ``path`` (``-``/None: stdout)."""
    text = json.dumps(data, indent=2, sort_keys=True)
    if path is None or str(path) == "-":
        click.echo(text)
        return
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text + "\n")
    os.replace(tmp, path)
