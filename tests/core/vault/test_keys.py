"""Key files: owner-only from the first byte, atomic, refused when widened or swapped."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from misbridge.errors import ConfigurationError
from misbridge.vault import KeyFileError, Vault, seal_credentials, unseal_credentials
from misbridge.vault import files as vault_files
from misbridge.vault.keys import KeyDirectory
from misbridge.vault.passphrase import FilePassphrases

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The loosest umask: only our own mode argument can keep files private."""
    old = os.umask(0)
    yield
    os.umask(old)


@pytest.fixture
def keys(tmp_path: Path) -> KeyDirectory:
    return KeyDirectory(tmp_path / "keys", FilePassphrases(tmp_path / "keys" / "pp.json"))


def test_key_file_is_never_wider_than_0600(
    keys: KeyDirectory, open_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Watch every file the vault creates at every write, not just the end result."""
    seen: list[tuple[str, int]] = []
    real_open, real_fsync = os.open, os.fsync

    def spy_open(path: str | Path, flags: int, mode_: int = 0o777, **kw: object) -> int:
        fd = real_open(path, flags, mode_)
        if flags & os.O_CREAT:
            assert flags & os.O_EXCL or Path(path).name == ".lock", path
            seen.append((Path(path).name, stat.S_IMODE(os.fstat(fd).st_mode)))
        return fd

    def spy_fsync(fd: int) -> None:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode):  # the file's mode just before it is swapped in
            seen.append(("fsync", stat.S_IMODE(st.st_mode)))
        real_fsync(fd)

    monkeypatch.setattr(os, "open", spy_open)
    monkeypatch.setattr(os, "fsync", spy_fsync)
    pair = keys.generate()
    assert len(seen) >= 4, seen  # key file and passphrase file: created, then fsynced
    assert all(m == 0o600 for _, m in seen), seen
    assert mode(keys.key_path(pair.kid)) == 0o600
    assert mode(keys.path) == 0o700
    assert mode(keys.passphrases.path) == 0o600  # type: ignore[attr-defined]


def test_no_temporary_file_left_and_write_is_atomic(
    keys: KeyDirectory, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = keys.generate()
    before = keys.key_path(pair.kid).read_bytes()

    def crash(src: object, dst: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        vault_files.write_private(keys.key_path(pair.kid), b"half-written")
    assert keys.key_path(pair.kid).read_bytes() == before  # the old file is untouched
    assert not [p for p in keys.path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("widened", [0o640, 0o604, 0o660, 0o644, 0o700, 0o610, 0o601])
def test_widened_key_file_refused(keys: KeyDirectory, widened: int) -> None:
    pair = keys.generate()
    os.chmod(keys.key_path(pair.kid), widened)
    if widened & 0o077:
        with pytest.raises(KeyFileError, match=f"{widened:04o}.*chmod 600"):
            keys.load(pair.kid)
    else:
        assert keys.load(pair.kid).kid == pair.kid  # 0700: still owner-only


def test_widened_passphrase_file_refused(keys: KeyDirectory) -> None:
    pair = keys.generate()
    os.chmod(keys.passphrases.path, 0o644)  # type: ignore[attr-defined]
    with pytest.raises(KeyFileError, match="passphrase file"):
        keys.load(pair.kid)


def test_unseal_refuses_widened_key_with_configuration_error(activated: Vault) -> None:
    seal_credentials("wonde", {"token": "t0k3n-canary"}, school="100001")
    kid = activated.require_activated()
    os.chmod(activated.keys.key_path(kid), 0o644)
    with pytest.raises(ConfigurationError, match=r"could not be unsealed.*0644") as caught:
        unseal_credentials("wonde", "100001")
    assert "t0k3n-canary" not in str(caught.value)


def test_symlinked_key_file_refused(keys: KeyDirectory, tmp_path: Path) -> None:
    pair = keys.generate()
    real = tmp_path / "elsewhere.key"
    keys.key_path(pair.kid).rename(real)
    keys.key_path(pair.kid).symlink_to(real)
    with pytest.raises(KeyFileError, match="symbolic link"):
        keys.load(pair.kid)


def test_swapped_key_file_refused(keys: KeyDirectory) -> None:
    first, second = keys.generate(), keys.generate()
    keys.key_path(first.kid).write_bytes(keys.key_path(second.kid).read_bytes())
    keys.passphrases.put(first.kid, keys.passphrases.get(second.kid))  # type: ignore[arg-type]
    with pytest.raises(KeyFileError, match="does not hold key"):
        keys.load(first.kid)


def test_wrong_passphrase_refused(keys: KeyDirectory) -> None:
    pair = keys.generate()
    other = keys.generate()
    keys.passphrases.put(pair.kid, keys.passphrases.get(other.kid))  # type: ignore[arg-type]
    with pytest.raises(KeyFileError, match="could not be decrypted"):
        keys.load(pair.kid)


def test_missing_passphrase_refused(keys: KeyDirectory) -> None:
    pair = keys.generate()
    keys.passphrases.delete(pair.kid)
    with pytest.raises(KeyFileError, match="passphrase of private key"):
        keys.load(pair.kid)


def test_key_file_holds_no_clear_key(keys: KeyDirectory) -> None:
    pair = keys.generate()
    pem = keys.key_path(pair.kid).read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    raw = pair.private_key.private_bytes_raw()
    assert raw not in pem


def test_destroy_overwrites_then_removes(
    keys: KeyDirectory, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = keys.generate()
    path = keys.key_path(pair.kid)
    written: list[bytes] = []
    real_write = os.write

    def spy(fd: int, data: bytes) -> int:
        written.append(bytes(data))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", spy)
    keys.destroy(pair.kid)
    assert not path.exists()
    assert written and set(written[0]) == {0}
    assert keys.passphrases.get(pair.kid) is None


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="needs root to chown")
def test_key_file_owned_by_another_user_refused(keys: KeyDirectory) -> None:
    pair = keys.generate()
    os.chown(keys.key_path(pair.kid), 4242, 4242)
    with pytest.raises(KeyFileError, match="belongs to user id 4242"):
        keys.load(pair.kid)
