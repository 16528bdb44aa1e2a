"""QR symbols for Digital Links (PNG, SVG) and printable A4 label sheets.

Error correction is level Q (about 25 % of codewords recoverable): packaging gets
scuffed, folded and printed on curved or textured stock, and Q survives that
while keeping modules larger than level H would at the same print size. The
quiet zone is the 4 modules ISO/IEC 18004 requires.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import qrcode
import qrcode.constants
from qrcode.image.pil import PilImage

from backend.errors import InvalidInput
from backend.gs1.digital_link import DigitalLink, build_digital_link

ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_Q
QUIET_ZONE = 4

# A4 portrait in millimetres, with a 10 mm printer-safe margin.
A4_WIDTH_MM = 210.0
A4_HEIGHT_MM = 297.0
SHEET_MARGIN_MM = 10.0

# Two sizes of the same symbol. On screens a module is 8 CSS pixels (a version-4
# symbol with its quiet zone is about 330 px, scannable from a phone held at arm's
# length); in print a module is 0.5 mm (about 20 mm for the whole symbol, the GS1
# minimum X-dimension for Digital Link on packaging is 0.396 mm), with PNGs at
# 600 dpi so printers do not resample.
SCREEN_MODULE_PX = 8
PRINT_MODULE_MM = 0.5
PRINT_DPI = 600


def qr_matrix(data: str) -> list[list[bool]]:
    """Module matrix of the smallest symbol holding ``data`` (quiet zone included)."""
    qr = qrcode.QRCode(version=None, error_correction=ERROR_CORRECTION, border=QUIET_ZONE)
    qr.add_data(data, optimize=0)
    qr.make(fit=True)
    return qr.get_matrix()


def qr_png(data: str, *, module_px: int = SCREEN_MODULE_PX, dpi: int | None = None) -> bytes:
    """PNG bytes of the symbol, ``module_px`` pixels per module (``dpi`` recorded if given)."""
    qr = qrcode.QRCode(
        version=None, error_correction=ERROR_CORRECTION, border=QUIET_ZONE, box_size=module_px
    )
    qr.add_data(data, optimize=0)
    qr.make(fit=True)
    image = qr.make_image(image_factory=PilImage)
    out = io.BytesIO()
    if dpi is None:
        image.save(out, format="PNG")
    else:
        image.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()


def qr_png_for_print(data: str) -> bytes:
    """PNG at :data:`PRINT_DPI` with :data:`PRINT_MODULE_MM` modules."""
    module_px = round(PRINT_MODULE_MM / 25.4 * PRINT_DPI)
    return qr_png(data, module_px=module_px, dpi=PRINT_DPI)


def _path_data(matrix: list[list[bool]]) -> str:
    # One horizontal run per "h" command keeps the path short (≈1 command per dark run).
    commands = []
    for y, row in enumerate(matrix):
        x = 0
        width = len(row)
        while x < width:
            if row[x]:
                start = x
                while x < width and row[x]:
                    x += 1
                commands.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return "".join(commands)


def qr_svg_fragment(data: str, *, x: float, y: float, size: float, title: str) -> str:
    """An ``<svg>`` element placing the symbol in a ``size``×``size`` box at (x, y)."""
    matrix = qr_matrix(data)
    n = len(matrix)
    return (
        f'<svg x="{x:.2f}" y="{y:.2f}" width="{size:.2f}" height="{size:.2f}" '
        f'viewBox="0 0 {n} {n}" shape-rendering="crispEdges" role="img">'
        f"<title>{escape(title)}</title>"
        f'<rect width="{n}" height="{n}" fill="#fff"/>'
        f'<path fill="#000" d="{_path_data(matrix)}"/></svg>'
    )


def qr_svg(
    data: str,
    *,
    module_mm: float = PRINT_MODULE_MM,
    module_px: int | None = None,
    title: str | None = None,
) -> str:
    """A standalone SVG document of the symbol.

    Sized for print (``module_mm`` per module) unless ``module_px`` is given,
    then for screens in CSS pixels.
    """
    matrix = qr_matrix(data)
    n = len(matrix)
    size = f"{n * module_px}" if module_px is not None else f"{n * module_mm:g}mm"
    label = title if title is not None else f"QR code linking to {data}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {n} {n}" shape-rendering="crispEdges" role="img" '
        f"aria-label={quoteattr(label)}>"
        f"<title>{escape(label)}</title>"
        f'<rect width="{n}" height="{n}" fill="#fff"/>'
        f'<path fill="#000" d="{_path_data(matrix)}"/></svg>\n'
    )


@dataclass(frozen=True, slots=True)
class SheetLayout:
    """Grid geometry of one A4 page of labels (millimetres)."""

    columns: int
    rows: int
    cell_width: float
    cell_height: float
    qr_size: float

    @property
    def per_page(self) -> int:
        return self.columns * self.rows


def sheet_layout(columns: int) -> SheetLayout:
    """Square-ish cells: QR fills the cell width, three HRI lines below it."""
    if not 1 <= columns <= 6:
        raise ValueError(f"columns must be between 1 and 6, got {columns}")
    usable_w = A4_WIDTH_MM - 2 * SHEET_MARGIN_MM
    usable_h = A4_HEIGHT_MM - 2 * SHEET_MARGIN_MM
    cell_w = usable_w / columns
    qr_size = cell_w * 0.8
    text_h = 3 * _font_mm(cell_w) * 1.3 + 2
    cell_h = qr_size + text_h + 2
    rows = max(1, math.floor(usable_h / cell_h))
    return SheetLayout(columns, rows, cell_w, cell_h, qr_size)


def _font_mm(cell_width: float) -> float:
    return max(2.2, min(3.5, cell_width / 19))


def _hri_lines(link: DigitalLink) -> list[str]:
    lines = [f"(01) {link.gtin}"]
    if link.lot is not None:
        lines.append(f"(10) {link.lot}")
    if link.serial is not None:
        lines.append(f"(21) {link.serial}")
    return lines


def label_sheet_svgs(links: Sequence[DigitalLink], *, base: str, columns: int = 3) -> list[str]:
    """A4 SVG pages of labels: a QR of each link's URI on ``base`` with its HRI below."""
    layout = sheet_layout(columns)
    pages = []
    for start in range(0, max(len(links), 1), layout.per_page):
        pages.append(_sheet_page(links[start : start + layout.per_page], base, layout))
    return pages


def label_sheet_svg(links: Sequence[DigitalLink], *, base: str, columns: int = 3) -> str:
    """One A4 SVG page of labels; raises if the links do not fit on one page."""
    layout = sheet_layout(columns)
    if len(links) > layout.per_page:
        raise ValueError(
            f"{len(links)} labels do not fit one A4 page of {columns} columns "
            f"({layout.per_page} per page); use label_sheet_svgs"
        )
    return _sheet_page(links, base, layout)


def _sheet_page(links: Sequence[DigitalLink], base: str, layout: SheetLayout) -> str:
    font = _font_mm(layout.cell_width)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{A4_WIDTH_MM:g}mm" '
        f'height="{A4_HEIGHT_MM:g}mm" viewBox="0 0 {A4_WIDTH_MM:g} {A4_HEIGHT_MM:g}">'
        "<title>Digital Link labels</title>"
        f'<rect width="{A4_WIDTH_MM:g}" height="{A4_HEIGHT_MM:g}" fill="#fff"/>'
        f'<g font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" '
        f'font-size="{font:.2f}" fill="#000" text-anchor="middle">'
    ]
    for i, link in enumerate(links):
        row, col = divmod(i, layout.columns)
        cell_x = SHEET_MARGIN_MM + col * layout.cell_width
        cell_y = SHEET_MARGIN_MM + row * layout.cell_height
        qr_x = cell_x + (layout.cell_width - layout.qr_size) / 2
        uri = link.without_link_type().uri(base)
        parts.append(f'<g class="label" data-uri={quoteattr(uri)}>')
        parts.append(
            qr_svg_fragment(
                uri, x=qr_x, y=cell_y, size=layout.qr_size, title=f"QR code linking to {uri}"
            )
        )
        centre = cell_x + layout.cell_width / 2
        for j, line in enumerate(_hri_lines(link)):
            ty = cell_y + layout.qr_size + (j + 1) * font * 1.3
            parts.append(f'<text x="{centre:.2f}" y="{ty:.2f}">{escape(line)}</text>')
        parts.append("</g>")
    parts.append("</g></svg>\n")
    return "".join(parts)


def qr_data_uri(data: str) -> str:
    """``data:image/svg+xml;base64,…`` of the symbol, for an ``<img>`` with alt text."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(data).encode()).decode()


def labels(
    *, gtin: str, lot: str | None, serials: Sequence[str], columns: int, fmt: str, base: str
) -> tuple[str, str]:
    """Label sheets for ``serials``: one SVG page, or an HTML document of all pages."""
    links = [build_digital_link(gtin, lot=lot, serial=s) for s in serials]
    pages = label_sheet_svgs(links, base=base, columns=columns)
    if fmt == "svg":
        if len(pages) > 1:
            raise InvalidInput(
                f"{len(links)} labels need {len(pages)} pages; ask for format=html to get them all"
            )
        return pages[0], "image/svg+xml"
    body = "".join(f'<section class="sheet">{p}</section>' for p in pages)
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Labels</title>'
        "<style>@page{size:A4;margin:0}.sheet{page-break-after:always}"
        ".sheet svg{width:210mm;height:297mm;display:block}</style></head>"
        f"<body>{body}</body></html>"
    )
    return html, "text/html; charset=utf-8"
