"""Sign-in nonces of the field app, shared by every replica through the database."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base


class SignInNonce(Base):
    """One EIP-4361 nonce: issued for one address and chain, used at most once, until it expires.

    Times are Unix seconds. ``used_at`` is set by the one sign-in that spends
    it (a conditional update, so two replicas cannot both accept a replay).
    """

    __tablename__ = "app_sign_in_nonces"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(42))
    chain_id: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    used_at: Mapped[int | None] = mapped_column(BigInteger)
