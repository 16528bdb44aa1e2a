"""The vendored UNTP schemas are the published 0.6.1 files, and they do reject bad credentials."""

from __future__ import annotations

import hashlib
import re

import pytest

from backend.credentials import untp
from tests.backend.credentials.untp_schemas import SCHEMAS, untp_errors

PUBLISHED = {
    "dpp": "079b729617744cda34fa27d1763d64de138a31b39fb9e2c11b473c531859b9bf",
    "dcc": "2ecb7a4aa86e3e85fd4fccbcb4afb408cbf7e1f6964bfafd0793bed570a0e2bc",
    "dte": "2b17f1bb01deb31554a36a93724dadb3c458c43475caf6b6a43ee6b8a80419af",
}


@pytest.mark.parametrize("kind", sorted(PUBLISHED))
def test_vendored_schema_is_the_published_file_named_in_the_readme(kind: str) -> None:
    path = SCHEMAS / f"untp-{kind}-schema.json"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == PUBLISHED[kind]
    readme = (SCHEMAS / "README.md").read_text()
    assert re.search(rf"`untp-{kind}-schema.json`.*`{PUBLISHED[kind]}`", readme)
    assert untp.context(kind) in path.read_text()  # type: ignore[arg-type]
    assert "GNU GENERAL PUBLIC LICENSE" in (SCHEMAS / "LICENSE").read_text()


def _dpp(**subject: object) -> dict[str, object]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", untp.context("dpp")],
        "type": ["VerifiableCredential", "DigitalProductPassport"],
        "id": "https://example.org/credentials/1",
        "issuer": {"type": ["CredentialIssuer"], "id": "did:web:example.org", "name": "Ex"},
        "validFrom": "2026-01-02T03:04:05Z",
        "credentialSubject": {"type": ["ProductPassport"], **subject},
    }


def test_a_minimal_passport_validates_and_each_departure_is_named() -> None:
    assert untp_errors("dpp", _dpp()) == []
    old_context = _dpp()
    old_context["@context"] = [
        "https://www.w3.org/ns/credentials/v2",
        "https://test.uncefact.org/vocabulary/untp/dpp/0.5.0/",
    ]
    # UNTP 0.5.0 shapes: a subject that is the Product itself, an issuer with
    # otherIdentifier, a relative claim id, a claim not typed Declaration.
    old_issuer = _dpp()
    old_issuer["issuer"] = {**old_issuer["issuer"], "otherIdentifier": []}  # type: ignore[dict-item]
    relative = _dpp(
        conformityClaim=[
            {
                "type": ["Claim", "Declaration"],
                "id": "#certification-fsc",
                "conformance": True,
                "conformityTopic": "environment.deforestation",
            }
        ]
    )
    untyped = _dpp(
        conformityClaim=[
            {
                "type": ["Claim"],
                "id": "https://example.org/c#1",
                "conformance": True,
                "conformityTopic": "environment.deforestation",
            }
        ]
    )
    no_timestamp = _dpp()
    no_timestamp["validFrom"] = "2026-01-02"
    for bad, where in (
        (old_context, "/@context/1"),
        (old_issuer, "/issuer"),
        (relative, "/credentialSubject/conformityClaim/0/id"),
        (untyped, "/credentialSubject/conformityClaim/0/type"),
        (no_timestamp, "/validFrom"),
    ):
        errors = untp_errors("dpp", bad)
        assert errors, where
        assert errors[0].startswith(where + ":"), (where, errors)
        with pytest.raises(untp.CredentialSchemaError, match=r"fails the UNTP 0\.6\.1 schema"):
            untp.check("dpp", bad)
