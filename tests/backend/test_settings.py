"""Fail closed: weak operator tokens and session keys are refused on a real chain."""

from __future__ import annotations

import secrets

import pytest
from pydantic import SecretStr, ValidationError

from backend.config import Settings, SettingsRefused
from backend.main import create_app

STRONG = "s" * 32


def _rpc(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "chain_backend": "rpc",
        "rpc_url": "http://127.0.0.1:1",
        "relayer_private_key": SecretStr("0x" + secrets.token_hex(32)),
        "_env_file": None,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("environment", ["dev", "test", "production"])
def test_the_default_operator_token_is_refused_on_a_real_chain_in_any_environment(
    environment: str,
) -> None:
    with pytest.raises(
        (SettingsRefused, ValidationError), match="WAYMARK_ADMIN_TOKEN is the default"
    ):
        create_app(_rpc(environment=environment))


@pytest.mark.parametrize("token", ["x", "a-real-secret", "s" * 31])
def test_a_short_operator_token_is_refused_on_a_real_chain(token: str) -> None:
    with pytest.raises(SettingsRefused) as refused:
        create_app(_rpc(admin_token=token))
    message = str(refused.value)
    assert f"WAYMARK_ADMIN_TOKEN has {len(token)} characters" in message
    assert "at least 32 are required on the 'rpc' chain backend" in message


def test_short_session_keys_are_refused_on_a_real_chain() -> None:
    with pytest.raises(SettingsRefused, match="WAYMARK_SESSION_SECRETS key 2 has 5 characters"):
        create_app(_rpc(admin_token=STRONG, session_secrets=f"{STRONG},short"))


def test_strong_secrets_start_on_a_real_chain() -> None:
    app = create_app(
        _rpc(
            admin_token=STRONG,
            session_secrets=f"{STRONG},{'t' * 40}",
            webhook_secrets_keys=f"{'w' * 40}",
            credential_sealing_keys=f"{'c' * 40}",
        )
    )
    assert app.title == "Waymark"


def test_development_chains_keep_their_defaults() -> None:
    for backend in ("tester", "anvil"):
        create_app(Settings(chain_backend=backend, _env_file=None))  # type: ignore[call-arg]


def test_production_refuses_default_and_short_tokens_on_any_chain() -> None:
    with pytest.raises(ValidationError, match="WAYMARK_ADMIN_TOKEN is the default"):
        Settings(environment="production", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="WAYMARK_ADMIN_TOKEN has 13 characters"):
        Settings(environment="production", admin_token="a-real-secret", _env_file=None)  # type: ignore[call-arg]
    Settings(environment="production", admin_token=STRONG, _env_file=None)  # type: ignore[call-arg]
