"""Serve Waymark on 127.0.0.1:8000 over the in-process chain, with a database,
the anchoring worker and the indexer running, and a demo organisation.

Prints the demo organisation's API key and a signer key to sign events with
(development only: both are created fresh on every start).
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvicorn
from eth_account import Account
from sqlalchemy import select

from backend.chain.compiler import compile_contracts
from backend.config import get_settings
from backend.db import migrate
from backend.db.engine import make_engine, make_sessionmaker
from backend.main import create_app
from backend.orgs import service as orgs
from backend.orgs.models import Organisation
from backend.orgs.schemas import ApiKeyCreate, OrganisationCreate, Scope
from backend.orgs.service import Principal

DEMO_ORG = "demo"
DEMO_DB = "var/demo.sqlite3"


def seed(database_url: str) -> tuple[str, str, str]:
    """Migrate, make sure the demo org exists, issue it a key and a signer."""
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    sessions = make_sessionmaker(engine)
    operator = Principal(None, None, frozenset({"operator"}), None, operator=True)
    with sessions() as session:
        if session.scalar(select(Organisation).where(Organisation.slug == DEMO_ORG)) is None:
            orgs.create_org(
                session=session, data=OrganisationCreate(slug=DEMO_ORG, name="Demo Trading Co.")
            )
        issued = orgs.issue_key(
            session=session,
            principal=operator,
            slug=DEMO_ORG,
            data=ApiKeyCreate(scopes=[Scope.ADMIN, Scope.SELLER, Scope.CARRIER], label="demo"),
        )
        signer = Account.create()
        orgs.register_signer(
            session=session,
            principal=operator,
            slug=DEMO_ORG,
            address=signer.address,
            label="demo signer",
            valid_from=None,
        )
    engine.dispose()
    return issued.key, signer.address, "0x" + bytes(signer.key).hex()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    os.environ.setdefault("WAYMARK_CHAIN_BACKEND", "tester")
    os.environ.setdefault("WAYMARK_DATABASE_URL", f"sqlite:///./{DEMO_DB}")
    compile_contracts()
    settings = get_settings()
    if settings.chain_backend == "tester" and settings.database_url.endswith(DEMO_DB):
        # The in-process chain starts empty on every run; so does its database.
        for suffix in ("", "-wal", "-shm"):
            Path(DEMO_DB + suffix).unlink(missing_ok=True)
    api_key, signer, signer_key = seed(settings.database_url)
    app = create_app(settings)
    base = f"http://{args.host}:{args.port}"
    print(f"Waymark demo on {base}  (chain backend: {settings.chain_backend})")
    print(f"  health:   {base}/health")
    print(f"  API docs: {base}/docs")
    print(f"  org '{DEMO_ORG}' API key: {api_key}")
    print(f"  signer {signer} (private key, dev only): {signer_key}")
    print(f"  database: {settings.database_url}", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
