"""Shared test helpers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from backend.chain.errors import ContractRevert


@contextlib.contextmanager
def reverts(error_name: str, **expected: Any) -> Iterator[pytest.ExceptionInfo[ContractRevert]]:
    """Assert the block reverts with custom error ``error_name`` and these arguments."""
    with pytest.raises(ContractRevert) as info:
        yield info
    err = info.value
    assert err.error_name == error_name, f"expected {error_name}, got {err}"
    for key, value in expected.items():
        assert key in err.arguments, f"{error_name} has no argument {key}: {err.arguments}"
        actual = err.arguments[key]
        if isinstance(value, str) and isinstance(actual, str):
            assert actual.lower() == value.lower(), f"{key}: {actual} != {value}"
        else:
            assert actual == value, f"{key}: {actual!r} != {value!r}"
