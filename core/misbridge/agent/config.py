"""The agent's own settings, kept in ``home()/agent/agent.json`` (owner-only).

They say which hub this machine serves, as which agent and school, and what the
Integrator runs: the MIS plugin, its settings (the same names as the ``misbridge <mis>
extract`` options) and the school id the MIS credentials are stored under in the vault
(``misbridge credentials set <mis> --school ID``). The agent's hub token is never here:
it is sealed in the vault, as MIS ``hub``, for the school.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from attrs import asdict, field, frozen

from misbridge.config import home
from misbridge.errors import ConfigurationError
from misbridge.vault.files import make_private_dir, read_private, write_private

__all__ = ["AgentConfig", "agent_dir"]

FILE = "agent.json"


def agent_dir(root: Path | None = None) -> Path:
    return (root if root is not None else home()) / "agent"


@frozen
class AgentConfig:
    hub_url: str
    agent_id: str
    school_id: str
    school_name: str
    mis: str
    settings: dict[str, str] = field(factory=dict)
    #: The ``--school`` the MIS credentials are sealed under (None: stored without one).
    credentials_school: str | None = None
    #: A CA bundle to trust for the hub's certificate (else the system's).
    ca_file: str | None = None
    #: Bytes per second the upload may use (None: no limit).
    upload_rate: int | None = None
    kid: str | None = None

    def save(self, root: Path | None = None) -> Path:
        folder = agent_dir(root)
        make_private_dir(folder.parent)
        make_private_dir(folder)
        path = folder / FILE
        write_private(path, json.dumps(asdict(self), indent=2, sort_keys=True).encode() + b"\n")
        return path

    @classmethod
    def load(cls, root: Path | None = None) -> AgentConfig:
        path = agent_dir(root) / FILE
        raw = read_private(path, "agent settings")
        if raw is None:
            raise ConfigurationError(
                "this machine's agent is not activated: run 'misbridge agent activate CODE "
                "--hub URL' with the code the integrator gave you"
            )
        try:
            data: dict[str, Any] = json.loads(raw)
            return cls(**data)
        except (ValueError, TypeError):
            raise ConfigurationError(
                f"{path} is damaged: activate the agent again with a new code"
            ) from None

    def but(self, **changes: Any) -> AgentConfig:
        return AgentConfig(**{**asdict(self), **changes})
