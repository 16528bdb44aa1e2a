"""EPCIS 2.0 documents: GS1 schema validity and CBV 2.0 event hash ids."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from epcis_event_hash_generator import hash_generator, json_to_py

from backend.chain.typed_data.shipments import MilestoneType
from backend.epcis.document import (
    SCHEMA_PATH,
    BizTransaction,
    MilestoneEvent,
    PackingEvent,
    Party,
    Quantity,
    epcis_document,
    event_json,
    schema_errors,
)
from backend.epcis.errors import EpcisError, IdentifierError, SchemaError
from backend.epcis.hashing import event_hash_id, pre_hash_string
from backend.epcis.identifiers import (
    IdStyle,
    Location,
    LocodeLocation,
    canonical_dl,
    item_uri,
    location_uri,
)
from backend.epcis.vocabulary import MILESTONE_CBV, MilestoneCode, exception_cbv
from backend.gs1.digital_link import build_digital_link
from backend.gs1.gtin import with_check_digit

ICT = timezone(timedelta(hours=7))
PDT = timezone(timedelta(hours=-7))
ITEMS = (
    build_digital_link("9506000134352", serial="SN0001"),
    build_digital_link("9506000134352", lot="LOT42", serial="SN0002"),
)
LOT = build_digital_link("9506000134352", lot="LOT42")
FACTORY = Location("9506000134376")
DOCK = Location("9506000134376", "DOCK-3")
LA_PORT = Location(with_check_digit("061414100001"))
SSCC = with_check_digit("09506000134350001")
SELLER = "9506000134376"
CARRIER = with_check_digit("950600099999")
BUYER = with_check_digit("061414100002")
BOL = BizTransaction("bol", "9506000134376", "BOL-778")
PO = BizTransaction("po", "9506000134376", "PO-1")


_SOURCES = {
    MilestoneCode.PICKED_UP: (Party("owning_party", SELLER), Party("possessing_party", CARRIER)),
    MilestoneCode.EXPORT_CLEARED: (Party("possessing_party", CARRIER),),
}
_DESTINATIONS = {
    MilestoneCode.PICKED_UP: (Party("owning_party", BUYER), Party("location", LA_PORT.gln)),
    MilestoneCode.DELIVERED: (Party("possessing_party", BUYER),),
}


def _journey() -> list[MilestoneEvent | PackingEvent]:
    t0 = datetime(2026, 10, 2, 15, 30, 12, 345000, tzinfo=ICT)
    events: list[MilestoneEvent | PackingEvent] = [
        PackingEvent(SSCC, t0 - timedelta(hours=1), DOCK, packed=True, items=ITEMS),
    ]
    for i, code in enumerate(MilestoneCode):
        where = FACTORY if i < 3 else LA_PORT
        events.append(
            MilestoneEvent(
                code,
                (t0 if i < 3 else t0.astimezone(PDT)) + timedelta(days=i),
                where,
                items=ITEMS,
                quantities=(Quantity(LOT, Decimal(12)), Quantity(LOT, Decimal("4.5"), "KGM")),
                biz_location=DOCK if i == 0 else None,
                transactions=(PO, BOL) if i % 2 else (BOL,),
                sources=_SOURCES.get(code, ()),
                destinations=_DESTINATIONS.get(code, ()),
            )
        )
    events.append(
        PackingEvent(SSCC, t0 + timedelta(days=9), LA_PORT, packed=False, items=ITEMS[:1])
    )
    return events


def _reference_hashes(document: dict) -> list[str]:
    events = json_to_py.event_list_from_epcis_document_json(copy.deepcopy(document))
    return hash_generator.epcis_hashes_from_events(events)


@pytest.mark.parametrize("style", list(IdStyle))
def test_document_validates_against_gs1_schema(style: IdStyle) -> None:
    document = epcis_document(_journey(), style=style, created_at=datetime(2026, 11, 1, tzinfo=UTC))
    assert schema_errors(document) == []
    events = document["epcisBody"]["eventList"]
    assert [e["type"] for e in events][:2] == ["AggregationEvent", "ObjectEvent"]
    assert events[-1]["action"] == "DELETE"


def _reference_pre_hashes(document: dict) -> list[str]:
    events = json_to_py.event_list_from_epcis_document_json(copy.deepcopy(document))
    return hash_generator.derive_prehashes_from_events(events)


def _destination_first(pre_hash: str) -> str:
    # The reference implementation writes destinationList before sourceList; the CBV 2.0
    # canonical property order (sourceList = 21, destinationList = 22) puts source first.
    head, sep, rest = pre_hash.partition("sourceList")
    sources, _, destinations = rest.partition("destinationList")
    return head + "destinationList" + destinations + sep + sources


@pytest.mark.parametrize("style", list(IdStyle))
def test_event_hash_ids_match_the_reference_implementation(style: IdStyle) -> None:
    document = epcis_document(_journey(), style=style)
    events = document["epcisBody"]["eventList"]
    ours = [e["eventID"] for e in events]
    reference = _reference_hashes(document)
    both_lists = [i for i, e in enumerate(events) if "sourceList" in e and "destinationList" in e]
    assert len(both_lists) == 1
    assert sum("sourceList" in e or "destinationList" in e for e in events) == 3
    for i, (mine, theirs) in enumerate(zip(ours, reference, strict=True)):
        if i not in both_lists:
            assert mine == theirs, events[i]["bizStep"]
    # With both lists present the only difference is their order (see docs/epcis.md).
    i = both_lists[0]
    assert _destination_first(pre_hash_string(events[i])) == _reference_pre_hashes(document)[i]
    assert len(set(ours)) == len(ours)


def test_hash_is_independent_of_identifier_syntax_and_timezone() -> None:
    dl = epcis_document(_journey(), style=IdStyle.DIGITAL_LINK)
    urn = epcis_document(_journey(), style=IdStyle.EPC_URN)
    assert [e["eventID"] for e in dl["epcisBody"]["eventList"]] == [
        e["eventID"] for e in urn["epcisBody"]["eventList"]
    ]
    event = MilestoneEvent(
        MilestoneCode.DEPARTED, datetime(2026, 10, 4, 22, 15, tzinfo=UTC), FACTORY, items=ITEMS
    )
    same_instant = MilestoneEvent(
        MilestoneCode.DEPARTED, datetime(2026, 10, 5, 5, 15, tzinfo=ICT), FACTORY, items=ITEMS
    )
    # The offset is part of the event, so the ids differ; the instant alone is not enough.
    assert (
        event_json(event, style=IdStyle.DIGITAL_LINK)["eventID"]
        != event_json(same_instant, style=IdStyle.DIGITAL_LINK)["eventID"]
    )


def test_hash_changes_when_any_field_changes() -> None:
    base = event_json(_journey()[1], style=IdStyle.DIGITAL_LINK)
    body = {k: v for k, v in base.items() if k != "eventID"}
    variants = [
        {**body, "disposition": "in_progress"},
        {**body, "epcList": body["epcList"][:1]},
        {**body, "eventTime": "2026-10-02T15:30:12.346+07:00"},
        {**body, "readPoint": {"id": "https://id.gs1.org/414/9506000134383"}},
    ]
    ids = {event_hash_id(body), *(event_hash_id(v) for v in variants)}
    assert len(ids) == 1 + len(variants)
    assert event_hash_id(body) == base["eventID"]
    raw = "ni:///sha-256;" + hashlib.sha256(b"x").hexdigest()
    assert len(base["eventID"]) == len(raw) + len("?ver=CBV2.0")


def test_milestone_mapping_uses_cbv_terms_the_schema_knows() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    biz_steps = schema["definitions"]["bizStep"]["anyOf"][1]["enum"]
    dispositions = schema["definitions"]["disposition"]["anyOf"][1]["enum"]
    assert set(MILESTONE_CBV) == set(MilestoneCode)
    for mapping in MILESTONE_CBV.values():
        assert mapping.biz_step in biz_steps
        assert mapping.disposition in dispositions
    assert MILESTONE_CBV[MilestoneCode.DEPARTED].biz_step == "departing"
    assert MILESTONE_CBV[MilestoneCode.ARRIVED].biz_step == "arriving"
    assert MILESTONE_CBV[MilestoneCode.CUSTOMS_HOLD].biz_step == "holding"
    for reason in range(6):
        assert exception_cbv(reason).disposition in dispositions


def test_milestone_codes_are_the_shipment_registry_milestones() -> None:
    assert [c.name for c in MilestoneCode] == [m.name for m in MilestoneType]
    assert MilestoneCode[MilestoneType(5).name] is MilestoneCode.CUSTOMS_HOLD


def test_exception_disposition_follows_the_reason_code() -> None:
    at = datetime(2026, 10, 2, 8, 0, tzinfo=UTC)
    items = (build_digital_link("09506000134352", serial="SN1"),)
    damaged = MilestoneEvent(MilestoneCode.EXCEPTION, at, None, items=items, reason_code=2)
    delayed = MilestoneEvent(
        MilestoneCode.EXCEPTION, at, LocodeLocation("USLAX"), items=items, reason_code=1
    )
    doc = epcis_document([damaged, delayed])
    first, second = doc["epcisBody"]["eventList"]
    assert (first["bizStep"], first["disposition"]) == ("inspecting", "damaged")
    assert "readPoint" not in first
    assert second["disposition"] == "in_transit"
    assert second["readPoint"] == {"id": "https://vocabulary.uncefact.org/unlocode#USLAX"}
    assert first["eventID"] != second["eventID"]
    with pytest.raises(IdentifierError):
        LocodeLocation("LAX")


def test_schema_rejects_a_broken_document() -> None:
    document = epcis_document(_journey()[:2])
    broken = copy.deepcopy(document)
    del broken["epcisBody"]["eventList"][1]["eventTimeZoneOffset"]
    broken["epcisBody"]["eventList"][1]["bizStep"] = "urn:epcglobal:cbv:bizstep:departing"
    errors = schema_errors(broken)
    assert any("eventTimeZoneOffset" in e for e in errors)
    assert any("bizStep" in e for e in errors)
    from backend.epcis.document import validate_document

    with pytest.raises(SchemaError):
        validate_document(broken)


def test_vendored_schema_is_the_recorded_file() -> None:
    digest = hashlib.sha256(SCHEMA_PATH.read_bytes()).hexdigest()
    assert digest == "70b7ecb60eb605c6edd230761557763e4d470333510d28619291476de635bf20"
    assert json.loads(SCHEMA_PATH.read_text())["$id"].endswith("EPCIS-JSON-Schema.json")


@pytest.mark.parametrize(
    ("uri", "canonical"),
    [
        ("urn:epc:id:sgtin:9506000.013435.SN1", "https://id.gs1.org/01/09506000134352/21/SN1"),
        (
            "urn:epc:class:lgtin:9506000.013435.L%2F1",
            "https://id.gs1.org/01/09506000134352/10/L%2F1",
        ),
        ("urn:epc:id:sgln:9506000.13437.0", "https://id.gs1.org/414/9506000134376"),
        ("urn:epc:id:sgln:9506000.13437.D1", "https://id.gs1.org/414/9506000134376/254/D1"),
        (
            "https://brand.example/01/9506000134352/10/L/21/S?x=1",
            "https://id.gs1.org/01/09506000134352/21/S",
        ),
        ("https://id.gs1.org/00/095060001343500019", "https://id.gs1.org/00/095060001343500019"),
        ("urn:epc:id:pgln:9506000.13437", "https://id.gs1.org/417/9506000134376"),
        ("urn:epcglobal:cbv:bt:9506000134376:BOL-1", None),
    ],
)
def test_canonical_dl(uri: str, canonical: str | None) -> None:
    assert canonical_dl(uri) == canonical


def test_epc_urn_escapes_reserved_serial_characters() -> None:
    link = build_digital_link("9506000134352", serial="A/B%")
    urn = item_uri(link, IdStyle.EPC_URN, gcp_length=7)
    assert urn == "urn:epc:id:sgtin:9506000.013435.A%2FB%25"
    assert canonical_dl(urn) == item_uri(link, IdStyle.DIGITAL_LINK)
    assert location_uri(DOCK, IdStyle.EPC_URN) == "urn:epc:id:sgln:9506000.13437.DOCK-3"


def test_invalid_inputs_raise_typed_errors() -> None:
    with pytest.raises(IdentifierError, match="GLN check digit"):
        Location("9506000134377")
    with pytest.raises(IdentifierError, match="has no serial"):
        item_uri(LOT, IdStyle.DIGITAL_LINK)
    with pytest.raises(IdentifierError, match="Company Prefix length"):
        item_uri(ITEMS[0], IdStyle.EPC_URN, gcp_length=13)
    with pytest.raises(EpcisError, match="no UTC offset"):
        event_json(
            MilestoneEvent(MilestoneCode.ARRIVED, datetime(2026, 1, 1), FACTORY, items=ITEMS),
            style=IdStyle.DIGITAL_LINK,
        )
    with pytest.raises(EpcisError, match="at least one item"):
        event_json(
            MilestoneEvent(MilestoneCode.ARRIVED, datetime(2026, 1, 1, tzinfo=UTC), FACTORY),
            style=IdStyle.DIGITAL_LINK,
        )
