"""The effect of a relayed write: the indexed row that proves it landed.

A domain declares each kind of effect once, as a subclass of :class:`Effect`
(its ``kind``, the ``subject`` the write is about and the fields that find the
row); :func:`backend.relayer.signed.relay` stores it in the write's
``relay_writes`` row, and the relay handler loads it back with
:func:`load` to ask :meth:`Effect.find` before sending again.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from backend.db.base import ChainPosition

_KINDS: dict[str, type[Effect]] = {}


class Effect(BaseModel):
    """What a relayed write leaves on chain, as the indexer will show it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ClassVar[str]
    # The shipment or passport the write is about (its earlier writes queue it).
    subject: str

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.kind in _KINDS:
            raise TypeError(f"effect kind {cls.kind!r} is declared twice")
        _KINDS[cls.kind] = cls

    def find(self, session: Session) -> tuple[str, int] | None:
        """``(tx_hash, block_number)`` of the indexed effect, None until it is there."""
        raise NotImplementedError


def landed(row: ChainPosition | None) -> tuple[str, int] | None:
    """``(tx_hash, block_number)`` of an indexed row, None while there is none."""
    return None if row is None else (row.tx_hash, row.block_number)


def load(kind: str, fields: dict[str, Any]) -> Effect:
    """The effect stored as ``kind`` and ``fields`` in a ``relay_writes`` row."""
    return _KINDS[kind].model_validate(fields)
