"""A gzip page stored once for every item whose page differs only in its own strings.

The items of a lot share one page but for a few strings of their own: the serial, the
passport id. :func:`split` cuts a page at those strings (its *fills*) and compresses the
text between them, each piece on its own and ending on a byte boundary (raw deflate,
``Z_SYNC_FLUSH``): a :class:`Template`, the same for every item of the lot. An item's
gzip answer is the template's pieces with its fills put between them as stored
(uncompressed) deflate blocks, and the CRC-32 of its whole page (:func:`assemble`):
no compression per scan, and a lot's page is stored once however many items it has.

The result is an ordinary gzip stream (RFC 1952 around RFC 1951 blocks): every client
that accepts gzip reads it.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

# Fixed header: deflate, no flags, mtime 0, no extra flags, OS unknown.
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
# The last block: empty, stored, final.
_LAST = b"\x01\x00\x00\xff\xff"
_MAX_STORED = 0xFFFF
# A fill shorter than this is left in the text: it would match by chance.
MIN_FILL = 4


@dataclass(frozen=True, slots=True)
class Template:
    """A page's text between its fills, compressed piece by piece.

    ``slots[i]`` is the index of the fill that goes between ``pieces[i]`` and
    ``pieces[i + 1]``; ``size`` is the length of the text without fills, ``digest``
    identifies text and slots (equal pages of lot-mates have equal digests).
    """

    pieces: tuple[bytes, ...]
    slots: tuple[int, ...]
    size: int
    digest: bytes

    def encode(self) -> bytes:
        """The stored form (:func:`decode` reads it back)."""
        n = len(self.pieces)
        head = struct.pack(f"<II{n}I", n, self.size, *map(len, self.pieces))
        return head + bytes(self.slots) + b"".join(self.pieces)


def decode(data: bytes, digest: bytes) -> Template:
    n, size = struct.unpack_from("<II", data)
    lengths = struct.unpack_from(f"<{n}I", data, 8)
    at = 8 + 4 * n
    slots = tuple(data[at : at + n - 1])
    at += n - 1
    pieces = []
    for length in lengths:
        pieces.append(data[at : at + length])
        at += length
    if at != len(data):
        raise ValueError("a stored page template has trailing bytes")
    return Template(tuple(pieces), slots, size, digest)


def _compressed(text: bytes) -> bytes:
    if not text:
        return b""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(text) + c.flush(zlib.Z_SYNC_FLUSH)


def split(page: bytes, fills: Sequence[bytes]) -> Template:
    """``page`` cut at every occurrence of each fill (longest first where two start
    together); a fill shorter than :data:`MIN_FILL` or longer than a stored block is
    left in the text, so the template is then this item's own."""
    usable = {
        f: i for i, f in reversed(list(enumerate(fills))) if MIN_FILL <= len(f) <= _MAX_STORED
    }
    if len(fills) > 255:
        raise ValueError("at most 255 fills")
    texts: list[bytes] = []
    slots: list[int] = []
    at = 0
    if usable:
        pattern = re.compile(b"|".join(re.escape(f) for f in sorted(usable, key=len, reverse=True)))
        for m in pattern.finditer(page):
            texts.append(page[at : m.start()])
            slots.append(usable[m.group()])
            at = m.end()
    texts.append(page[at:])
    digest = hashlib.sha256()
    for t in texts:
        digest.update(struct.pack("<I", len(t)))
        digest.update(t)
    digest.update(bytes(slots))
    return Template(
        tuple(_compressed(t) for t in texts),
        tuple(slots),
        sum(map(len, texts)),
        digest.digest(),
    )


def _stored(fill: bytes) -> bytes:
    n = len(fill)
    return struct.pack("<BHH", 0, n, n ^ 0xFFFF) + fill


def assemble(template: Template, fills: Sequence[bytes], crc: int) -> bytes:
    """The gzip stream of the page ``template`` was split from, for an item with
    ``fills``; ``crc`` is the CRC-32 of that page (:func:`crc`)."""
    out = [_HEADER, template.pieces[0]]
    size = template.size
    for slot, piece in zip(template.slots, template.pieces[1:], strict=True):
        fill = fills[slot]
        size += len(fill)
        out.append(_stored(fill))
        out.append(piece)
    out.append(_LAST)
    out.append(struct.pack("<II", crc, size & 0xFFFFFFFF))
    return b"".join(out)


def crc(page: bytes) -> int:
    return zlib.crc32(page)
