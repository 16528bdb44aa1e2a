"""The application context and the FastAPI dependencies over it, as ``Annotated`` aliases.

The lifespan (``backend.main``) builds one :class:`AppContext` and keeps it as
``app.state.context``; routes take the parts they need through the aliases
below (:data:`Ctx`, :data:`SessionDep`, :data:`Registries`, …), never the
``app.state`` bag. What the loaded deployment gives (:class:`Contracts`)
arrives once the contracts are deployed or their manifest is read: until then
``contracts`` is ``None`` and :data:`Registries` answers 503.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from itsdangerous import TimestampSigner
from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from backend.chain import ChainClient
from backend.chain.deployments import Deployment
from backend.chain.eip712 import Domain
from backend.chain.passports import CONTRACT as PASSPORT_REGISTRY
from backend.chain.passports import PassportRegistryClient
from backend.chain.shipments import ShipmentRegistryClient
from backend.chain.typed_data.events import events_domain
from backend.config import Settings
from backend.errors import ServiceUnavailable
from backend.pages.store import PageReader
from backend.startup import StartupGate

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, eq=False)
class Contracts:
    """The loaded deployment and the clients of its registries (their EIP-712 domains are
    read once, on first use)."""

    deployment: Deployment
    events_domain: Domain
    shipments: ShipmentRegistryClient
    passports: PassportRegistryClient

    @classmethod
    def load(cls, chain: ChainClient, deployment: Deployment) -> Contracts:
        return cls(
            deployment=deployment,
            events_domain=events_domain(chain.chain_id, deployment.address("AnchorRegistry")),
            shipments=ShipmentRegistryClient(chain, deployment.address("ShipmentRegistry")),
            passports=PassportRegistryClient(chain, deployment.address(PASSPORT_REGISTRY)),
        )


@dataclass(frozen=True, eq=False)
class AppContext:
    """Everything the routes share, built once by the lifespan.

    ``parts`` holds what higher layers put in (the proof reader, the registry
    writer, the workers), keyed by their class and read back typed with
    :meth:`part`; the layers below never name those classes.
    """

    settings: Settings
    chain: ChainClient
    engine: Engine
    sessions: sessionmaker[Session]
    startup: StartupGate
    # the hottest read: a scan's stored page
    page_reader: PageReader
    session_signer: TimestampSigner
    app_session_signer: TimestampSigner
    contracts: Contracts | None = None
    parts: Mapping[type[Any], object] = field(default_factory=dict)

    @property
    def deployment(self) -> Deployment | None:
        return self.contracts.deployment if self.contracts else None

    def part(self, kind: type[T]) -> T:
        """The shared ``kind`` a higher layer put in; ``LookupError`` if there is none."""
        found = self.parts.get(kind)
        if not isinstance(found, kind):
            raise LookupError(f"the application context holds no {kind.__name__}")
        return found

    def loaded(self) -> Contracts:
        """The loaded deployment's contracts; 503 while they are being deployed."""
        if self.contracts is None:
            raise ServiceUnavailable("no contract deployment is loaded")
        return self.contracts


def context_of(app: FastAPI) -> AppContext:
    """The app's context (set by its lifespan: only inside ``with TestClient(app)``)."""
    ctx: AppContext = app.state.context
    return ctx


def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.context
    return ctx


Ctx = Annotated[AppContext, Depends(get_context)]


def get_chain(ctx: Ctx) -> ChainClient:
    return ctx.chain


def get_deployment(ctx: Ctx) -> Deployment | None:
    return ctx.deployment


def get_app_settings(ctx: Ctx) -> Settings:
    return ctx.settings


def get_contracts(ctx: Ctx) -> Contracts:
    return ctx.loaded()


def get_loaded_deployment(ctx: Ctx) -> Deployment:
    return ctx.loaded().deployment


def get_session(ctx: Ctx) -> Iterator[Session]:
    """One session per request; services commit, anything left open is rolled back."""
    with ctx.sessions() as session:
        yield session


class Page:
    """Keyset pagination: ``after`` (exclusive id) and ``limit`` capped by settings."""

    def __init__(
        self,
        ctx: Ctx,
        after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,  # row ids are 32-bit
        limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
    ) -> None:
        self.after = after
        self.limit = min(limit, ctx.settings.page_size_max)


ChainDep = Annotated[ChainClient, Depends(get_chain)]
DeploymentDep = Annotated[Deployment | None, Depends(get_deployment)]
LoadedDeploymentDep = Annotated[Deployment, Depends(get_loaded_deployment)]
Registries = Annotated[Contracts, Depends(get_contracts)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
PageDep = Annotated[Page, Depends(Page)]


async def _raw_body(request: Request) -> bytes:
    return await request.body()


# A large JSON body taken as bytes, to be parsed in the route's thread by :func:`parse_body`
# (a route that names a model has FastAPI parse and validate it on the event loop,
# where a batch of a thousand events holds up every other request of the process).
RawBody = Annotated[bytes, Depends(_raw_body)]


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting a :data:`RawBody` route's body as ``model``; the
    models it nests are named as components, so each must be one (a route takes it)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def parse_body(model: type[M], raw: bytes) -> M:
    """``raw`` as ``model``, parsed and validated in one pass; a refusal is the 422 of a
    body FastAPI validated itself."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors, body=raw) from None
