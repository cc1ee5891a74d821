"""Fixtures for the vault: a private home folder per test and an in-memory OS keyring."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import stamina
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from misbridge.vault import Vault, activate
from misbridge.vault.passphrase import ALLOWED_KEYRINGS, backend_name


class MemoryKeyring(KeyringBackend):
    """Stands in for the macOS Keychain / Windows Credential Locker in tests."""

    # Below keyring's own "fail" backend, so defining it never changes keyring's choice.
    priority = -1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.items.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "misbridge-home"
    monkeypatch.setenv("MISBRIDGE_HOME", str(root))
    for name in ("MISBRIDGE_KEY_PASSPHRASE_FILE", "MISBRIDGE_VAULT_URL", "MISBRIDGE_VAULT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return root


@pytest.fixture(autouse=True)
def _fast_retries() -> Iterator[None]:
    stamina.set_testing(True, attempts=4)
    yield
    stamina.set_testing(False)


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def allowed_with_memory(memory_keyring: MemoryKeyring) -> frozenset[str]:
    return ALLOWED_KEYRINGS | {backend_name(memory_keyring)}


@pytest.fixture
def activated(home: Path) -> Vault:
    """A vault activated with the passphrase file (as on a headless server)."""
    activate(passphrase_store="file")
    return Vault()
