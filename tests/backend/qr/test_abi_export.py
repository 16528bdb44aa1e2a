"""The ABIs the verifier ships equal the compiled contracts (scripts/export_abis.py)."""

from __future__ import annotations

import json
from collections import Counter

from eth_hash.auto import keccak

from backend.chain.compiler import Artifact
from backend.qr.bundle.verify import ABI_DIR, PINNED, selector, topic


def test_shipped_abis_equal_the_build(artifacts: dict[str, Artifact]) -> None:
    for name in PINNED:
        shipped = json.loads((ABI_DIR / f"{name}.json").read_text())
        assert shipped == artifacts[name].abi, f"run scripts/export_abis.py ({name} changed)"


def test_selectors_agree_with_the_compiler(artifacts: dict[str, Artifact]) -> None:
    for name in PINNED:
        by_name = {
            sig.split("(")[0]: sel for sig, sel in artifacts[name].method_identifiers.items()
        }
        counts = Counter(sig.split("(")[0] for sig in artifacts[name].method_identifiers)
        for fn, sel in by_name.items():
            if counts[fn] == 1:
                assert selector(name, fn).hex() == sel, f"{name}.{fn}"


def test_event_topics_hash_the_abi_signature() -> None:
    assert topic("AnchorRegistry", "Anchored") == keccak(b"Anchored(address,bytes32)")
    assert topic("ProductPassportRegistry", "PassportRecalled") == keccak(
        b"PassportRecalled(bytes32,address,uint16,bytes32,string)"
    )
