"""``waymark keys``: encrypted keystores (Web3 Secret Storage, scrypt)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from backend.cli.output import Output

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

PASSWORD_ENV = "WAYMARK_KEYSTORE_PASSWORD"  # noqa: S105 - a variable name, not a secret
# scrypt slows each guess, but a short password is still found by trying them all.
MIN_PASSWORD_LENGTH = 12


def read_password(password_file: Path | None, *, confirm: bool = False) -> str:
    """Password from a file, ``$WAYMARK_KEYSTORE_PASSWORD`` or an interactive prompt."""
    if password_file is not None:
        return password_file.read_text().rstrip("\n")
    env = os.environ.get(PASSWORD_ENV)
    if env:
        return env
    return str(click.prompt("Keystore password", hide_input=True, confirmation_prompt=confirm))


def load_account(keystore: Path, password_file: Path | None) -> LocalAccount:
    """Decrypt ``keystore``; a wrong password raises ``click.ClickException``."""
    from eth_account import Account  # at call time: the key library is slow to import

    try:
        data = json.loads(keystore.read_text())
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read keystore {keystore}: {exc}") from exc
    try:
        key = Account.decrypt(data, read_password(password_file))
    except ValueError as exc:
        raise click.ClickException(f"cannot decrypt {keystore}: {exc}") from exc
    return Account.from_key(key)


def require_strong_password(password: str) -> None:
    """Refuse to encrypt a key under an empty or short password."""
    if len(password) < MIN_PASSWORD_LENGTH:
        what = "empty" if not password else f"{len(password)} characters long"
        raise click.ClickException(
            f"keystore password is {what}; at least {MIN_PASSWORD_LENGTH} characters are "
            f"required (--password-file, ${PASSWORD_ENV} or the prompt)"
        )


def _write_keystore(path: Path, account: LocalAccount, password: str) -> None:
    if path.exists():
        raise click.ClickException(f"{path} exists; refusing to overwrite a keystore")
    require_strong_password(password)
    from eth_account import Account

    data = Account.encrypt(account.key, password)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)


keystore_opt = click.option(
    "--keystore",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Path of the encrypted keystore file.",
)
password_opt = click.option(
    "--password-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help=f"File holding the keystore password (else ${PASSWORD_ENV} or a prompt).",
)


@click.group()
def keys() -> None:
    """Create, import and inspect signing keys."""


@keys.command("new")
@keystore_opt
@password_opt
@click.pass_obj
def new(out: Output, keystore: Path, password_file: Path | None) -> None:
    """Generate a key and store it encrypted."""
    from eth_account import Account

    account = Account.create()
    _write_keystore(keystore, account, read_password(password_file, confirm=True))
    out.emit({"address": account.address, "keystore": str(keystore)})


@keys.command("import")
@keystore_opt
@password_opt
@click.option(
    "--private-key-env",
    default="WAYMARK_PRIVATE_KEY",
    show_default=True,
    help="Environment variable holding the hex private key (never pass keys as arguments).",
)
@click.pass_obj
def import_(out: Output, keystore: Path, password_file: Path | None, private_key_env: str) -> None:
    """Encrypt an existing private key into a keystore."""
    from eth_account import Account

    raw = os.environ.get(private_key_env)
    if not raw:
        out.fail(f"${private_key_env} is not set")
        return
    try:
        account = Account.from_key(raw)
    except (ValueError, TypeError) as exc:
        out.fail(f"${private_key_env} is not a valid private key: {exc}")
        return
    _write_keystore(keystore, account, read_password(password_file, confirm=True))
    out.emit({"address": account.address, "keystore": str(keystore)})


@keys.command("show")
@keystore_opt
@click.option("--decrypt", is_flag=True, help="Decrypt to prove the password works.")
@password_opt
@click.pass_obj
def show(out: Output, keystore: Path, decrypt: bool, password_file: Path | None) -> None:
    """Print the keystore's address (no password needed unless --decrypt)."""
    if decrypt:
        address = load_account(keystore, password_file).address
    else:
        try:
            address = "0x" + json.loads(keystore.read_text())["address"]
        except (OSError, ValueError, KeyError) as exc:
            raise click.ClickException(f"cannot read keystore {keystore}: {exc}") from exc
        from eth_utils import to_checksum_address

        address = to_checksum_address(address)
    out.emit({"address": address, "keystore": str(keystore)})
