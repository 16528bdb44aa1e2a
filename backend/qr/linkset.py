"""Resolver answers beyond the page: content negotiation and the GS1 linkset (RFC 9264)."""

from __future__ import annotations

from typing import Any, Literal

from backend.gs1.digital_link import GS1_VOC, LINK_TYPES, UNTP_LINK_TYPES, DigitalLink

# --- content negotiation -----------------------------------------------------------------

Representation = Literal["html", "json", "linkset"]

_MEDIA_TYPES: dict[str, Representation] = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/linkset+json": "linkset",
    "application/json": "json",
    "application/ld+json": "json",
}


def negotiate(accept: str | None) -> Representation | None:
    """Choose a representation from an ``Accept`` header (RFC 9110 q-values).

    No header, or only wildcards, means HTML (a phone camera opening the link).
    Returns ``None`` when nothing offered is acceptable (HTTP 406).
    """
    if accept is None or not accept.strip():
        return "html"
    best: tuple[float, int, int] | None = None
    chosen: Representation | None = None
    for position, item in enumerate(accept.split(",")):
        fields = [f.strip() for f in item.split(";")]
        media = fields[0].lower()
        q = 1.0
        for param in fields[1:]:
            key, _, val = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(val)
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        choice: Representation
        if media in _MEDIA_TYPES:
            choice, specificity = _MEDIA_TYPES[media], 2
        elif media in ("*/*", "text/*"):
            choice, specificity = "html", 0
        elif media == "application/*":
            choice, specificity = "json", 1
        else:
            continue
        # Higher q wins; on a tie the more specific type, then the one listed first.
        rank = (int(q * 1000), specificity, -position)
        if best is None or rank > best:
            best, chosen = rank, choice
    return chosen


# --- linkset (GS1 resolver linkType=all, RFC 9264) ----------------------------------------

_LINK_TITLES = {
    "gs1:pip": ("Product information page", "text/html"),
    "gs1:traceability": ("Journey and custody events", "text/html"),
    "gs1:epcis": ("EPCIS 2.0 events (JSON-LD)", "application/ld+json"),
    "gs1:certificationInfo": ("Certifications and attestations", "text/html"),
    "gs1:sustainabilityInfo": ("Carbon and water footprint", "text/html"),
}
_LINK_ANCHORS = {
    "gs1:traceability": "#journey",
    "gs1:certificationInfo": "#certifications",
    "gs1:sustainabilityInfo": "#footprint",
}


def link_target(link: DigitalLink, link_type: str, *, base: str) -> str:
    """Where a resolver on ``base`` sends ``link_type`` for this item."""
    page = link.without_link_type().uri(base)
    if link_type == "gs1:epcis":
        return f"{page}?linkType=gs1:epcis"
    return page + _LINK_ANCHORS.get(link_type, "")


def linkset(
    link: DigitalLink, *, base: str, lang: str = "en", credential: str | None = None
) -> dict[str, Any]:
    """The ``application/linkset+json`` document GS1 resolvers return for ``linkType=all``.

    ``credential``: the URL of the passport's UNTP Digital Product Passport credential,
    listed as ``untp:dpp`` and as a second ``gs1:sustainabilityInfo`` link.
    """
    anchor = link.canonical
    entry: dict[str, Any] = {"anchor": anchor}
    for link_type in LINK_TYPES:
        title, media = _LINK_TITLES[link_type]
        entry[GS1_VOC + link_type.removeprefix("gs1:")] = [
            {
                "href": link_target(link, link_type, base=base),
                "title": title,
                "type": media,
                "hreflang": [lang],
            }
        ]
    if credential is not None:
        vc = {
            "href": credential,
            "title": "Digital Product Passport (UNTP verifiable credential)",
            "type": "application/vc+jwt",
            "hreflang": [lang],
        }
        entry[GS1_VOC + "sustainabilityInfo"].append(vc)
        entry[UNTP_LINK_TYPES + "dpp"] = [vc]
    entry[GS1_VOC + "defaultLink"] = [
        {"href": link_target(link, "gs1:pip", base=base), "title": _LINK_TITLES["gs1:pip"][0]}
    ]
    return {"linkset": [entry]}
