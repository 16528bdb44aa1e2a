"""``waymark qr``: QR symbols and printable label sheets for GS1 Digital Links."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from backend.cli.common import fail
from backend.cli.output import Output
from backend.gs1.digital_link import DigitalLink, build_digital_link, parse_digital_link
from backend.gs1.errors import DigitalLinkError
from backend.qr.images import label_sheet_svgs, qr_png, qr_svg


def _link(target: str, base: str | None = None) -> tuple[str, DigitalLink]:
    """A Digital Link URI, or a GTIN[/lot[/serial]] shorthand; on ``base`` when given."""
    if base is not None and not base.startswith(("http://", "https://")):
        fail(f"--base must be an http(s) URL, got {base!r}")
    try:
        if target.startswith(("http://", "https://")):
            link = parse_digital_link(target)
        else:
            gtin, *rest = target.split("/")
            link = build_digital_link(
                gtin, lot=rest[0] if rest else None, serial=rest[1] if len(rest) > 1 else None
            )
    except DigitalLinkError as exc:
        fail(f"{target}: {exc}")
    if base is not None:
        return link.uri(base), link
    if target.startswith(("http://", "https://")):
        return target, link
    return link.uri(), link


def _write(out: Output, path: Path | None, data: bytes, uri: str) -> None:
    if path is None or str(path) == "-":
        if sys.stdout.isatty():
            fail("refusing to write an image to a terminal; give --out FILE")
        sys.stdout.buffer.write(data)
        return
    path.write_bytes(data)
    out.emit({"file": str(path), "uri": uri, "bytes": len(data)})


out_opt = click.option(
    "--out", "out_path", type=click.Path(path_type=Path, dir_okay=False), default=None
)
base_opt = click.option(
    "--base",
    default=None,
    help="Resolver base (e.g. https://id.example.com); default: the URI as given, else GS1's.",
)


@click.group()
def qr() -> None:
    """Print QR codes (PNG, SVG) and A4 label sheets for Digital Links."""


@qr.command("png")
@click.argument("target")
@click.option("--module-px", type=click.IntRange(1, 64), default=8, show_default=True)
@base_opt
@out_opt
@click.pass_obj
def png(out: Output, target: str, module_px: int, base: str | None, out_path: Path | None) -> None:
    """PNG of TARGET (a Digital Link URI, or GTIN[/LOT[/SERIAL]])."""
    uri, _ = _link(target, base)
    _write(out, out_path, qr_png(uri, module_px=module_px), uri)


@qr.command("svg")
@click.argument("target")
@click.option("--module-mm", type=click.FloatRange(0.1, 5.0), default=0.5, show_default=True)
@base_opt
@out_opt
@click.pass_obj
def svg(
    out: Output, target: str, module_mm: float, base: str | None, out_path: Path | None
) -> None:
    """SVG of TARGET, sized for print (``--module-mm`` per module)."""
    uri, _ = _link(target, base)
    _write(out, out_path, qr_svg(uri, module_mm=module_mm, title=uri).encode(), uri)


@qr.command("labels")
@click.argument("targets", nargs=-1)
@click.option(
    "--from-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="One Digital Link or GTIN[/LOT[/SERIAL]] per line.",
)
@click.option("--base", default="https://id.gs1.org", show_default=True, help="Resolver base.")
@click.option("--columns", type=click.IntRange(1, 6), default=3, show_default=True)
@click.option(
    "--out-dir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Directory for labels-001.svg, labels-002.svg, …",
)
@click.pass_obj
def labels(
    out: Output,
    targets: tuple[str, ...],
    from_file: Path | None,
    base: str,
    columns: int,
    out_dir: Path,
) -> None:
    """A4 SVG label sheets: one QR with its human-readable text per item."""
    items = list(targets)
    if from_file is not None:
        items += [ln.strip() for ln in from_file.read_text().splitlines() if ln.strip()]
    if not items:
        fail("no labels: give TARGETS or --from-file")
    links = [_link(t)[1] for t in items]
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for i, page in enumerate(label_sheet_svgs(links, base=base, columns=columns), start=1):
        path = out_dir / f"labels-{i:03d}.svg"
        path.write_text(page)
        files.append(str(path))
    out.emit({"labels": len(links), "pages": len(files), "files": files})
