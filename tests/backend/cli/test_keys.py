"""``waymark keys`` through the installed entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from eth_account import Account

WAYMARK = Path(sys.executable).with_name("waymark")


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(WAYMARK), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
        timeout=60,
    )


def test_new_then_show_gives_same_address_and_file_is_private(tmp_path: Path) -> None:
    ks = tmp_path / "carrier.json"
    env = {"WAYMARK_KEYSTORE_PASSWORD": "correct horse"}
    created = _run("--json", "keys", "new", "--keystore", str(ks), env=env)
    assert created.returncode == 0, created.stderr
    address = json.loads(created.stdout)["address"]
    assert (ks.stat().st_mode & 0o777) == 0o600
    shown = _run("--json", "keys", "show", "--keystore", str(ks), "--decrypt", env=env)
    assert json.loads(shown.stdout)["address"] == address


def test_import_encrypts_given_key_and_wrong_password_fails(tmp_path: Path) -> None:
    acct = Account.create()
    ks = tmp_path / "supplier.json"
    env = {"WAYMARK_KEYSTORE_PASSWORD": "pw-1-long-enough", "WAYMARK_PRIVATE_KEY": acct.key.hex()}
    done = _run("--json", "keys", "import", "--keystore", str(ks), env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["address"] == acct.address
    bad = _run(
        "keys",
        "show",
        "--keystore",
        str(ks),
        "--decrypt",
        env={"WAYMARK_KEYSTORE_PASSWORD": "nope"},
    )
    assert bad.returncode != 0
    assert "cannot decrypt" in bad.stderr


def test_new_refuses_to_overwrite_existing_keystore(tmp_path: Path) -> None:
    ks = tmp_path / "k.json"
    ks.write_text("{}")
    res = _run("keys", "new", "--keystore", str(ks), env={"WAYMARK_KEYSTORE_PASSWORD": "x"})
    assert res.returncode != 0
    assert "refusing to overwrite" in res.stderr
    assert ks.read_text() == "{}"


def test_new_and_import_refuse_empty_and_short_passwords(tmp_path: Path) -> None:
    acct = Account.create()
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    short = tmp_path / "short.txt"
    short.write_text("hunter2\n")
    for command, password, said in (
        (("keys", "new"), empty, "password is empty"),
        (("keys", "import"), short, "password is 7 characters long"),
    ):
        ks = tmp_path / f"{command[1]}.json"
        res = _run(
            *command,
            "--keystore",
            str(ks),
            "--password-file",
            str(password),
            env={"WAYMARK_PRIVATE_KEY": acct.key.hex()},
        )
        assert res.returncode != 0
        assert said in res.stderr
        assert "at least 12 characters" in res.stderr
        assert not ks.exists()
