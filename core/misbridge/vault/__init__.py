"""The credential vault: a local key pair, sealed MIS credentials, rotation, decommissioning.

Activation makes an X25519 key pair; MIS credentials are sealed to it with HPKE, bound to
their MIS, school and key, and only the sealed blob is stored (locally, or on an HTTP
blob store while the private key never leaves the machine). At extract time the CLI kit
calls :func:`unseal_credentials` and hands the result to the plugin's ``authenticate``.
See docs/vault.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import httpx
import keyring.backend
from attrs import frozen

from misbridge.hooktypes import Secret
from misbridge.vault.blobstore import BlobStore, FileBlobStore, HttpBlobStore
from misbridge.vault.decommission import AccountToDisable, DecommissionReport, decommission
from misbridge.vault.errors import (
    KeyFileError,
    NotActivatedError,
    UnsealError,
    VaultError,
    VaultStoreError,
)
from misbridge.vault.rotation import RotationReport, rotate_keys
from misbridge.vault.sealing import Header
from misbridge.vault.settings import (
    ENV_PASSPHRASE_FILE,
    PassphraseIn,
    VaultSettings,
    parse_passphrase_in,
)
from misbridge.vault.vault import Entry, Vault

__all__ = [
    "AccountToDisable",
    "Activation",
    "BlobStore",
    "DecommissionReport",
    "Entry",
    "FileBlobStore",
    "Header",
    "HttpBlobStore",
    "KeyFileError",
    "NotActivatedError",
    "PassphraseIn",
    "RotationReport",
    "UnsealError",
    "Vault",
    "VaultError",
    "VaultStoreError",
    "activate",
    "decommission",
    "list_credentials",
    "remove_credentials",
    "rotate_keys",
    "seal_credentials",
    "unseal_credentials",
]


@frozen
class Activation:
    """What ``activate`` did, for the operator to read."""

    kid: str
    key_file: Path
    passphrase_store: str
    passphrase_where: str
    blob_store: str
    warnings: tuple[str, ...]


def activate(
    *,
    passphrase_store: PassphraseIn | str | None = None,
    passphrase_file: str | Path | None = None,
    blob_store: str = "file",
    root: Path | None = None,
    keyring_backend: keyring.backend.KeyringBackend | None = None,
    keyring_allowed: frozenset[str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Activation:
    """Generate this installation's key pair and record where its secrets live.

    ``passphrase_store``: ``"keyring"`` (an OS keyring misbridge trusts, else an error),
    ``"file"`` (an owner-only file, ``passphrase_file`` or ``keys/passphrases.json``), or
    None (automatic): the file if ``passphrase_file`` or ``MISBRIDGE_KEY_PASSPHRASE_FILE``
    is given, else the keyring.
    There is no silent fallback from keyring to file. ``blob_store``: ``"file"`` or an
    https URL.
    """
    env_file = os.environ.get(ENV_PASSPHRASE_FILE)
    if passphrase_store is None:
        chosen = PassphraseIn.FILE if (passphrase_file or env_file) else PassphraseIn.KEYRING
    else:
        chosen = parse_passphrase_in(passphrase_store)
    if chosen is PassphraseIn.FILE and passphrase_file is None and env_file:
        passphrase_file = env_file
    settings = VaultSettings(
        passphrase_store=chosen,
        passphrase_file=str(passphrase_file) if passphrase_file else None,
        blob_store=blob_store,
    )
    vault = Vault(
        root,
        settings=settings,
        keyring_backend=keyring_backend,
        keyring_allowed=keyring_allowed,
        transport=transport,
    )
    vault.blobs.names()  # reach the blob store now, not at the first extract
    pair = vault.activate()
    warnings: list[str] = []
    if vault.settings.passphrase_store is PassphraseIn.FILE:
        warnings.append(
            f"No OS keyring is used: the private key's passphrase is kept in the owner-only "
            f"file {vault.settings.passphrase_file}. Anyone who can read that file and "
            f"{vault.keys.key_path(pair.kid)} as this user can unseal the MIS credentials; "
            "keep them on an encrypted disk, out of backups that others can read."
        )
    return Activation(
        kid=pair.kid,
        key_file=vault.keys.key_path(pair.kid),
        passphrase_store=vault.settings.passphrase_store.value,
        passphrase_where=vault.passphrases.describe(),
        blob_store=vault.blobs.describe(),
        warnings=tuple(warnings),
    )


def unseal_credentials(mis: str, school: str | None = None) -> dict[str, Secret] | None:
    """The MIS credentials stored for ``mis`` (and ``school``), unsealed in memory only.

    :return: None when nothing is stored for that MIS (+school).
    :raises misbridge.errors.ConfigurationError: something is stored but cannot be
        unsealed (wrong or missing key, another context, tampered or cut blob, key file
        permissions too wide, blob store unreachable); the message says what to do.
    """
    return Vault().unseal(mis, school)


def seal_credentials(
    mis: str, credentials: Mapping[str, Secret | str], school: str | None = None
) -> Header:
    """Seal ``credentials`` for ``mis`` (+``school``) to the active key and store them."""
    return Vault().seal(mis, school, credentials)


def remove_credentials(mis: str, school: str | None = None) -> bool:
    """Delete the sealed credentials for ``mis`` (+``school``); False if there were none."""
    return Vault().remove(mis, school)


def list_credentials() -> list[Entry]:
    """Every stored blob's clear header (MIS, school, key id, field names); never values."""
    return Vault().entries()
