"""The vault's own settings file (``home()/vault.json``) and its environment overrides.

``misbridge activate`` writes the file; every later command reads it, so the choice of
passphrase store and blob store is made once, shown once, and never silently changes:

- ``passphrase_store``: ``"keyring"`` or ``"file"``; ``passphrase_file`` the file's path;
- ``blob_store``: ``"file"`` (``home()/credentials/``) or an https URL.

Environment variables win over the file (a container can mount its secrets elsewhere):
``MISBRIDGE_KEY_PASSPHRASE_FILE`` (use that passphrase file), ``MISBRIDGE_VAULT_URL``
(use that HTTP blob store), ``MISBRIDGE_VAULT_TOKEN`` (its bearer token; never stored).
"""

from __future__ import annotations

import enum
import json
import os
from pathlib import Path

from attrs import asdict, field, frozen

from misbridge.vault.errors import KeyFileError, VaultError
from misbridge.vault.files import read_private, write_private

__all__ = [
    "ENV_PASSPHRASE_FILE",
    "ENV_VAULT_TOKEN",
    "ENV_VAULT_URL",
    "SETTINGS_FILE",
    "PassphraseIn",
    "VaultSettings",
    "parse_passphrase_in",
]

# Names of environment variables, not secrets.
ENV_PASSPHRASE_FILE = "MISBRIDGE_KEY_PASSPHRASE_FILE"  # noqa: S105
ENV_VAULT_URL = "MISBRIDGE_VAULT_URL"
ENV_VAULT_TOKEN = "MISBRIDGE_VAULT_TOKEN"  # noqa: S105
SETTINGS_FILE = "vault.json"


class PassphraseIn(enum.StrEnum):
    """Where the private keys' passphrases are kept."""

    KEYRING = "keyring"
    FILE = "file"


def parse_passphrase_in(value: object) -> PassphraseIn:
    try:
        return PassphraseIn(str(value))
    except ValueError:
        raise VaultError(
            f"the passphrase store must be 'keyring' or 'file', not {value!r}"
        ) from None


@frozen
class VaultSettings:
    passphrase_store: PassphraseIn = field(
        default=PassphraseIn.KEYRING, converter=parse_passphrase_in
    )
    passphrase_file: str | None = None
    blob_store: str = "file"

    @classmethod
    def load(cls, root: Path) -> VaultSettings | None:
        """The saved settings, or None before activation."""
        path = root / SETTINGS_FILE
        raw = read_private(path, "vault settings file")
        if raw is None:
            return None
        try:
            data = json.loads(raw.decode("utf-8"))
            return cls(
                passphrase_store=parse_passphrase_in(data["passphrase_store"]),
                passphrase_file=data.get("passphrase_file"),
                blob_store=str(data.get("blob_store", "file")),
            )
        except (UnicodeDecodeError, ValueError, KeyError, TypeError):
            raise KeyFileError(
                f"the vault settings file {path} is damaged; fix it or run "
                "'misbridge activate' again",
                path=str(path),
            ) from None

    def save(self, root: Path) -> None:
        write_private(root / SETTINGS_FILE, json.dumps(asdict(self), indent=1).encode() + b"\n")

    def effective(self, root: Path) -> VaultSettings:
        """These settings with the environment's overrides applied."""
        passphrase_store, passphrase_file = self.passphrase_store, self.passphrase_file
        env_file = os.environ.get(ENV_PASSPHRASE_FILE)
        if env_file:
            passphrase_store, passphrase_file = PassphraseIn.FILE, env_file
        if passphrase_store is PassphraseIn.FILE and not passphrase_file:
            passphrase_file = str(root / "keys" / "passphrases.json")
        blob_store = os.environ.get(ENV_VAULT_URL) or self.blob_store
        return VaultSettings(passphrase_store, passphrase_file, blob_store)
