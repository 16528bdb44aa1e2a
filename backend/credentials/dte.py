"""Shipment milestones and signed supply events as UNTP Digital Traceability Events (0.6.1).

Pure mappings to the unsecured credential JSON-LD; nothing here touches the database
or the chain. A milestone is an ``ObjectEvent`` with the CBV 2.0 business step and
disposition the EPCIS export gives it (``backend/epcis/vocabulary.py``), about the
items and quantities its shipment's manifest names; a supply event is an
``ObjectEvent`` about its subject (a passport's Digital Link, or the shipment).
Identifiers are absolute URIs, as the schema asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.credentials import untp
from backend.credentials.dpp import VC_CONTEXT, Issuer, credential_issuer
from backend.epcis.vocabulary import BIZ_STEP_PREFIX, DISPOSITION_PREFIX

UNTP_DTE_CONTEXT = untp.context("dte")
UNLOCODE = "https://vocabulary.uncefact.org/unlocode#"
PIECE = "H87"  # UN/ECE Rec 20: piece


@dataclass(frozen=True)
class Line:
    """One thing the event is about: an item (serial) or a quantity of a class."""

    uri: str
    name: str
    quantity: int | None  # None: one identified item


@dataclass(frozen=True)
class EventFacts:
    """The recorded event, and where its credential and record live."""

    credential_id: str
    event_uri: str
    process: str
    biz_step: str | None  # CBV 2.0 business step
    disposition: str | None
    occurred_at: str  # RFC 3339
    location: str | None  # UN/LOCODE
    lines: tuple[Line, ...]
    valid_from: str
    details: dict[str, Any]
    evidence: dict[str, Any]


def credential(*, issuer: Issuer, facts: EventFacts) -> dict[str, Any]:
    """The unsecured DTE credential (the payload of its ``vc+jwt`` envelope)."""
    event: dict[str, Any] = {
        "type": ["ObjectEvent", "Event"],
        "id": facts.event_uri,
        "processType": facts.process,
        "eventTime": facts.occurred_at,
        "action": "observe",
        "epcList": [
            {"type": ["Item"], "id": line.uri, "name": line.name}
            for line in facts.lines
            if line.quantity is None
        ],
        "quantityList": [
            {
                "type": ["QuantityElement"],
                "productId": line.uri,
                "productName": line.name,
                "quantity": line.quantity,
                "uom": PIECE,
            }
            for line in facts.lines
            if line.quantity is not None
        ],
        **facts.details,
    }
    if facts.biz_step is not None:
        event["bizStep"] = BIZ_STEP_PREFIX + facts.biz_step
    if facts.disposition is not None:
        event["disposition"] = DISPOSITION_PREFIX + facts.disposition
    if facts.location:
        event["bizLocation"] = UNLOCODE + facts.location.upper()
    return {
        "@context": [VC_CONTEXT, UNTP_DTE_CONTEXT],
        "type": ["VerifiableCredential", "DigitalTraceabilityEvent"],
        "id": facts.credential_id,
        "issuer": credential_issuer(issuer, role="Signer"),
        "validFrom": facts.valid_from,
        "credentialSubject": [event],
        "evidence": [facts.evidence],
    }
