"""Canonical bytes and hash of a passport document.

The bytes are the RFC 8785 JSON Canonicalization Scheme (JCS) serialisation of
the document's JSON value (sorted keys, no insignificant whitespace, ECMAScript
number form, UTF-8), so any two JSON texts with the same content give the same
bytes. ``document_hash`` is ``keccak256`` of those bytes: the value a passport
version commits to on chain. A ``PassportDocument`` is hashed in its published
form (:meth:`PassportDocument.to_json_dict`); a mapping is hashed as given, so a
verifier can hash a fetched document without knowing the schema.

Restricted sections (``restricted_sections``, ESPR-style access levels) are hashed
in their public form: each full section ``{name, access, salt, content}`` counts
as ``{name, access, digest}`` with ``digest = keccak256(JCS({"content", "salt"}))``.
So the public document, whose restricted sections show only their digests, hashes
to the anchored value, and the full document hashes to the same value. A document
without restricted sections is unchanged by this step: every passport anchored
before access levels existed keeps its hash.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import rfc8785
from eth_hash.auto import keccak

from backend.passports.errors import DocumentInvalid
from backend.passports.schemas import PassportDocument


def _jcs(value: Any) -> bytes:
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError) as exc:
        raise DocumentInvalid([f"$: cannot be canonicalised as JSON ({exc})"]) from exc


def section_digest(section: Mapping[str, Any]) -> str:
    """``0x`` keccak256 of the JCS bytes of a full section's ``{content, salt}``."""
    return "0x" + keccak(_jcs({"content": section["content"], "salt": section["salt"]})).hex()


def public_form(doc: Mapping[str, Any]) -> dict[str, Any]:
    """``doc`` with each full restricted section replaced by its digest form."""
    sections = doc.get("restricted_sections")
    if not isinstance(sections, list):
        return dict(doc)
    public = []
    for section in sections:
        if isinstance(section, Mapping) and "content" in section and "salt" in section:
            public.append(
                {
                    **{k: v for k, v in section.items() if k not in ("content", "salt")},
                    "digest": section_digest(section),
                }
            )
        else:
            public.append(section)
    return {**doc, "restricted_sections": public}


def canonical_bytes(doc: PassportDocument | Mapping[str, Any]) -> bytes:
    """RFC 8785 (JCS) UTF-8 bytes of ``doc`` in its public form."""
    value = doc.to_json_dict() if isinstance(doc, PassportDocument) else doc
    try:
        return rfc8785.dumps(public_form(value))
    except (rfc8785.CanonicalizationError, TypeError) as exc:
        raise DocumentInvalid([f"$: cannot be canonicalised as JSON ({exc})"]) from exc


def document_hash(doc: PassportDocument | Mapping[str, Any]) -> bytes:
    """``keccak256(canonical_bytes(doc))``: 32 bytes.

    Remembered by the document's value: every page of a lot hashes the same stored
    document (to show whether it still matches the anchored hash), and the C JSON
    encoder names a value twenty times faster than the canonical form is built. The
    name is the document's JSON text with sorted keys, so equal documents share it and
    a changed one (also one changed in place) has another.
    """
    value = doc.to_json_dict() if isinstance(doc, PassportDocument) else doc
    try:
        name = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):  # not plain JSON: the canonical form says why
        return keccak(canonical_bytes(value))
    return _hash_of(_Named(name, value))


class _Named:
    """A document under its name: equal by name, carrying the value for a miss."""

    __slots__ = ("name", "value")

    def __init__(self, name: str, value: Any) -> None:
        self.name = name
        self.value = value

    def __hash__(self) -> int:
        return hash(self.name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Named) and other.name == self.name


@lru_cache(maxsize=1024)
def _hash_of(named: _Named) -> bytes:
    # The cache keeps this key: it keeps the name, not the caller's document.
    value, named.value = named.value, None
    return keccak(canonical_bytes(value))
