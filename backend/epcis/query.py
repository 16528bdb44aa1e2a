"""EPCIS 2.0 queries over captured events: the SimpleEventQuery parameters Waymark serves.

An organisation reads the events it captured. Identifier and vocabulary parameters
are canonicalised like the event hash does (an EPC URN finds the event captured with
the equivalent Digital Link; ``shipping`` finds ``urn:epcglobal:cbv:bizstep:shipping``).
Results are in capture order; a page ends with an opaque ``nextPageToken``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.epcis.hashing import EPCIS_CONTEXT_PREFIXES, Canon
from backend.epcis.vocabulary import BIZ_STEP_PREFIX, DISPOSITION_PREFIX
from backend.errors import InvalidInput, NotFound
from backend.events.models import EpcisEvent, EpcisEventObject

EVENT_TYPES = frozenset(
    {
        "ObjectEvent",
        "AggregationEvent",
        "TransactionEvent",
        "TransformationEvent",
        "AssociationEvent",
    }
)
LIST_PARAMS = frozenset(
    {
        "eventType",
        "EQ_bizStep",
        "EQ_disposition",
        "MATCH_epc",
        "MATCH_anyEPC",
        "EQ_bizLocation",
        "EQ_readPoint",
    }
)
TIME_PARAMS = frozenset({"GE_eventTime", "LT_eventTime", "GE_recordTime", "LT_recordTime"})
PAGE_PARAMS = frozenset({"perPage", "nextPageToken"})
KNOWN_PARAMS = LIST_PARAMS | TIME_PARAMS | PAGE_PARAMS
ANY_EPC_ROLES = ("epc", "parent", "input", "output")


class QueryParameterError(InvalidInput):
    """A query parameter the service does not know or cannot read (400)."""

    status_code = 400
    error = "epcis_query_parameter"


@dataclass
class Page:
    events: list[dict[str, Any]]
    next_token: str | None


def _values(params: Mapping[str, Sequence[str]], name: str) -> list[str]:
    out: list[str] = []
    for raw in params.get(name, ()):
        out.extend(v.strip() for v in raw.split(",") if v.strip())
    return out


def _time(params: Mapping[str, Sequence[str]], name: str) -> datetime | None:
    values = params.get(name, ())
    if not values:
        return None
    if len(values) > 1:
        raise QueryParameterError(f"{name} is given more than once")
    try:
        moment = datetime.fromisoformat(values[0].replace("Z", "+00:00"))
    except ValueError:
        raise QueryParameterError(
            f"{name} must be an ISO 8601 date-time, got {values[0]!r}"
        ) from None
    if moment.tzinfo is None:
        raise QueryParameterError(f"{name} needs a UTC offset (…Z or …+01:00)")
    return moment


def _token(after: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode().rstrip("=")


def _after(token: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after = int(data["after"])
    except (ValueError, KeyError, TypeError):
        raise QueryParameterError("nextPageToken is not one this service issued") from None
    if after < 0:
        raise QueryParameterError("nextPageToken is not one this service issued")
    return after


def query_events(
    *, session: Session, org_id: int, params: Mapping[str, Sequence[str]], per_page_max: int
) -> Page:
    """One page of the organisation's events matching ``params`` (query string, multi-valued)."""
    unknown = sorted(set(params) - KNOWN_PARAMS)
    if unknown:
        raise QueryParameterError(
            f"unknown query parameter {unknown[0]!r}; supported: {', '.join(sorted(KNOWN_PARAMS))}"
        )
    canon = Canon(EPCIS_CONTEXT_PREFIXES)
    stmt = select(EpcisEvent).where(EpcisEvent.org_id == org_id)
    if kinds := _values(params, "eventType"):
        bad = [k for k in kinds if k not in EVENT_TYPES]
        if bad:
            raise QueryParameterError(f"eventType {bad[0]!r} is not an EPCIS event type")
        stmt = stmt.where(EpcisEvent.event_type.in_(kinds))
    for name, column, op in (
        ("GE_eventTime", EpcisEvent.event_time, "ge"),
        ("LT_eventTime", EpcisEvent.event_time, "lt"),
        ("GE_recordTime", EpcisEvent.record_time, "ge"),
        ("LT_recordTime", EpcisEvent.record_time, "lt"),
    ):
        if (moment := _time(params, name)) is not None:
            stmt = stmt.where(column >= moment if op == "ge" else column < moment)
    if steps := _values(params, "EQ_bizStep"):
        stmt = stmt.where(EpcisEvent.biz_step.in_([canon.vocab(s, BIZ_STEP_PREFIX) for s in steps]))
    if disps := _values(params, "EQ_disposition"):
        stmt = stmt.where(
            EpcisEvent.disposition.in_([canon.vocab(d, DISPOSITION_PREFIX) for d in disps])
        )
    for name, place in (
        ("EQ_bizLocation", EpcisEvent.biz_location),
        ("EQ_readPoint", EpcisEvent.read_point),
    ):
        if places := _values(params, name):
            stmt = stmt.where(place.in_([canon.value(p) for p in places]))
    for name, roles in (("MATCH_epc", ("epc",)), ("MATCH_anyEPC", ANY_EPC_ROLES)):
        if epcs := _values(params, name):
            stmt = stmt.where(
                EpcisEvent.id.in_(
                    select(EpcisEventObject.event_id).where(
                        EpcisEventObject.uri.in_([canon.value(e) for e in epcs]),
                        EpcisEventObject.role.in_(roles),
                    )
                )
            )
    per_page = per_page_max
    if raw := params.get("perPage"):
        try:
            per_page = int(raw[0])
        except ValueError:
            raise QueryParameterError("perPage must be a whole number") from None
        if not 1 <= per_page <= per_page_max:
            raise QueryParameterError(f"perPage must be between 1 and {per_page_max}")
    if token := params.get("nextPageToken"):
        stmt = stmt.where(EpcisEvent.id > _after(token[0]))
    rows = list(session.scalars(stmt.order_by(EpcisEvent.id).limit(per_page + 1)))
    more = len(rows) > per_page
    rows = rows[:per_page]
    return Page(
        events=[json.loads(r.document) for r in rows],
        next_token=_token(rows[-1].id) if more else None,
    )


def get_event(*, session: Session, org_id: int, event_id: str) -> EpcisEvent:
    """The organisation's event with this hash id or client eventID (404 otherwise)."""
    row = session.scalar(
        select(EpcisEvent)
        .where(
            EpcisEvent.org_id == org_id,
            or_(EpcisEvent.hash_id == event_id, EpcisEvent.client_event_id == event_id),
        )
        .order_by(EpcisEvent.hash_id != event_id, EpcisEvent.id)
        .limit(1)
    )
    if row is None:
        raise NotFound(f"no captured event with eventID {event_id}")
    return row
