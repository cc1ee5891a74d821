"""Where key passphrases live: trusted OS keyrings only, or an explicit owner-only file."""

from __future__ import annotations

import re
from pathlib import Path

import keyring.backends.chainer
import keyring.backends.fail
import keyring.backends.null
import pytest

from misbridge.vault import Vault, activate, seal_credentials, unseal_credentials
from misbridge.vault.errors import VaultError
from misbridge.vault.passphrase import (
    KEYRING_SERVICE,
    MAX_KEYRING_VALUE,
    KeyringPassphrases,
    backend_name,
    new_passphrase,
)

from .conftest import MemoryKeyring


class PlaintextKeyring(MemoryKeyring):
    """Looks like keyrings.alt's base64-in-a-file backend."""


PlaintextKeyring.__module__ = "keyrings.alt.file"

FAIL = keyring.backends.fail.Keyring()  # type: ignore[no-untyped-call]
NULL = keyring.backends.null.Keyring()  # type: ignore[no-untyped-call]


def test_fail_backend_refused_with_actionable_error() -> None:
    with pytest.raises(VaultError, match=r"passphrase-store file.*MISBRIDGE_KEY_PASSPHRASE_FILE"):
        KeyringPassphrases(FAIL)


@pytest.mark.parametrize("backend", [NULL, PlaintextKeyring()], ids=["null", "plaintext"])
def test_untrusted_backends_refused(backend: object) -> None:
    with pytest.raises(VaultError, match=backend_name(backend)):
        KeyringPassphrases(backend)  # type: ignore[arg-type]


def chain_of(*members: object) -> keyring.backends.chainer.ChainerBackend:
    class Chain(keyring.backends.chainer.ChainerBackend):
        backends = tuple(members)

    return Chain()  # type: ignore[no-untyped-call]


def test_chainer_refused_if_any_backend_untrusted(
    memory_keyring: MemoryKeyring, allowed_with_memory: frozenset[str]
) -> None:
    with pytest.raises(VaultError, match=re.escape("keyrings.alt.file.PlaintextKeyring")):
        KeyringPassphrases(
            chain_of(memory_keyring, PlaintextKeyring()), allowed=allowed_with_memory
        )
    with pytest.raises(VaultError, match="no OS keyring"):
        KeyringPassphrases(chain_of(), allowed=allowed_with_memory)
    KeyringPassphrases(chain_of(memory_keyring), allowed=allowed_with_memory)


def test_default_activation_on_a_machine_without_keyring_fails_closed(home: Path) -> None:
    """This CI machine has only keyring's 'fail' backend: no silent fallback to a file."""
    with pytest.raises(VaultError, match="no OS keyring"):
        activate()
    assert not home.exists()  # nothing was written


def test_keyring_activation_round_trip(
    memory_keyring: MemoryKeyring, allowed_with_memory: frozenset[str], home: Path
) -> None:
    done = activate(
        passphrase_store="keyring",
        keyring_backend=memory_keyring,
        keyring_allowed=allowed_with_memory,
    )
    assert done.passphrase_store == "keyring" and not done.warnings
    stored = memory_keyring.items[(KEYRING_SERVICE, done.kid)]
    assert len(stored) == 43 and len(stored) <= MAX_KEYRING_VALUE
    assert not list(home.rglob("passphrases.json"))
    vault = Vault(keyring_backend=memory_keyring, keyring_allowed=allowed_with_memory)
    vault.seal("arbor", None, {"password": "pw-canary"})
    assert vault.unseal("arbor")["password"].reveal() == "pw-canary"  # type: ignore[index]
    # Without the keyring (another user, a copied disk) the key cannot be opened.
    with pytest.raises(VaultError, match="no OS keyring"):
        unseal_credentials("arbor")


def test_passphrases_are_random_and_high_entropy() -> None:
    seen = {new_passphrase().reveal() for _ in range(200)}
    assert len(seen) == 200
    assert all(len(p) == 43 for p in seen)


def test_file_store_chosen_by_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    target = tmp_path / "secrets" / "misbridge-passphrase.json"
    monkeypatch.setenv("MISBRIDGE_KEY_PASSPHRASE_FILE", str(target))
    done = activate()
    assert done.passphrase_store == "file"
    assert str(target) in done.passphrase_where and done.warnings
    assert done.kid in target.read_text()
    seal_credentials("bromcom", {"password": "x"})
    assert unseal_credentials("bromcom") is not None


def test_activation_choice_is_remembered(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    activate(passphrase_store="file")
    # A later run does not depend on a flag or variable being repeated.
    assert Vault().settings.passphrase_store == "file"
    seal_credentials("sims", {"password": "x"})
    assert unseal_credentials("sims") is not None


def test_unknown_passphrase_store_refused() -> None:
    with pytest.raises(VaultError, match="'keyring' or 'file'"):
        activate(passphrase_store="plaintext")
