"""The ``waymark`` command line: keys, signing, proofs, pools, transfers, QR codes.

Every command takes ``--json`` for machine-readable output; errors exit with
status 2 and a one-line reason on stderr.
"""

from __future__ import annotations

import importlib
import sys
from gettext import gettext
from typing import Any, NamedTuple

import click

from backend.chain.errors import ChainError, ContractRevert, InsufficientFunds
from backend.cli.common import CliFailure, revert_line, unfunded_line
from backend.cli.output import Output


class LazyCommand(NamedTuple):
    """Where a subcommand lives (``module:attribute``) and its one-line help."""

    import_path: str
    summary: str


# A command's module (and the libraries it needs: eth-account, web3, pydantic …)
# is imported only when that command runs or its own help is shown; the list in
# ``waymark --help`` is drawn from the summaries (like pip's command table), which
# tests/backend/cli/test_lazy_commands.py keeps equal to the commands' help.
COMMANDS = {
    "event": LazyCommand(
        "backend.cli.events:event",
        "Sign supply events offline and post them (anchored in the next Merkle batch).",
    ),
    "keys": LazyCommand("backend.cli.keys:keys", "Create, import and inspect signing keys."),
    "milestone": LazyCommand(
        "backend.cli.milestones:milestone",
        "Sign shipment milestones (offline), co-sign custody transfers, submit them.",
    ),
    "org": LazyCommand(
        "backend.cli.orgs:org",
        "Organisations on chain: the registry view, adding and revoking signer keys.",
    ),
    "passport": LazyCommand("backend.cli.passports:passport", "Issue and amend product passports."),
    "proof": LazyCommand(
        "backend.cli.proofs:proof",
        "Fetch and independently verify proofs of signed, anchored events.",
    ),
    "qr": LazyCommand(
        "backend.cli.qrcodes:qr",
        "Print QR codes (PNG, SVG) and A4 label sheets for Digital Links.",
    ),
    "shipment": LazyCommand(
        "backend.cli.shipments:shipment", "Create shipments signed by the seller's key."
    ),
    # Alliance settlement
    "pool": LazyCommand(
        "backend.cli.alliance:pool",
        "Shared factory capacity: deposit, book, transfer, usage, settlement.",
    ),
    "transfer": LazyCommand(
        "backend.cli.alliance:transfer", "Emergency stock transfers between alliance members."
    ),
    "agreement": LazyCommand(
        "backend.cli.agreements:agreement",
        "Purchase agreements: propose, bond, accept, settle, withdraw.",
    ),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use (click's LazyGroup pattern)."""

    def __init__(self, *args: Any, lazy_subcommands: dict[str, LazyCommand], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = lazy_subcommands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_subcommands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_subcommands and cmd_name not in self.commands:
            module, attribute = self.lazy_subcommands[cmd_name].import_path.split(":")
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{module}:{attribute} is not a click command")
            self.commands[cmd_name] = command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list as click draws it, without importing the commands not yet loaded."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            command = self.commands.get(name)
            if command is None:
                # The line click draws for a command with this help, without loading it.
                stand_in = click.Command(name, help=self.lazy_subcommands[name].summary)
                rows.append((name, stand_in.get_short_help_str(limit)))
            elif not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section(gettext("Commands")):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    lazy_subcommands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def cli(ctx: click.Context, as_json: bool) -> None:
    """Waymark: sign supply-chain milestones, verify proofs and settle alliance capacity."""
    ctx.obj = Output(as_json=as_json)


def main() -> None:
    """Entry point: every failure is one line on stderr and exit status 2."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.UsageError as exc:
        exc.show()
        sys.exit(2)
    except click.ClickException as exc:
        if isinstance(exc, CliFailure):
            exc.show()
        else:
            click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(2)
    except ContractRevert as exc:
        click.echo(f"error: contract reverted: {revert_line(exc)}", err=True)
        sys.exit(2)
    except InsufficientFunds:
        click.echo(f"error: {unfunded_line(None)}", err=True)
        sys.exit(2)
    except ChainError as exc:
        click.echo(f"error: chain: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # the promise: one line, never a traceback
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        click.echo(f"error: unexpected {type(exc).__name__}: {first}", err=True)
        sys.exit(2)
