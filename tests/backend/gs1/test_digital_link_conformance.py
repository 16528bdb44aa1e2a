"""GS1 Digital Link conformance, run against the HTTP resolver.

The URIs are GS1's own: the parser test cases of the GS1 Barcode Syntax Engine
(``gs1/gs1-syntax-engine``, ``src/c-lib/dl.c``, ``test_dl_parseDLuri``) and the
examples of the GS1 Digital Link URI Syntax standard they quote, plus the
resolver cases named in our issue (tracking parameters, unknown ``linkType``).
Only scheme and host are dropped: the request is the URI's path and query.

Valid links must not be refused: they answer the item (200), the canonical URI
(301) or "nothing recorded for this code" (404), never 400. Invalid links answer
400 with ``field`` naming the path element or query attribute at fault.

Where this resolver differs from the syntax engine, on purpose:

* GTIN-8/12/13 in the path are accepted and redirected (301) to the 14-digit
  form (the engine refuses them unless a legacy option is set; the resolver
  standard asks resolvers to be lenient with what is printed);
* one trailing ``/`` is tolerated and redirected away (the engine refuses it).

Every request only reads, so the module shares one app and database (``module_api``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

JSON = {"Accept": "application/json"}


@pytest.fixture(scope="module")
def api(module_api: TestClient) -> TestClient:
    """The module's shared app (resolver reads on an empty database)."""
    return module_api


VALID = [
    # gs1-syntax-engine test_dl_parseDLuri, successful parses
    "http://a/00/006141411234567890",
    "https://a/01/12312312312333",
    "https://a/stem/00/006141411234567890",
    "https://a/more/stem/00/006141411234567890",
    "https://a/00/faux/00/006141411234567890",
    "https://a/01/12312312312333/22/TEST/10/ABC/21/XYZ",
    "https://a/01/12312312312333/235/TEST",
    "https://a/stem/00/006141411234567890?",
    "https://a/stem/00/006141411234567890?99=ABC",
    "https://a/01/12312312312333?99=ABC&98=XYZ",
    "https://a/01/12312312312333?&&&99=ABC&&&&&&98=XYZ&&&",
    "https://a/01/12312312312333?99=ABC&unknown=666&98=XYZ",
    "https://a/01/12312312312333?unknown=666&99=ABC&98=XYZ",
    "https://a/01/12312312312333?99=ABC&98=XYZ&unknown=666",
    "https://a/01/12312312312333?unknown1=555&99=ABC&unknown2=666&98=XYZ&unknown3=777",
    "https://a/01/12312312312333?99=ABC&singleton&98=XYZ",
    "https://a/01/12312312312333?singleton&99=ABC&98=XYZ",
    "https://a/01/12312312312333?99=ABC&98=XYZ&singleton",
    "https://a/01/12312312312333?singleton1&99=ABC&singleton2&98=XYZ&singleton3",
    "https://a/01/12312312312333?singleton1&unknown1=555&99=ABC&singleton2&unknown2=6666"
    "&98=XYZ&unknown3=777&singleton3",
    "https://a/01/12312312312333/22/ABC%2d123?99=ABC&98=XYZ%2f987",
    "https://a/01/12312312312333/22/ABC+123?99=ABC&98=XYZ%2f987",
    # examples of the GS1 Digital Link standard
    "https://id.gs1.org/01/09520123456788",
    "https://brand.example.com/01/9520123456788",
    "https://brand.example.com/some-extra/pathinfo/01/9520123456788",
    "https://id.gs1.org/01/09520123456788/22/2A",
    "https://id.gs1.org/01/09520123456788/10/ABC123",
    "https://id.gs1.org/01/09520123456788/21/12345",
    "https://id.gs1.org/01/09520123456788/10/ABC1/21/12345?17=180426",
    "https://id.gs1.org/01/09520123456788?3103=000195",
    "https://example.com/01/9520123456788?3103=000195&3922=0299&17=201225",
    "https://example.com/01/09520123456788?3103=000195&3922=0299&17=201225",
    "https://id.gs1.org/01/09520123456788?17=201225&3103=000195&3922=0299",
    "https://id.gs1.org/00/952012345678912345",
    "https://id.gs1.org/00/952012345678912345?02=09520123456788&37=25&10=ABC123",
    "https://id.gs1.org/01/09520123456788/235/XYZ?10=ABC123",
    # the cases: tracking parameters, a trailing '&', an unknown linkType
    "https://a/01/09520123456788?fbclid",
    "https://a/01/09520123456788?utm_source=x&",
    "https://a/01/09520123456788/10/ABC1?utm_source=newsletter&utm_medium=email&gclid=Cj0",
    "https://a/01/09520123456788?linkType=gs1:recipeInfo",
    "https://a/01/09520123456788?linkType=https://gs1.org/voc/allergenInfo",
    "https://a/shop/en/01/09520123456788/22/BLUE-M/10/ABC1/21/12345",
]

INVALID = [
    # gs1-syntax-engine test_dl_parseDLuri, refused parses (field at fault)
    ("https://a/01/12312312312333?99=", "99"),
    ("https://a/01/12312312312333?99=ABC&999=faux", "999"),
    ("https://a/01/12312312312333/22/ABC%2d123?99=ABC&98=XYZ+987", "98"),
    ("https://example.com/01/09520123456788?10=ABC123", "10"),
    ("https://id.gs1.org/01/09520123456788/10/ABC123?99=XYZ789&01=09520123456788", "01"),
    ("https://id.gs1.org/01/09520123456788/10/ABC123?99=XYZ789&10=ABC123", "10"),
    ("https://id.gs1.org/01/09520123456788/10/ABC123?99=XYZ789&99=XYZ789", "99"),
    ("https://example.com/01/09520123456788/89/ABC123?99=XYZ", "path"),
    ("https://example.com/01/09520123456788?99=XYZ&89=ABC123", "89"),
    ("https://a/01//12312312312333", "path"),
    ("https://a/01/1231231231233%003", "gtin"),
    ("https://a/01/12312312312333?99=ABC%00DEF", "99"),
    ("https://a/01/12312312312333/10/", "path"),
    ("https://a/01/12312312312333/99/ABC", "path"),
    # key qualifiers out of order or mixed, and malformed attributes
    ("https://a/01/09520123456788/21/12345/10/ABC1", "path"),
    ("https://a/01/09520123456788/235/XYZ/21/12345", "path"),
    ("https://a/01/09520123456788/22/2A?22=2B", "22"),
    ("https://a/01/09520123456788?17=201325", "17"),
    ("https://a/01/09520123456788?17=2012AB", "17"),
    ("https://a/01/09520123456788?3103=19", "3103"),
    ("https://a/01/09520123456788?02=09520123456787", "02"),
    ("https://a/01/09520123456788/22/" + "A" * 21, "cpv"),
    ("https://a/01/09520123456788/235/" + "T" * 29, "tpx"),
    ("https://a/00/006141411234567891", "sscc"),
]


def _target(uri: str) -> str:
    parts = urlsplit(uri)
    return parts.path + ("?" + parts.query if "?" in uri else "")


@pytest.mark.parametrize("uri", VALID)
def test_gs1_valid_digital_link_is_never_refused(api: TestClient, uri: str) -> None:
    resp = api.get(_target(uri), headers=JSON, follow_redirects=False)
    assert resp.status_code in (200, 301, 404), (uri, resp.status_code, resp.text)
    if resp.status_code == 404:
        assert resp.json()["error"] != "invalid_digital_link"
    page = api.get(_target(uri), follow_redirects=False)
    assert page.status_code != 400, (uri, page.text[:300])


@pytest.mark.parametrize(("uri", "field"), INVALID)
def test_gs1_invalid_digital_link_is_400_naming_the_attribute(
    api: TestClient, uri: str, field: str
) -> None:
    resp = api.get(_target(uri), headers=JSON, follow_redirects=False)
    assert resp.status_code == 400, (uri, resp.status_code, resp.text)
    body = resp.json()
    assert body["error"] == "invalid_digital_link"
    assert body.get("field") == field, (uri, body)
    page = api.get(_target(uri), follow_redirects=False)
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
