"""``waymark`` loads a command's modules only when it runs: a fast start, the same help."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

from backend.cli import COMMANDS, cli

HEAVY = ("eth_tester", "web3", "eth_account", "pydantic")


def _loaded_after(*args: str) -> dict[str, bool]:
    """Which heavy libraries a fresh ``waymark *args`` process has imported when it exits."""
    code = (
        "import atexit, json, sys\n"
        f"atexit.register(lambda: print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}),"
        " file=sys.stderr))\n"
        f"sys.argv = ['waymark', *{list(args)!r}]\n"
        "from backend.cli import main\n"
        "main()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [("--help",), ("proof", "verify", "--help"), ("keys", "--help")])
def test_help_needs_no_chain_or_key_library(args: tuple[str, ...]) -> None:
    assert _loaded_after(*args) == dict.fromkeys(HEAVY, False)


def test_no_command_imports_eth_tester() -> None:
    ctx = click.Context(cli)
    code = (
        "import sys, click\n"
        "from backend.cli import cli\n"
        "ctx = click.Context(cli)\n"
        "assert all(cli.get_command(ctx, n) for n in cli.list_commands(ctx))\n"
        "import backend.cli.chainio, backend.chain.factory\n"
        "print('eth_tester' in sys.modules, 'backend.cli.alliance' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True"]
    assert sorted(cli.list_commands(ctx)) == sorted(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_summary_is_the_commands_own_help(name: str) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    assert command.short_help is None
    assert command.help == COMMANDS[name].summary


@pytest.mark.parametrize("width", [50, 80, 120])
def test_help_lists_commands_as_click_draws_them(width: int) -> None:
    lazy = click.Context(cli, terminal_width=width, max_content_width=width)
    lazy_cli = type(cli)(
        name=cli.name, callback=cli.callback, params=cli.params, lazy_subcommands=COMMANDS
    )
    drawn_lazily = lazy_cli.get_help(click.Context(lazy_cli, terminal_width=width))
    commands = [cli.get_command(lazy, n) for n in COMMANDS]
    loaded = click.Group(
        name=cli.name,
        callback=cli.callback,
        params=cli.params,
        commands=[c for c in commands if c is not None],
    )
    drawn_by_click = loaded.get_help(click.Context(loaded, terminal_width=width))
    assert "Commands:" in drawn_lazily
    assert drawn_lazily == drawn_by_click
