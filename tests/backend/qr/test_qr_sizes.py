"""QR images sized for screens (CSS pixels) and for print (millimetres, 600 dpi) separately."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

from fastapi.testclient import TestClient
from PIL import Image

from backend.config import Settings
from backend.main import create_app

PATH = "/qr/01/08936045870013/10/TH2611-07"


def test_screen_and_print_versions_of_one_symbol() -> None:
    with TestClient(create_app(Settings(chain_backend="tester"))) as client:
        screen = ET.fromstring(client.get(f"{PATH}.svg").text)  # noqa: S314 (our own output)
        printed = ET.fromstring(client.get(f"{PATH}.svg?use=print").text)  # noqa: S314
        modules = int(screen.get("viewBox").split()[2])
        # On screen: 8 CSS px per module (a bare number is px), never a physical unit.
        assert screen.get("width") == str(modules * 8)
        assert int(screen.get("width")) >= 200
        # In print: 0.5 mm per module.
        assert printed.get("width") == f"{modules * 0.5:g}mm"
        png = Image.open(io.BytesIO(client.get(f"{PATH}.png").content))
        assert png.size == (modules * 8, modules * 8)
        hi = Image.open(io.BytesIO(client.get(f"{PATH}.png?use=print").content))
        assert hi.size == (modules * 12, modules * 12)  # 0.5 mm at 600 dpi ≈ 12 px
        assert round(hi.info["dpi"][0]) == 600
        bad = client.get(f"{PATH}.svg?use=poster")
        assert bad.status_code == 422
        assert "use" in bad.text
