"""QR symbols decode to their Digital Link; SVG output is well-formed."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from backend.gs1.digital_link import build_digital_link
from backend.qr.images import (
    QUIET_ZONE,
    label_sheet_svg,
    label_sheet_svgs,
    qr_matrix,
    qr_png,
    qr_svg,
    sheet_layout,
)

ZBARIMG = shutil.which("zbarimg")
SVG = "{http://www.w3.org/2000/svg}"
BASE = "https://waymark.example"

LINKS = [
    build_digital_link("9506000134352"),
    build_digital_link("9506000134352", lot="LOT42", serial="SN0001"),
    build_digital_link("96385074", lot="AB/12%", serial="x&y"),
    build_digital_link("012345678905", serial='!"()*+,:;<=>?'),
]


@pytest.mark.skipif(ZBARIMG is None, reason="zbar-tools is not installed (.ci/run installs it)")
@pytest.mark.parametrize("link", LINKS, ids=lambda link: link.hri)
def test_qr_png_decodes_to_its_uri(link, tmp_path: Path) -> None:
    uri = link.uri(BASE)
    png = tmp_path / "code.png"
    png.write_bytes(qr_png(uri))
    done = subprocess.run(
        [ZBARIMG, "--raw", "-q", str(png)], capture_output=True, text=True, timeout=30, check=True
    )
    assert done.stdout.rstrip("\n") == uri


def test_qr_matrix_has_four_module_quiet_zone() -> None:
    matrix = qr_matrix(LINKS[1].uri(BASE))
    n = len(matrix)
    for i in range(QUIET_ZONE):
        assert not any(matrix[i])
        assert not any(matrix[n - 1 - i])
        assert not any(row[i] or row[n - 1 - i] for row in matrix)
    assert matrix[QUIET_ZONE][QUIET_ZONE]  # finder pattern corner starts right after it


def test_qr_svg_is_well_formed_with_title() -> None:
    uri = LINKS[2].uri(BASE)
    root = ET.fromstring(qr_svg(uri))  # noqa: S314 (parses our own output)
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}title").text == f"QR code linking to {uri}"
    assert root.find(f"{SVG}path").get("d").startswith("M")


def test_label_sheet_is_a4_svg_with_hri_text_for_each_label() -> None:
    svg = label_sheet_svg(LINKS, base=BASE, columns=3)
    root = ET.fromstring(svg)  # noqa: S314 (parses our own output)
    assert root.get("width") == "210mm"
    assert root.get("height") == "297mm"
    labels = root.findall(f".//{SVG}g[@class='label']")
    assert [g.get("data-uri") for g in labels] == [link.uri(BASE) for link in LINKS]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "(01) 00000096385074" in texts
    assert "(10) AB/12%" in texts
    assert "(21) x&y" in texts


def test_label_sheets_paginate_and_single_sheet_refuses_overflow() -> None:
    per_page = sheet_layout(3).per_page
    links = [build_digital_link("9506000134352", serial=str(i)) for i in range(per_page + 1)]
    pages = label_sheet_svgs(links, base=BASE, columns=3)
    assert len(pages) == 2
    for page in pages:
        ET.fromstring(page)  # noqa: S314 (parses our own output)
    with pytest.raises(ValueError, match="do not fit one A4 page"):
        label_sheet_svg(links, base=BASE, columns=3)
