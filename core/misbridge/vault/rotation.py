"""Key rotation: a new key pair re-seals every blob; a crash never strands one.

Order of steps (each one is a ``checkpoint`` so tests can crash between any two)::

    generated            new key file written, its passphrase stored; not active yet
    resealed <blob>      blob re-sealed to the new key and written over the old one
    verified <blob>      the written blob read back and opened with the new key
    ...                  (per blob)
    activated            new key made active: new credentials are sealed to it
    destroyed <kid>      an old key no blob names any more removed (file + passphrase)

Why every crash is safe: an old key is destroyed only after *every* blob has been
re-sealed, verified and re-listed without naming it; until then each blob names a key
that still exists (the old one, or the new one whose file and passphrase were stored
before any blob was re-sealed to it); blob writes are atomic. Rotating again after a
crash finishes the job: blobs already on the newest key are left alone, and keys that
nothing names (including one a crash left half-made) are cleared away.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from attrs import frozen

from misbridge.vault.errors import VaultError
from misbridge.vault.passphrase import FilePassphrases
from misbridge.vault.sealing import Context, open_blob, parse_blob_name, read_header, seal_blob
from misbridge.vault.vault import Vault

__all__ = ["RotationReport", "rotate_keys"]

log = structlog.get_logger()


@frozen
class RotationReport:
    old_kid: str
    new_kid: str
    resealed: tuple[str, ...]
    destroyed: tuple[str, ...]


def _no_checkpoint(step: str) -> None:
    return None


def rotate_keys(
    vault: Vault | None = None, *, checkpoint: Callable[[str], None] = _no_checkpoint
) -> RotationReport:
    """Generate a new key pair, re-seal every stored blob to it, retire the old keys."""
    vault = vault or Vault()
    old_kid = vault.require_activated()
    with vault.lock():
        keys = vault.keys
        new = keys.generate()
        checkpoint("generated")
        resealed: list[str] = []
        for name in vault.blobs.names():
            parsed = parse_blob_name(name)
            blob = vault.blobs.get(name)
            if parsed is None or blob is None:
                continue
            mis, school = parsed
            try:
                header = read_header(blob)
                if header.kid == new.kid:
                    continue
                plaintext = open_blob(
                    blob, keys.load(header.kid).private_key, Context(mis, school, header.kid)
                )
            except VaultError as exc:
                raise VaultError(
                    f"key rotation stopped at {name}: {exc.message}. Nothing was lost (the "
                    "old key is kept); remove those credentials with 'misbridge credentials "
                    "remove' or set them again, then rotate again",
                    blob=name,
                ) from None
            context = Context(mis, school, new.kid)
            vault.blobs.put(
                name, seal_blob(plaintext, new.private_key, context, fields=header.fields)
            )
            checkpoint(f"resealed {name}")
            written = vault.blobs.get(name)
            if written is None or open_blob(written, new.private_key, context) != plaintext:
                raise VaultError(
                    f"key rotation stopped: {name} did not read back intact from "
                    f"{vault.blobs.describe()}; the old key is kept, rotate again",
                    blob=name,
                )
            checkpoint(f"verified {name}")
            resealed.append(name)
        keys.set_active(new.kid)
        checkpoint("activated")
        destroyed = _retire(vault, new.kid, checkpoint)
    log.info(
        "vault.rotated", old_kid=old_kid, new_kid=new.kid, resealed=len(resealed), retired=destroyed
    )
    return RotationReport(old_kid, new.kid, tuple(resealed), tuple(destroyed))


def _retire(vault: Vault, keep: str, checkpoint: Callable[[str], None]) -> list[str]:
    """Destroy every key but ``keep`` that no stored blob names."""
    named: set[str] = set()
    for name in vault.blobs.names():
        blob = vault.blobs.get(name)
        if blob is not None:
            named.add(read_header(blob).kid)
    keys = vault.keys
    destroyed: list[str] = []
    for kid in keys.kids():
        if kid != keep and kid not in named:
            keys.destroy(kid)
            destroyed.append(kid)
            checkpoint(f"destroyed {kid}")
    passphrases = vault.passphrases
    if isinstance(passphrases, FilePassphrases):
        # A passphrase whose key file is gone (a crash inside generate or destroy).
        present = set(keys.kids())
        for kid in passphrases.kids():
            if kid not in present:
                passphrases.delete(kid)
    return destroyed
