"""Canonical bytes and hash of a passport document.

The bytes are the RFC 8785 JSON Canonicalization Scheme (JCS) serialisation of
the document's JSON value (sorted keys, no insignificant whitespace, ECMAScript
number form, UTF-8), so any two JSON texts with the same content give the same
bytes. ``document_hash`` is ``keccak256`` of those bytes: the value a passport
version commits to on chain. A ``PassportDocument`` is hashed in its published
form (:meth:`PassportDocument.to_json_dict`); a mapping is hashed as given, so a
verifier can hash a fetched document without knowing the schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rfc8785
from eth_hash.auto import keccak

from backend.passports.errors import DocumentInvalid
from backend.passports.schemas import PassportDocument


def canonical_bytes(doc: PassportDocument | Mapping[str, Any]) -> bytes:
    """RFC 8785 (JCS) UTF-8 bytes of ``doc``."""
    value = doc.to_json_dict() if isinstance(doc, PassportDocument) else doc
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError) as exc:
        raise DocumentInvalid([f"$: cannot be canonicalised as JSON ({exc})"]) from exc


def document_hash(doc: PassportDocument | Mapping[str, Any]) -> bytes:
    """``keccak256(canonical_bytes(doc))``: 32 bytes."""
    return keccak(canonical_bytes(doc))
