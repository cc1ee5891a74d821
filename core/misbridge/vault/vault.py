"""The vault: activation, sealing, unsealing, listing and removing MIS credentials.

One :class:`Vault` is one installation (a misbridge home folder). The stores it uses are
built lazily: a machine that was never activated and stores nothing can still ask for
credentials (and get None) without a keyring.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import httpx
import keyring.backend
import structlog
from attrs import frozen

from misbridge.config import home
from misbridge.hooktypes import Secret
from misbridge.vault.blobstore import BlobStore, FileBlobStore, HttpBlobStore
from misbridge.vault.errors import KeyFileError, NotActivatedError, UnsealError, VaultError
from misbridge.vault.files import exclusive_lock, make_private_dir
from misbridge.vault.keys import KeyDirectory, KeyPair
from misbridge.vault.passphrase import FilePassphrases, KeyringPassphrases, PassphraseStore
from misbridge.vault.sealing import (
    Context,
    Header,
    blob_name,
    check_mis,
    check_school,
    open_blob,
    parse_blob_name,
    read_header,
    seal_blob,
)
from misbridge.vault.settings import ENV_VAULT_TOKEN, PassphraseIn, VaultSettings

__all__ = ["Entry", "Vault"]

log = structlog.get_logger()


def _label(mis: str, school: str | None) -> str:
    return f"{mis} (school {school})" if school else mis


def _school_option(school: str | None) -> str:
    return f" --school {school}" if school else ""


@frozen
class Entry:
    """One stored blob as ``credentials list`` shows it (header only: never unsealed)."""

    name: str
    mis: str
    school: str | None
    header: Header | None
    problem: str | None = None


class Vault:
    """The credential vault of one misbridge home folder."""

    def __init__(
        self,
        root: Path | None = None,
        *,
        settings: VaultSettings | None = None,
        passphrases: PassphraseStore | None = None,
        blobs: BlobStore | None = None,
        keyring_backend: keyring.backend.KeyringBackend | None = None,
        keyring_allowed: frozenset[str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.root = root if root is not None else home()
        saved = settings or VaultSettings.load(self.root)
        self.settings = (saved or VaultSettings()).effective(self.root)
        self._passphrases = passphrases
        self._blobs = blobs
        self._keyring_backend = keyring_backend
        self._keyring_allowed = keyring_allowed
        self._transport = transport

    # -- the stores ---------------------------------------------------------------------

    @property
    def passphrases(self) -> PassphraseStore:
        if self._passphrases is None:
            if self.settings.passphrase_store is PassphraseIn.FILE:
                assert self.settings.passphrase_file is not None
                self._passphrases = FilePassphrases(Path(self.settings.passphrase_file))
            elif self._keyring_allowed is not None:
                self._passphrases = KeyringPassphrases(
                    self._keyring_backend, allowed=self._keyring_allowed
                )
            else:
                self._passphrases = KeyringPassphrases(self._keyring_backend)
        return self._passphrases

    @property
    def blobs(self) -> BlobStore:
        if self._blobs is None:
            where = self.settings.blob_store
            if where == "file":
                self._blobs = FileBlobStore(self.root / "credentials")
            else:
                token = os.environ.get(ENV_VAULT_TOKEN)
                self._blobs = HttpBlobStore(
                    where, token=Secret(token) if token else None, transport=self._transport
                )
        return self._blobs

    @property
    def keys(self) -> KeyDirectory:
        return KeyDirectory(self.root / "keys", self.passphrases)

    @property
    def key_dir(self) -> Path:
        return self.root / "keys"

    def lock(self) -> AbstractContextManager[None]:
        return exclusive_lock(self.key_dir / ".lock")

    # -- activation ---------------------------------------------------------------------

    def active_kid(self) -> str | None:
        # Reading the pointer needs no passphrase store.
        return KeyDirectory(self.key_dir, _NoPassphrases()).active_kid()

    def activate(self) -> KeyPair:
        """Make this installation's first key pair and save the vault settings."""
        if self.active_kid() is not None:
            raise VaultError(
                f"misbridge is already activated here (key {self.active_kid()}); use "
                "'misbridge rotate-keys' for a new key pair, or 'misbridge decommission' first"
            )
        settings = self.settings
        keys = self.keys  # reaches the passphrase store first: refuse before writing anything
        make_private_dir(self.root)
        with self.lock():
            settings.save(self.root)
            pair = keys.generate()
            keys.set_active(pair.kid)
        log.info(
            "vault.activated",
            kid=pair.kid,
            keyring_used=settings.passphrase_store is PassphraseIn.KEYRING,
            blob_store="file" if settings.blob_store == "file" else "http",
        )
        return pair

    # -- credentials --------------------------------------------------------------------

    def seal(self, mis: str, school: str | None, credentials: Mapping[str, Secret | str]) -> Header:
        """Seal ``credentials`` for (mis, school) to the active key; replaces what was there."""
        values = {
            name: value.reveal() if isinstance(value, Secret) else value
            for name, value in credentials.items()
        }
        values = {name: value for name, value in values.items() if value}
        if not values:
            raise VaultError(f"no credentials were given for {_label(mis, school)}; nothing sealed")
        name = blob_name(mis, school)
        plaintext = json.dumps({"credentials": values}, sort_keys=True).encode("utf-8")
        kid = self.require_activated()
        with self.lock():
            pair = self.keys.load(kid)
            blob = seal_blob(
                plaintext, pair.private_key, Context(mis, school, pair.kid), fields=sorted(values)
            )
            self.blobs.put(name, blob)
        log.info("vault.sealed", mis=mis, school=school, kid=pair.kid, fields=sorted(values))
        return read_header(blob)

    def unseal(self, mis: str, school: str | None = None) -> dict[str, Secret] | None:
        """The credentials stored for (mis, school), in memory; None if none are stored."""
        try:
            name = blob_name(mis, school)
        except VaultError:
            return None  # no blob can exist under a name the vault cannot write
        # Under the lock (once activated), so a rotation never retires the key of a blob
        # read a moment before it was re-sealed.
        with self.lock() if self.key_dir.is_dir() else nullcontext():
            blob = self.blobs.get(name)
            if blob is None:
                return None
            try:
                return self._open(blob, mis, school)
            except VaultError as exc:
                refused = exc
        log.warning("vault.unseal_refused", mis=mis, school=school, error=type(refused).__name__)
        raise type(refused)(
            f"the credentials stored for {_label(mis, school)} in {self.blobs.describe()} "
            f"could not be unsealed: {refused.message}. If they were replaced or are damaged, "
            f"enter them again with 'misbridge credentials set {mis}{_school_option(school)}'",
            mis=mis,
            school=school,
        ) from None

    def _open(self, blob: bytes, mis: str, school: str | None) -> dict[str, Secret]:
        kid = read_header(blob).kid
        if kid not in KeyDirectory(self.key_dir, _NoPassphrases()).kids():
            raise KeyFileError(
                f"the private key {kid} is not on this machine ({self.key_dir}); credentials "
                "sealed to it cannot be opened here",
                kid=kid,
            )
        pair = self.keys.load(kid)
        plaintext = open_blob(blob, pair.private_key, Context(mis, school, kid))
        try:
            values = json.loads(plaintext.decode("utf-8"))["credentials"]
            if not isinstance(values, dict):
                raise TypeError
            found = {str(k): Secret(str(v)) for k, v in values.items()}
        except (UnicodeDecodeError, ValueError, KeyError, TypeError):
            raise UnsealError("the sealed content is not a set of credentials") from None
        log.debug("vault.unsealed", mis=mis, school=school, kid=kid, fields=sorted(found))
        return found

    def remove(self, mis: str, school: str | None = None) -> bool:
        check_mis(mis)
        check_school(school)
        with self.lock():
            removed = self.blobs.delete(blob_name(mis, school))
        log.info("vault.removed", mis=mis, school=school, removed=removed)
        return removed

    def entries(self) -> list[Entry]:
        """Every stored blob with its (unverified) header; problems are reported, not raised."""
        found: list[Entry] = []
        for name in self.blobs.names():
            parsed = parse_blob_name(name)
            if parsed is None:
                continue
            mis, school = parsed
            try:
                blob = self.blobs.get(name)
                if blob is None:
                    continue
                found.append(Entry(name, mis, school, read_header(blob)))
            except VaultError as exc:
                found.append(Entry(name, mis, school, None, exc.message))
        return found

    def require_activated(self) -> str:
        kid = self.active_kid()
        if kid is None:
            raise NotActivatedError(
                "misbridge is not activated on this machine: run 'misbridge activate' first"
            )
        return kid


class _NoPassphrases:
    """Stands in where only key files are looked at, never decrypted."""

    kind = "none"

    def describe(self) -> str:
        return "no passphrase store"

    def get(self, kid: str) -> Secret | None:
        return None

    def put(self, kid: str, passphrase: Secret) -> None:
        raise VaultError("internal: no passphrase store")

    def delete(self, kid: str) -> bool:
        return False
