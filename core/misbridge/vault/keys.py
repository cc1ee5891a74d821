"""The installation's X25519 key pairs, kept under ``home()/keys/``.

- ``<kid>.key``: the private key, PKCS8 PEM encrypted with its passphrase, 0600;
- ``active``: the key id new blobs are sealed to.

A key id is the first 16 hex digits of SHA-256 over the raw public key, so a loaded key
proves it is the key its name says (a swapped key file is refused). Several keys exist
only during a rotation, or after one that crashed; blobs name the key that opens them.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from attrs import field, frozen
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from misbridge.vault.errors import KeyFileError, NotActivatedError
from misbridge.vault.files import read_private, remove_private, write_private
from misbridge.vault.passphrase import PassphraseStore, new_passphrase

__all__ = ["KeyDirectory", "KeyPair", "key_id"]

_KID_FILE = re.compile(r"([0-9a-f]{16})\.key")


def key_id(public_key: X25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@frozen
class KeyPair:
    kid: str
    private_key: X25519PrivateKey = field(repr=False)

    @property
    def public_key(self) -> X25519PublicKey:
        return self.private_key.public_key()


class KeyDirectory:
    """Key files in one folder, their passphrases in a :class:`PassphraseStore`."""

    def __init__(self, path: Path, passphrases: PassphraseStore) -> None:
        self.path = path
        self.passphrases = passphrases

    def key_path(self, kid: str) -> Path:
        return self.path / f"{kid}.key"

    @property
    def active_path(self) -> Path:
        return self.path / "active"

    def kids(self) -> list[str]:
        """Every key id with a key file here."""
        if not self.path.is_dir():
            return []
        found = (_KID_FILE.fullmatch(p.name) for p in self.path.iterdir())
        return sorted(m.group(1) for m in found if m)

    def active_kid(self) -> str | None:
        raw = read_private(self.active_path, "active key pointer")
        if raw is None:
            return None
        kid = raw.decode("ascii", "replace").strip()
        if not re.fullmatch(r"[0-9a-f]{16}", kid):
            raise KeyFileError(f"the active key pointer {self.active_path} is damaged")
        return kid

    def set_active(self, kid: str) -> None:
        if not self.key_path(kid).exists():
            raise KeyFileError(f"cannot make key {kid} active: its key file is missing")
        write_private(self.active_path, kid.encode("ascii") + b"\n")

    def generate(self) -> KeyPair:
        """A new key pair, written to disk; the caller decides when it becomes active.

        The key file is written before its passphrase is stored: a crash in between
        leaves an unusable key file that rotation clears away, never a passphrase that
        nothing lists.
        """
        private_key = X25519PrivateKey.generate()
        pair = KeyPair(key_id(private_key.public_key()), private_key)
        passphrase = new_passphrase()
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase.reveal().encode("ascii")),
        )
        write_private(self.key_path(pair.kid), pem)
        self.passphrases.put(pair.kid, passphrase)
        return pair

    def load(self, kid: str) -> KeyPair:
        """The key pair ``kid``, decrypted in memory; refused if its file is too open."""
        path = self.key_path(kid)
        pem = read_private(path, "private key file")
        if pem is None:
            raise KeyFileError(
                f"the private key {kid} is not on this machine ({path}); credentials sealed "
                "to it cannot be opened: enter them again with 'misbridge credentials set'",
                kid=kid,
            )
        passphrase = self.passphrases.get(kid)
        if passphrase is None:
            raise KeyFileError(
                f"the passphrase of private key {kid} is missing from "
                f"{self.passphrases.describe()}; restore it, or activate again and re-enter "
                "the credentials",
                kid=kid,
            )
        try:
            loaded = serialization.load_pem_private_key(
                pem, password=passphrase.reveal().encode("ascii")
            )
        except (ValueError, TypeError):
            raise KeyFileError(
                f"the private key file {path} could not be decrypted with its stored "
                "passphrase (damaged file or wrong passphrase)",
                kid=kid,
            ) from None
        if not isinstance(loaded, X25519PrivateKey) or key_id(loaded.public_key()) != kid:
            raise KeyFileError(
                f"the private key file {path} does not hold key {kid}; it was replaced",
                kid=kid,
            )
        return KeyPair(kid, loaded)

    def load_active(self) -> KeyPair:
        kid = self.active_kid()
        if kid is None:
            raise NotActivatedError(
                "misbridge is not activated on this machine: run 'misbridge activate' first"
            )
        return self.load(kid)

    def destroy(self, kid: str) -> None:
        """Remove a key for good: its file (overwritten first) and its passphrase."""
        remove_private(self.key_path(kid))
        self.passphrases.delete(kid)
