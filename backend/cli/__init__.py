"""The ``waymark`` command line: keys, signing, proofs, pools, transfers, QR codes.

Every command takes ``--json`` for machine-readable output; errors exit with
status 2 and a one-line reason on stderr.
"""

from __future__ import annotations

import sys

import click

from backend.chain import ChainError, ContractRevert, InsufficientFunds
from backend.cli.agreements import agreement
from backend.cli.alliance import pool, transfer
from backend.cli.common import CliFailure, revert_line, unfunded_line
from backend.cli.events import event
from backend.cli.keys import keys
from backend.cli.milestones import milestone
from backend.cli.orgs import org
from backend.cli.output import Output
from backend.cli.passports import passport
from backend.cli.proofs import proof
from backend.cli.qrcodes import qr
from backend.cli.shipments import shipment


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def cli(ctx: click.Context, as_json: bool) -> None:
    """Waymark: sign supply-chain milestones, verify proofs and settle alliance capacity."""
    ctx.obj = Output(as_json=as_json)


cli.add_command(event)
cli.add_command(keys)
cli.add_command(milestone)
cli.add_command(org)
cli.add_command(passport)
cli.add_command(proof)
cli.add_command(qr)
cli.add_command(shipment)
# Alliance settlement
cli.add_command(pool)
cli.add_command(transfer)
cli.add_command(agreement)


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
