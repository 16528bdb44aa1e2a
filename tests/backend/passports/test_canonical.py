"""RFC 8785 canonical bytes and the document hash."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.passports.canonical import _hash_of, canonical_bytes, document_hash
from backend.passports.errors import DocumentInvalid
from backend.passports.schemas import PassportDocument

SAMPLE = Path(__file__).resolve().parents[3] / "backend/passports/samples/bamboo_tableware.json"

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False, width=64)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=6), json_values, min_size=1, max_size=6)


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


def test_canonical_bytes_follow_rfc_8785() -> None:
    assert canonical_bytes({"b": 1, "a": "x", "c": [2.0, 1e21, 0.5]}) == (
        b'{"a":"x","b":1,"c":[2,1e+21,0.5]}'
    )
    # Keys sort by UTF-16 code units, strings keep non-ASCII as UTF-8.
    assert canonical_bytes({"é": "ü", "z": None}) == '{"z":null,"é":"ü"}'.encode()


def test_document_hash_is_keccak_of_canonical_bytes() -> None:
    doc = {"a": 1}
    assert document_hash(doc) == keccak(b'{"a":1}')
    assert len(document_hash(doc)) == 32


@settings(max_examples=80, deadline=None)
@given(value=json_objects, seed=st.integers(0, 2**32 - 1), indent=st.none() | st.integers(0, 4))
def test_hash_is_stable_across_key_order_and_whitespace(
    value: dict[str, Any], seed: int, indent: int | None
) -> None:
    text = json.dumps(_shuffled(value, random.Random(seed)), indent=indent)
    assert document_hash(json.loads(text)) == document_hash(value)


@settings(max_examples=80, deadline=None)
@given(value=json_objects, data=st.data())
def test_hash_changes_when_any_value_changes(value: dict[str, Any], data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(sorted(value)))
    replacement = data.draw(
        json_values.filter(
            lambda v: canonical_bytes({"k": v}) != canonical_bytes({"k": value[key]})
        )
    )
    changed = {**value, key: replacement}
    assert document_hash(changed) != document_hash(value)


def test_every_changed_field_of_the_sample_changes_the_hash() -> None:
    raw = json.loads(SAMPLE.read_text())
    doc = PassportDocument.model_validate(raw)
    original = document_hash(doc)
    assert document_hash(raw) == original
    edits = [
        ("origin", "region", "Nghe An province"),
        ("water", "use", 500.5),
        ("product", "name", "Solid bamboo dinner set"),
    ]
    for section, field, value in edits:
        data = doc.to_json_dict()
        data[section][field] = value
        assert document_hash(PassportDocument.model_validate(data)) != original
    data = doc.to_json_dict()
    data["carbon"]["raw_materials"][0]["factor"]["value"] = 0.1100001
    assert document_hash(data) != original


def test_non_json_values_are_refused() -> None:
    with pytest.raises(DocumentInvalid, match="cannot be canonicalised"):
        canonical_bytes({"n": float("nan")})
    with pytest.raises(DocumentInvalid, match="cannot be canonicalised"):
        canonical_bytes({"n": 2**60})


def test_a_document_without_restricted_sections_keeps_its_pre_access_level_hash() -> None:
    doc = json.loads(SAMPLE.read_text())

    assert document_hash(doc) == keccak(rfc8785.dumps(doc))
    assert document_hash(PassportDocument.model_validate(doc)) == keccak(rfc8785.dumps(doc))


def test_restricted_sections_hash_by_digest_and_any_change_in_them_changes_the_hash() -> None:

    doc = json.loads(SAMPLE.read_text())
    section = {
        "name": "repair_manual",
        "access": "legitimate_interest",
        "salt": "0x" + "ab" * 32,
        "content": {"steps": ["open the hinge"]},
    }
    digest = (
        "0x" + keccak(rfc8785.dumps({"content": section["content"], "salt": section["salt"]})).hex()
    )
    full = {**doc, "restricted_sections": [section]}
    public = {
        **doc,
        "restricted_sections": [
            {"name": "repair_manual", "access": "legitimate_interest", "digest": digest}
        ],
    }
    assert document_hash(full) == document_hash(public) == keccak(rfc8785.dumps(public))
    assert PassportDocument.model_validate(public).restricted_sections is not None
    for changed in (
        {**section, "content": {"steps": ["open the lid"]}},
        {**section, "salt": "0x" + "cd" * 32},
        {**section, "access": "authority"},
    ):
        assert document_hash({**doc, "restricted_sections": [changed]}) != document_hash(full)
    with pytest.raises(ValueError, match="either salt and content"):
        PassportDocument.model_validate(
            {**doc, "restricted_sections": [{**section, "digest": digest}]}
        )


def test_a_mapping_the_canonical_form_refuses_is_refused_not_hashed_as_its_json_text() -> None:
    # JSON text would name the integer key "1"; the canonical form has no such document.
    doc = {"refused": {1: "integer key"}}
    with pytest.raises(DocumentInvalid, match="object keys must be strings"):
        canonical_bytes(doc)
    with pytest.raises(DocumentInvalid, match="object keys must be strings"):
        document_hash(doc)


def test_the_hash_is_remembered_for_equal_documents_and_not_for_changed_ones() -> None:
    doc = {"cache": {"b": [1, 2.5, "x"], "a": None}, "z": True}

    def hits_and_misses() -> tuple[int, int]:
        info = _hash_of.cache_info()
        return info.hits, info.misses

    hits, misses = hits_and_misses()
    first = document_hash(doc)
    assert first == keccak(canonical_bytes(doc))
    assert hits_and_misses() == (hits, misses + 1)
    # An equal document, its keys in another order, is the same name: a hit.
    assert document_hash({"z": True, "cache": {"a": None, "b": [1, 2.5, "x"]}}) == first
    assert hits_and_misses() == (hits + 1, misses + 1)
    # The same document changed in place is another name: a miss, and its own hash.
    doc["cache"]["b"].append("y")
    changed = document_hash(doc)
    assert hits_and_misses() == (hits + 1, misses + 2)
    assert changed == keccak(canonical_bytes(doc)) != first
