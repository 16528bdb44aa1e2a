"""Secrets the replicas share through the database."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base


class ServiceSecret(Base):
    """A random secret made once by whichever replica needed it first, then read by all.

    Used when no secret is configured (``WAYMARK_SESSION_SECRETS``), so that a
    session cookie signed by one replica is accepted by every other.
    """

    __tablename__ = "service_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
