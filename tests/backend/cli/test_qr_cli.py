"""``waymark qr``: the symbol encodes the Digital Link on the resolver the user names."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from backend.cli import cli
from backend.qr.images import qr_png


def _run(tmp: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--json", *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_qr_png_takes_base_like_labels(tmp_path: Path) -> None:
    out = tmp_path / "lot.png"
    code, text = _run(
        tmp_path, "qr", "png", "08936045870013/TH2611-07", "--base", "https://id.hearth.example",
        "--out", str(out),
    )  # fmt: skip
    assert code == 0, text
    uri = json.loads(text)["uri"]
    assert uri.startswith("https://id.hearth.example/01/08936045870013/10/TH2611-07")
    assert out.read_bytes() == qr_png(uri, module_px=8)
    # Without --base the GS1 resolver, and a full URI is re-based onto --base too.
    code, text = _run(tmp_path, "qr", "png", "08936045870013", "--out", str(out))
    assert json.loads(text)["uri"].startswith("https://id.gs1.org/01/08936045870013")
    code, text = _run(
        tmp_path, "qr", "svg", "https://id.gs1.org/01/08936045870013", "--base",
        "https://id.hearth.example/", "--out", str(tmp_path / "x.svg"),
    )  # fmt: skip
    assert code == 0, text
    assert json.loads(text)["uri"].startswith("https://id.hearth.example/01/08936045870013")


def test_a_base_that_is_not_a_url_is_refused_in_one_line(tmp_path: Path) -> None:
    code, text = _run(tmp_path, "qr", "png", "08936045870013", "--base", "id.example", "--out",
                      str(tmp_path / "x.png"))  # fmt: skip
    assert code == 2
    assert "--base must be an http(s) URL" in text
