"""Service settings, read from the environment (prefix ``WAYMARK_``)."""

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ChainBackend = Literal["tester", "anvil", "rpc"]
DEFAULT_ADMIN_TOKEN = "change-me"  # noqa: S105 - the placeholder we refuse outside dev
# Operator tokens and session keys on a real chain: at least this long (~190 bits
# as URL-safe base64), so guessing them is out of the question.
MIN_SECRET_LENGTH = 32
# Throwaway chains, where development defaults are allowed.
DEV_BACKENDS = ("tester", "anvil")


class SettingsRefused(ValueError):
    """The service will not start with these settings; the message names what to set."""


# Keys every developer knows: eth-tester's accounts (private keys 1..10) and
# anvil's default mnemonic accounts. They may sign only on throwaway chains.
WELL_KNOWN_DEV_KEYS = frozenset(
    {f"{i:064x}" for i in range(1, 11)}
    | {
        "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
        "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
        "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
        "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
        "47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    }
)


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="WAYMARK_", env_file=".env", extra="ignore")

    chain_backend: ChainBackend = "tester"
    rpc_url: str | None = None
    relayer_private_key: SecretStr | None = None
    receipt_timeout_seconds: float = Field(default=120.0, gt=0)
    rpc_timeout_seconds: float = Field(default=15.0, gt=0)
    # web3's own retries of read calls on transport errors; the anchoring worker
    # has its own backoff, so its process may turn these off.
    rpc_retries: bool = True
    priority_fee_gwei: float = Field(default=1.0, ge=0)
    confirmations: int = Field(default=0, ge=0)
    # The ERC-20 the alliance contracts settle in. Required on a real chain; on
    # tester/anvil the 6-decimal test stablecoin is deployed when it is unset.
    settlement_token: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")

    database_url: str = "sqlite:///./var/waymark.sqlite3"
    public_base_url: str = "http://127.0.0.1:8000"
    environment: Literal["dev", "test", "production"] = "dev"
    # Operator bootstrap: a bearer token accepted for the admin endpoints that
    # create organisations and their first keys. Refused if left at the default
    # outside dev/test.
    admin_token: SecretStr = SecretStr(DEFAULT_ADMIN_TOKEN)
    migrate_on_startup: bool = True
    # Keys that sign dashboard session cookies, comma-separated: the first signs,
    # all are accepted (rotate by putting a new one first). Unset: one random key
    # kept in the database, shared by every replica.
    session_secrets: SecretStr | None = None

    # Anchoring
    anchor_batch_size: int = Field(default=1024, ge=1, le=65_536)
    anchor_interval_seconds: float = Field(default=0.5, gt=0)
    anchor_worker_enabled: bool = True
    stuck_after_seconds: float = Field(default=30.0, gt=0)
    fee_bump_percent: int = Field(default=15, ge=10, le=500)
    lease_seconds: float = Field(default=60.0, gt=0)

    # Indexer
    indexer_enabled: bool = True
    indexer_interval_seconds: float = Field(default=1.0, gt=0)
    reorg_window: int = Field(default=12, ge=1, le=256)
    indexer_max_range: int = Field(default=2_000, ge=1)

    # Webhooks and the notification worker (SLA sweep, colour watch, delivery)
    webhook_worker_enabled: bool = True
    webhook_interval_seconds: float = Field(default=1.0, gt=0)
    webhook_watch_interval_seconds: float = Field(default=30.0, ge=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    webhook_batch_size: int = Field(default=100, ge=1, le=10_000)
    # Attempts in flight at once: one slow receiver must not hold up the others.
    webhook_concurrency: int = Field(default=8, ge=1, le=64)
    # Seconds to wait after the 1st, 2nd, … failed attempt; after the last one the
    # delivery fails and the subscription is disabled. The default is the Standard
    # Webhooks reference schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h): 8
    # attempts over 27.6 hours.
    webhook_retry_schedule: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
    # Loopback / private / link-local targets: allowed outside production unless set.
    webhook_allow_private_targets: bool | None = None
    # Keys that seal webhook signing secrets in the database, comma-separated: the
    # first seals, all open (rotate by putting a new one first). Required on any
    # chain but the development ones, which fall back to a published key.
    webhook_secrets_keys: SecretStr | None = None
    # Keys that seal the organisations' credential-signing private keys (ES256K) in the
    # database; same form and rules as ``webhook_secrets_keys``.
    credential_sealing_keys: SecretStr | None = None
    # Flag overdue milestones on chain when their SLA deadline passes.
    sla_sweep_enabled: bool = True
    # Settle purchase agreements (DeliveryAgreement) by themselves once they are due.
    agreement_keeper_enabled: bool = True

    # Request limits
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    max_json_depth: int = Field(default=16, ge=2)
    max_batch_events: int = Field(default=2_000, ge=1)
    # EPCIS capture (advertised as GS1-EPCIS-Capture-Limit / GS1-Capture-File-Size-Limit).
    epcis_capture_limit: int = Field(default=500, ge=1)
    epcis_capture_file_size_limit: int = Field(default=1_048_576, ge=1024)
    page_size_max: int = Field(default=200, ge=1)
    rate_limit_per_second: float = Field(default=50.0, gt=0)
    rate_limit_burst: int = Field(default=200, ge=1)
    # Failed token checks and sign-ins per client address (shared by all replicas):
    # once spent, the address is answered 429 before its tokens are checked.
    auth_failure_limit_per_second: float = Field(default=1.0, gt=0)
    auth_failure_burst: int = Field(default=20, ge=1)

    @model_validator(mode="after")
    def _check_chain(self) -> "Settings":
        if self.chain_backend in ("anvil", "rpc") and not self.rpc_url:
            if self.chain_backend == "anvil":
                self.rpc_url = "http://127.0.0.1:8545"
            else:
                raise ValueError("WAYMARK_RPC_URL is required when WAYMARK_CHAIN_BACKEND=rpc")
        if self.environment == "production":
            problem = _weak_token(self.admin_token.get_secret_value())
            if problem:
                raise ValueError(f"WAYMARK_ADMIN_TOKEN {problem} in production")
        if self.chain_backend == "rpc":
            key = self.relayer_private_key
            if key is None:
                raise ValueError("WAYMARK_RELAYER_PRIVATE_KEY is required on a real RPC chain")
            if normalise_key(key.get_secret_value()) in WELL_KNOWN_DEV_KEYS:
                raise ValueError(
                    "WAYMARK_RELAYER_PRIVATE_KEY is a well-known development key; "
                    "it is refused outside the tester and anvil backends"
                )
        return self


def _weak_token(token: str) -> str | None:
    if token == DEFAULT_ADMIN_TOKEN:
        return f"is the default {DEFAULT_ADMIN_TOKEN!r}; a secret of at least {MIN_SECRET_LENGTH} characters is required"
    if len(token) < MIN_SECRET_LENGTH:
        return f"has {len(token)} characters; at least {MIN_SECRET_LENGTH} are required"
    return None


def service_refusals(settings: Settings) -> list[str]:
    """Why the service must not start with ``settings`` (empty when it may).

    On any chain but the throwaway ones the operator token and the session keys
    must be real secrets, whatever ``WAYMARK_ENVIRONMENT`` says.
    """
    if settings.chain_backend in DEV_BACKENDS:
        return []
    where = f"on the {settings.chain_backend!r} chain backend"
    refusals = []
    problem = _weak_token(settings.admin_token.get_secret_value())
    if problem:
        refusals.append(f"WAYMARK_ADMIN_TOKEN {problem} {where}")
    if settings.session_secrets is not None:
        for n, key in enumerate(settings.session_secrets.get_secret_value().split(","), 1):
            if len(key.strip()) < MIN_SECRET_LENGTH:
                refusals.append(
                    f"WAYMARK_SESSION_SECRETS key {n} has {len(key.strip())} characters; "
                    f"at least {MIN_SECRET_LENGTH} are required {where}"
                )
    for name, keys, what in (
        ("WAYMARK_WEBHOOK_SECRETS_KEYS", settings.webhook_secrets_keys, "webhook signing secrets"),
        (
            "WAYMARK_CREDENTIAL_SEALING_KEYS",
            settings.credential_sealing_keys,
            "credential-signing keys",
        ),
    ):
        if keys is None:
            refusals.append(f"{name} is required {where} (it seals {what} in the database)")
            continue
        for n, key in enumerate(keys.get_secret_value().split(","), 1):
            if len(key.strip()) < MIN_SECRET_LENGTH:
                refusals.append(
                    f"{name} key {n} has {len(key.strip())} characters; "
                    f"at least {MIN_SECRET_LENGTH} are required {where}"
                )
    return refusals


def enforce_service_settings(settings: Settings) -> None:
    """Raise :class:`SettingsRefused` naming every setting the service refuses."""
    refusals = service_refusals(settings)
    if refusals:
        raise SettingsRefused("; ".join(refusals))


def normalise_key(key: str) -> str:
    """Lower-case hex without 0x, the form keys are compared in."""
    return key.lower().removeprefix("0x").rjust(64, "0")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()``."""
    return Settings()
