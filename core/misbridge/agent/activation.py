"""``misbridge agent activate``: this machine becomes the school's agent for a hub.

1. the vault's key pair is made (``misbridge activate``) if this machine has none yet;
   its private key never leaves the machine;
2. the public key is registered with the hub under the one-time activation code;
3. the hub answers with the agent's own token sealed to that key, which only this
   machine can open; it is kept sealed in the vault (MIS ``hub``, for the school);
4. the agent's settings (hub, school, MIS and its settings) go to ``agent/agent.json``.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Mapping
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization

from misbridge.agent.config import AgentConfig
from misbridge.agent.hubclient import AgentHub
from misbridge.errors import ConfigurationError
from misbridge.hooktypes import Secret
from misbridge.hub.protocol import agent_token_info
from misbridge.vault import activate as activate_vault
from misbridge.vault.sealing import hpke_open
from misbridge.vault.vault import Vault

__all__ = ["HUB_MIS", "activate_agent", "agent_token", "open_hub"]

#: The name the agent's hub token is sealed under in the vault.
HUB_MIS = "hub"
TOKEN_FIELD = "agent_token"  # noqa: S105 - a field name, not a secret


def activate_agent(
    code: str,
    hub_url: str,
    *,
    mis: str | None = None,
    settings: Mapping[str, str] | None = None,
    credentials_school: str | None = None,
    ca_file: str | None = None,
    upload_rate: int | None = None,
    passphrase_store: str | None = None,
    passphrase_file: str | None = None,
    root: Path | None = None,
    transport: httpx.BaseTransport | None = None,
) -> AgentConfig:
    vault = Vault(root)
    if vault.active_kid() is None:
        activate_vault(
            passphrase_store=passphrase_store, passphrase_file=passphrase_file, root=root
        )
        vault = Vault(root)
    pair = vault.keys.load_active()
    raw = pair.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    hub = AgentHub(hub_url, ca_file=ca_file, transport=transport)
    try:
        answer = hub.activate(code, base64.b64encode(raw).decode("ascii"), socket.gethostname())
    finally:
        hub.close()
    school = answer["school"]
    if mis is not None and mis != school["mis"]:
        raise ConfigurationError(
            f"the hub says this school's MIS is {school['mis']!r}, not {mis!r}; nothing was "
            "saved (the activation code is used: ask the integrator for a new one)"
        )
    info = agent_token_info(answer["agent_id"], school["id"], pair.kid)
    token = hpke_open(base64.b64decode(answer["sealed_token"]), pair.private_key, info)
    vault.seal(HUB_MIS, school["id"], {TOKEN_FIELD: token.decode("ascii")})
    config = AgentConfig(
        hub_url=hub.url,
        agent_id=answer["agent_id"],
        school_id=school["id"],
        school_name=school["name"],
        mis=school["mis"],
        settings=dict(settings or {}),
        credentials_school=credentials_school,
        ca_file=ca_file,
        upload_rate=upload_rate,
        kid=pair.kid,
    )
    config.save(root)
    return config


def agent_token(config: AgentConfig, root: Path | None = None) -> Secret:
    found = Vault(root).unseal(HUB_MIS, config.school_id)
    if not found or TOKEN_FIELD not in found:
        raise ConfigurationError(
            "the agent's hub token is not in the vault: activate the agent again"
        )
    return found[TOKEN_FIELD]


def open_hub(
    config: AgentConfig, root: Path | None = None, transport: httpx.BaseTransport | None = None
) -> AgentHub:
    return AgentHub(
        config.hub_url, agent_token(config, root), ca_file=config.ca_file, transport=transport
    )
