"""did:web documents for registered organisations, built from the OrganisationRegistry read model.

``did:web:<host>[:<path>]:orgs:<slug>`` resolves (did:web method, §3.2) to
``https://<host>[/<path>]/orgs/<slug>/did.json``; a port in the host is
percent-encoded (``127.0.0.1%3A8000``). The document lists the organisation's
active on-chain signer keys as ``EcdsaSecp256k1RecoveryMethod2020`` with a
CAIP-10 ``blockchainAccountId`` (``eip155:<chainId>:<address>``): a key added on
chain appears, a key revoked on chain disappears, because both follow the
indexed registry. It also lists the organisation's credential-signing key
(``JsonWebKey``, ES256K) as an ``assertionMethod``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.chain.organisations import org_id_for
from backend.common.types import to_hex
from backend.credentials.keys import public_jwk, public_key
from backend.orgs.models import Organisation, RegistryKey, RegistryOrganisation

DID_CONTEXT = [
    "https://www.w3.org/ns/did/v1",
    "https://www.w3.org/ns/cid/v1",
    "https://w3id.org/security/suites/secp256k1recovery-2020/v2",
]
CREDENTIAL_KEY_FRAGMENT = "vc-key"


class OrganisationNotRegistered(Exception):
    """No organisation with this slug is in the indexed OrganisationRegistry."""


def did_for(slug: str, *, base: str) -> str:
    """The did:web of organisation ``slug`` on a service reached at ``base``."""
    parts = urlsplit(base)
    host = quote(parts.netloc, safe="")  # the port's ':' becomes %3A
    path = [quote(p, safe="") for p in parts.path.split("/") if p]
    return ":".join(["did:web", host, *path, "orgs", slug])


def verification_method_id(did: str, address: str) -> str:
    return f"{did}#{address}"


def document(*, session: Session, slug: str, base: str, chain_id: int) -> dict[str, Any]:
    """The DID document of ``slug``; raises :class:`OrganisationNotRegistered`."""
    org = session.scalar(select(Organisation).where(Organisation.slug == slug))
    registry_id = to_hex(org_id_for(slug))
    registered = session.get(RegistryOrganisation, registry_id) if org is not None else None
    if org is None or registered is None:
        raise OrganisationNotRegistered(
            f"organisation {slug!r} is not registered in OrganisationRegistry"
        )
    did = did_for(slug, base=base)
    keys = session.scalars(
        select(RegistryKey)
        .where(RegistryKey.org_id == registry_id, RegistryKey.revoked_block.is_(None))
        .order_by(RegistryKey.added_block, RegistryKey.log_index)
    ).all()
    methods: list[dict[str, Any]] = [
        {
            "id": verification_method_id(did, k.key),
            "type": "EcdsaSecp256k1RecoveryMethod2020",
            "controller": did,
            "blockchainAccountId": f"eip155:{chain_id}:{k.key}",
        }
        for k in keys
    ]
    signer_ids = [m["id"] for m in methods]
    assertion = list(signer_ids)
    credential_key = public_key(session, org.id)
    if credential_key is not None:
        vc_id = f"{did}#{CREDENTIAL_KEY_FRAGMENT}-{credential_key.kid}"
        methods.append(
            {
                "id": vc_id,
                "type": "JsonWebKey",
                "controller": did,
                "publicKeyJwk": {
                    **public_jwk(credential_key.public_x, credential_key.public_y),
                    "kid": credential_key.kid,
                    "alg": "ES256K",
                    "use": "sig",
                },
            }
        )
        assertion.insert(0, vc_id)
    doc: dict[str, Any] = {
        "@context": DID_CONTEXT,
        "id": did,
        "verificationMethod": methods,
        "authentication": signer_ids,
        "assertionMethod": assertion,
    }
    if registered.web_domain:
        doc["alsoKnownAs"] = [f"https://{registered.web_domain}"]
    return doc
