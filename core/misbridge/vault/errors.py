"""The vault's exceptions: all are :class:`~misbridge.errors.ConfigurationError`.

Something stored that cannot be used is a configuration problem the operator fixes
(re-enter the credentials, repair a key file's permissions, reach the blob store), so
callers that only know the core tree (the CLI kit) handle every vault failure with one
``except ConfigurationError``. No message ever carries a secret or a plaintext.
"""

from __future__ import annotations

from misbridge.errors import ConfigurationError

__all__ = ["KeyFileError", "NotActivatedError", "UnsealError", "VaultError", "VaultStoreError"]


class VaultError(ConfigurationError):
    """Root of the vault's errors."""


class NotActivatedError(VaultError):
    """No key pair exists yet: run ``misbridge activate``."""


class KeyFileError(VaultError):
    """A key or passphrase file is missing, unreadable or too widely readable."""


class UnsealError(VaultError):
    """A sealed blob is stored but was refused: wrong key, other context, tampered, cut."""


class VaultStoreError(VaultError):
    """The blob store (a folder or an HTTP endpoint) could not be read or written."""
