"""A page stored as a template and an item's own strings reads back as that page's gzip."""

from __future__ import annotations

import gzip
import os
import subprocess
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.pages import spliced

FILL = st.binary(min_size=0, max_size=80)
TEXT = st.binary(min_size=0, max_size=3000)


def _round_trip(page: bytes, fills: list[bytes]) -> bytes:
    template = spliced.split(page, fills)
    again = spliced.decode(template.encode(), template.digest)
    assert again == template
    return spliced.assemble(again, fills, spliced.crc(page))


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(TEXT, min_size=1, max_size=6), fills=st.lists(FILL, max_size=4), data=st.data()
)
def test_any_page_with_any_fills_reads_back_as_itself(
    texts: list[bytes], fills: list[bytes], data: st.DataObject
) -> None:
    """Fills in the page or not, short, empty, repeated or inside one another: the gzip
    stream always decompresses to the page, and its trailer checks (zlib reads it as
    gzip and verifies CRC-32 and length)."""
    page = texts[0]
    for text in texts[1:]:
        slot = data.draw(st.sampled_from(fills)) if fills else b""
        page += slot + text
    gz = _round_trip(page, fills)
    assert gzip.decompress(gz) == page
    assert zlib.decompress(gz, 16 + zlib.MAX_WBITS) == page


def test_the_system_gzip_reads_it_and_checks_it() -> None:
    page = b"<p>" + os.urandom(2000).hex().encode() + b" SN-0001 " + b"x" * 5000 + b"</p>"
    gz = _round_trip(page, [b"SN-0001"])
    out = subprocess.run(["gzip", "-dc"], input=gz, capture_output=True, check=True)
    assert out.stdout == page
    broken = gz[:-8] + (spliced.crc(page) ^ 1).to_bytes(4, "little") + gz[-4:]
    assert subprocess.run(["gzip", "-t"], input=broken, capture_output=True).returncode != 0


def _lot_page(serial: bytes, pid: bytes) -> bytes:
    return (
        b"<html><style>"
        + b"body{margin:0}" * 200
        + b"</style><dd>"
        + serial
        + b"</dd><a href='/p/"
        + pid
        + b".json'>bundle</a><img src='/qr/21/"
        + serial
        + b".svg'>"
        + b"<p>the same journey</p>" * 100
        + b"</html>"
    )


def test_lot_mates_share_one_template_and_each_gets_its_own_page() -> None:
    a_fills = [b"ab" * 32, b"SN-0000100"]
    b_fills = [b"cd" * 32, b"SN-0001000"]
    a_page, b_page = _lot_page(a_fills[1], a_fills[0]), _lot_page(b_fills[1], b_fills[0])
    a, b = spliced.split(a_page, a_fills), spliced.split(b_page, b_fills)
    assert a.digest == b.digest
    assert a == b
    assert gzip.decompress(spliced.assemble(a, b_fills, spliced.crc(b_page))) == b_page
    assert gzip.decompress(spliced.assemble(a, a_fills, spliced.crc(a_page))) == a_page
    # Two of the template's three slots take the serial, one the passport id.
    assert sorted(a.slots) == [0, 1, 1]
    # A page that differs anywhere else is another template.
    other = a_page.replace(b"the same journey", b"another journey")
    assert spliced.split(other, a_fills).digest != a.digest


def test_a_short_fill_stays_in_the_text() -> None:
    """A fill shorter than MIN_FILL would match by chance: the template is then the
    item's own, and still reads back exactly."""
    page = b"<dd>7</dd><p>17 of 27</p>"
    template = spliced.split(page, [b"7"])
    assert template.slots == ()
    assert gzip.decompress(spliced.assemble(template, [b"7"], spliced.crc(page))) == page


def test_a_fill_longer_than_a_stored_block_stays_in_the_text() -> None:
    long = b"z" * 70_000
    page = b"a" + long + b"b"
    template = spliced.split(page, [long])
    assert template.slots == ()
    assert gzip.decompress(spliced.assemble(template, [long], spliced.crc(page))) == page


def test_a_stored_template_with_trailing_bytes_is_refused() -> None:
    template = spliced.split(b"<p>SN-1234</p>", [b"SN-1234"])
    with pytest.raises(ValueError, match="trailing"):
        spliced.decode(template.encode() + b"\x00", template.digest)
