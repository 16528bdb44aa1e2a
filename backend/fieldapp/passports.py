"""Passports from the field app: a seller's form becomes a passport document, checked field
by field with the passports domain's own schema, then the ``IssuePassport`` or
``AmendPassport`` typed data the wallet signs (the same messages ``waymark passport``
signs and ``/v1/passports`` relays)."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from backend.chain.eip712 import Domain
from backend.chain.passports import PassportRegistryClient
from backend.chain.typed_data.passports import AMEND_PASSPORT, ISSUE_PASSPORT, content_message
from backend.common.types import to_hex
from backend.fieldapp.service import Identity
from backend.passports.canonical import document_hash
from backend.passports.carbon import footprint
from backend.passports.errors import PassportError
from backend.passports.schemas import SCHEMA_VERSION, PassportDocument, parse_document
from backend.passports.summary import key_figures

SIGNATURE_TTL = 3600
# The form's fields; "sections" carries the rest of the document as JSON.
FIELDS = (
    "gtin",
    "lot",
    "serial",
    "product_name",
    "category",
    "description",
    "origin_country",
    "region",
    "materials",
    "sections",
)
SECTIONS = ("carbon", "water", "certifications", "instructions", "restricted_sections")
# Where a schema problem at a document path is shown on the form.
_PATHS = {
    "identity.gtin": "gtin",
    "identity.lot": "lot",
    "identity.serial": "serial",
    "identity": "gtin",
    "product.name": "product_name",
    "product.category": "category",
    "product.description": "description",
    "product": "product_name",
    "origin.country": "origin_country",
    "origin.region": "region",
    "origin": "origin_country",
    "materials": "materials",
}


@dataclass
class PassportDraft:
    """A passport form: field errors, or the typed data to sign and the API body to send."""

    errors: dict[str, str] = field(default_factory=dict)
    typed_data: dict[str, Any] | None = None
    submission: dict[str, Any] | None = None
    summary: str = ""


def form_of(document: dict[str, Any]) -> dict[str, str]:
    """The form's fields filled from a stored document (the amend page)."""
    identity = document.get("identity") or {}
    product = document.get("product") or {}
    origin = document.get("origin") or {}
    lines = [
        f"{m.get('name', '')}; {m.get('mass_share_pct', '')}; "
        f"{m.get('recycled_share_pct', 0)}; {m.get('origin_country', '')}"
        for m in document.get("materials") or []
    ]
    sections = {k: document[k] for k in SECTIONS if document.get(k) not in (None, [], {})}
    return {
        "gtin": identity.get("gtin") or "",
        "lot": identity.get("lot") or "",
        "serial": identity.get("serial") or "",
        "product_name": product.get("name") or "",
        "category": product.get("category") or "",
        "description": product.get("description") or "",
        "origin_country": origin.get("country") or "",
        "region": origin.get("region") or "",
        "materials": "\n".join(lines),
        "sections": json.dumps(sections, indent=2, ensure_ascii=False) if sections else "",
    }


def _materials(text: str, errors: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(";")]
        if len(parts) != 4:
            errors["materials"] = (
                f"Line {n}: write name; mass %; recycled %; country, e.g. Bamboo; 94; 0; VN."
            )
            return out
        name, mass, recycled, country = parts
        try:
            shares = float(mass or "nan"), float(recycled or "0")
        except ValueError:
            errors["materials"] = f"Line {n}: the shares are numbers in %, e.g. 94 or 4.5."
            return out
        out.append(
            {
                "name": name,
                "mass_share_pct": shares[0],
                "recycled_share_pct": shares[1],
                "origin_country": country.upper(),
            }
        )
    if not out and "materials" not in errors:
        errors["materials"] = "List at least one material, one per line."
    return out


def _sections(text: str, errors: dict[str, str]) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        errors["sections"] = f"Not JSON: {exc.args[0]}."
        return {}
    if not isinstance(data, dict):
        errors["sections"] = "A JSON object with carbon, water, certifications or instructions."
        return {}
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        errors["sections"] = (
            f"Unknown section(s): {', '.join(unknown)}; allowed: {', '.join(SECTIONS)}."
        )
    return {k: v for k, v in data.items() if k in SECTIONS}


def _place(problem: str) -> tuple[str, str]:
    """The form field a schema problem ``path: message`` belongs to, and its message."""
    path, _, message = problem.partition(": ")
    for prefix in sorted(_PATHS, key=len, reverse=True):
        if path == prefix or path.startswith((prefix + ".", prefix + "[")):
            return _PATHS[prefix], message[:1].upper() + message[1:] + "."
    if path == "$" and "material" in message:
        return "materials", message[:1].upper() + message[1:] + "."
    return "sections", f"{path}: {message}."


def document_from(
    form: dict[str, str], *, identity: Identity, base: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The passport document the form describes (on top of ``base`` when amending)."""
    errors: dict[str, str] = {}
    doc: dict[str, Any] = copy.deepcopy(base) if base else {"carbon": {}, "water": {}}
    doc["schema_version"] = SCHEMA_VERSION
    key = {"gtin": (form.get("gtin") or "").strip()}
    for name in ("lot", "serial"):
        if (form.get(name) or "").strip():
            key[name] = form[name].strip()
    doc["identity"] = key
    doc["issuer"] = {
        **(doc.get("issuer") or {}),
        "name": identity.org_name,
        "account": identity.address,
    }
    doc["product"] = {
        "name": (form.get("product_name") or "").strip(),
        "category": (form.get("category") or "").strip(),
        **({"description": form["description"].strip()} if form.get("description") else {}),
    }
    doc["origin"] = {
        **(doc.get("origin") or {}),
        "country": (form.get("origin_country") or "").strip().upper(),
    }
    if (form.get("region") or "").strip():
        doc["origin"]["region"] = form["region"].strip()
    else:
        doc["origin"].pop("region", None)
    doc["materials"] = _materials(form.get("materials") or "", errors)
    sections = _sections(form.get("sections") or "", errors)
    for name in SECTIONS:
        if name in sections:
            doc[name] = sections[name]
        elif base is not None and (form.get("sections") or "").strip():
            doc.pop(name, None)
    doc.setdefault("carbon", {})
    doc.setdefault("water", {})
    return doc, errors


def _domain_json(domain: Domain) -> dict[str, Any]:
    return {
        "name": domain.name,
        "version": domain.version,
        "chainId": domain.chain_id,
        "verifyingContract": domain.verifying_contract,
    }


def _json(value: Any) -> Any:
    if isinstance(value, bytes):
        return to_hex(value)
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value


def draft(
    *,
    identity: Identity,
    registry: PassportRegistryClient,
    form: dict[str, str],
    base_url: str,
    now: int,
    amending: bytes | None = None,
    base: dict[str, Any] | None = None,
) -> PassportDraft:
    """Check the form; when every field is good, the typed data for the signed-in key."""
    out = PassportDraft()
    raw, out.errors = document_from(form, identity=identity, base=base)
    doc: PassportDocument | None = None
    try:
        doc = parse_document(raw)
    except PassportError as exc:
        for problem in getattr(exc, "problems", [str(exc)]):
            where, text = _place(problem)
            out.errors.setdefault(where, text)
    if out.errors or doc is None:
        return out
    pid = doc.passport_id
    head = registry.passport(pid)
    if amending is None and head is not None:
        out.errors["gtin"] = "A passport with this GTIN, lot and serial exists; amend it instead."
        return out
    if amending is not None and pid != amending:
        out.errors["gtin"] = "An amendment keeps the passport's GTIN, lot and serial."
        return out
    if amending is not None and head is None:
        out.errors["gtin"] = "This passport is not on chain yet; wait for its issue to be final."
        return out
    figures = key_figures(doc, footprint(doc))
    uri = f"{base_url.rstrip('/')}{doc.identity.key.path}"
    content = content_message(
        document_hash=document_hash(doc),
        uri=uri,
        origin_country=figures.origin_country,
        recycled_content_bps=figures.recycled_content_bps,
        carbon_grams_co2e=figures.carbon_grams_co2e,
        water_litres=figures.water_litres,
    )
    message: dict[str, Any] = {
        "issuer": identity.address,
        "passportId": pid,
        "content": content,
        "nonce": registry.nonce(identity.address),
        "deadline": now + SIGNATURE_TTL,
    }
    struct = ISSUE_PASSPORT
    if head is not None:
        struct = AMEND_PASSPORT
        message = {**message, "baseVersion": head.version}
    out.typed_data = {
        "domain": _domain_json(registry.domain()),
        "types": struct.eip712_types(),
        "primaryType": struct.name,
        "message": _json(message),
    }
    body = {
        "content": {**_json(content), "originCountry": figures.origin_country},
        "issuer": identity.address,
        "nonce": message["nonce"],
        "deadline": message["deadline"],
        "document": doc.to_json_dict(),
    }
    if head is None:
        out.submission = {"passportId": to_hex(pid), **body}
    else:
        out.submission = {"baseVersion": head.version, **body}
    what = f"version {head.version + 1} of" if head is not None else "the passport of"
    lot = f" lot {doc.identity.lot}" if doc.identity.lot else ""
    out.summary = (
        f"You sign {what} {doc.product.name} (GTIN {doc.identity.gtin}{lot}) as "
        f"{identity.org_name}: made in {figures.origin_country}, "
        f"{figures.recycled_content_bps / 100:g} % recycled content, "
        f"{figures.carbon_grams_co2e / 1000:g} kg CO2e, {figures.water_litres} L water."
    )
    return out
