"""Where each private key's passphrase lives: the OS keyring, or an owner-only file.

The passphrase is a random 256-bit secret (``secrets.token_urlsafe(32)``, 43 characters),
never a human password: PKCS8 ``BestAvailableEncryption`` uses a weak PBKDF2 work factor,
which is only safe with a high-entropy passphrase. 43 characters also fit comfortably in
the Windows Credential Manager limit (about 1,280 characters).

- :class:`KeyringPassphrases`: macOS Keychain, Windows Credential Locker or a Secret
  Service (GNOME Keyring, KWallet's Secret Service). Only those backends are accepted;
  ``keyrings.alt`` plaintext or "encrypted" files, the ``null`` and ``fail`` backends are
  refused with an actionable error: never a silently weaker store.
- :class:`FilePassphrases`: a 0600 JSON file, chosen explicitly where no keyring exists
  (headless servers, CI). Anyone who can read both it and the key file as this user can
  unseal the credentials; ``misbridge activate`` says so when it is chosen.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any, Protocol

import keyring
import keyring.backend
import keyring.errors

from misbridge.hooktypes import Secret
from misbridge.vault.errors import KeyFileError, VaultError
from misbridge.vault.files import read_private, remove_private, write_private

__all__ = [
    "ALLOWED_KEYRINGS",
    "KEYRING_SERVICE",
    "MAX_KEYRING_VALUE",
    "FilePassphrases",
    "KeyringPassphrases",
    "PassphraseStore",
    "backend_name",
    "new_passphrase",
]

KEYRING_SERVICE = "misbridge-vault"
MAX_KEYRING_VALUE = 1280

#: Keyring backends that keep secrets in an OS-protected store (class paths).
ALLOWED_KEYRINGS = frozenset(
    {
        "keyring.backends.macOS.Keyring",
        "keyring.backends.Windows.WinVaultKeyring",
        "keyring.backends.SecretService.Keyring",
        "keyring.backends.libsecret.Keyring",
    }
)


def new_passphrase() -> Secret:
    return Secret(secrets.token_urlsafe(32))


def backend_name(backend: Any) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


class PassphraseStore(Protocol):
    """Keeps one passphrase per key id."""

    kind: str

    def describe(self) -> str: ...

    def get(self, kid: str) -> Secret | None: ...

    def put(self, kid: str, passphrase: Secret) -> None: ...

    def delete(self, kid: str) -> bool: ...


class KeyringPassphrases:
    """Passphrases in the OS keyring (service ``misbridge-vault``, user = key id)."""

    kind = "keyring"

    def __init__(
        self,
        backend: keyring.backend.KeyringBackend | None = None,
        *,
        allowed: frozenset[str] = ALLOWED_KEYRINGS,
    ) -> None:
        chosen = backend if backend is not None else keyring.get_keyring()
        self._check(chosen, allowed)
        self.backend = chosen

    @staticmethod
    def _check(backend: Any, allowed: frozenset[str]) -> None:
        inner = getattr(backend, "backends", None)
        names = [backend_name(b) for b in inner] if inner else [backend_name(backend)]
        refused = [n for n in names if n not in allowed]
        if refused or not names:
            raise VaultError(
                "no OS keyring that misbridge trusts is available "
                f"(found: {', '.join(refused) or 'none'}). On a desktop, unlock the macOS "
                "Keychain, Windows Credential Locker or GNOME Keyring; on a headless server "
                "run 'misbridge activate --passphrase-store file' (or set "
                "MISBRIDGE_KEY_PASSPHRASE_FILE) to keep the key's passphrase in an "
                "owner-only file instead",
                backend=", ".join(names),
            )

    def describe(self) -> str:
        return f"the OS keyring ({backend_name(self.backend)}), service {KEYRING_SERVICE!r}"

    def get(self, kid: str) -> Secret | None:
        try:
            value = self.backend.get_password(KEYRING_SERVICE, kid)
        except keyring.errors.KeyringError as exc:
            raise VaultError(
                f"the OS keyring could not be read ({type(exc).__name__}); unlock it and try again",
            ) from None
        return None if value is None else Secret(value)

    def put(self, kid: str, passphrase: Secret) -> None:
        if len(passphrase.reveal()) > MAX_KEYRING_VALUE:
            raise VaultError("the key passphrase is too long for the OS keyring")
        try:
            self.backend.set_password(KEYRING_SERVICE, kid, passphrase.reveal())
        except keyring.errors.KeyringError as exc:
            raise VaultError(
                f"the OS keyring refused to store the key passphrase ({type(exc).__name__}); "
                "unlock it, or use '--passphrase-store file' on a headless server",
            ) from None

    def delete(self, kid: str) -> bool:
        try:
            self.backend.delete_password(KEYRING_SERVICE, kid)
        except keyring.errors.PasswordDeleteError:
            return False
        except keyring.errors.KeyringError as exc:
            raise VaultError(
                f"the OS keyring refused to delete a key passphrase ({type(exc).__name__})"
            ) from None
        return True


class FilePassphrases:
    """Passphrases in one owner-only JSON file (``{"<key id>": "<passphrase>"}``)."""

    kind = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def describe(self) -> str:
        return f"the owner-only file {self.path}"

    def _read(self) -> dict[str, str]:
        raw = read_private(self.path, "key passphrase file")
        if raw is None:
            return {}
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise KeyFileError(
                f"the key passphrase file {self.path} is damaged; restore it from a backup "
                "or activate again (the sealed credentials must then be entered again)",
                path=str(self.path),
            ) from None
        if not isinstance(data, dict):
            raise KeyFileError(f"the key passphrase file {self.path} is damaged")
        return {str(k): str(v) for k, v in data.items()}

    def _write(self, data: dict[str, str]) -> None:
        write_private(self.path, json.dumps(data, indent=1, sort_keys=True).encode() + b"\n")

    def get(self, kid: str) -> Secret | None:
        value = self._read().get(kid)
        return None if value is None else Secret(value)

    def put(self, kid: str, passphrase: Secret) -> None:
        data = self._read()
        data[kid] = passphrase.reveal()
        self._write(data)

    def delete(self, kid: str) -> bool:
        data = self._read()
        if kid not in data:
            return False
        del data[kid]
        if data:
            self._write(data)
        else:
            remove_private(self.path)
        return True

    def kids(self) -> list[str]:
        return sorted(self._read())
