"""Key rotation with a crash injected between every pair of steps."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from misbridge.vault import Vault, activate, rotate_keys, seal_credentials, unseal_credentials

STORED = {
    ("wonde", "100001"): {"token": "wonde-a"},
    ("wonde", "100002"): {"token": "wonde-b"},
    ("arbor", None): {"username": "u", "password": "arbor-pw"},
}


class Crash(Exception):
    """Stands for the process dying at this point."""


def setup_vault() -> Vault:
    activate(passphrase_store="file")
    for (mis, school), values in STORED.items():
        seal_credentials(mis, values, school=school)
    return Vault()


def assert_everything_opens() -> None:
    """What a fresh process (the next nightly extract) sees."""
    for (mis, school), values in STORED.items():
        got = unseal_credentials(mis, school)
        assert got is not None, (mis, school)
        assert {k: v.reveal() for k, v in got.items()} == values


def steps_of_a_rotation() -> list[str]:
    seen: list[str] = []
    rotate_keys(Vault(), checkpoint=seen.append)
    return seen


def test_rotation_reseals_everything_and_retires_the_old_key(home: Path) -> None:
    vault = setup_vault()
    old = vault.require_activated()
    report = rotate_keys()
    assert report.old_kid == old and report.new_kid != old
    assert len(report.resealed) == len(STORED) and report.destroyed == (old,)
    assert Vault().keys.kids() == [report.new_kid]
    assert all(e.header and e.header.kid == report.new_kid for e in Vault().entries())
    assert not (home / "keys" / f"{old}.key").exists()
    assert old not in (home / "keys" / "passphrases.json").read_text()
    assert_everything_opens()


def test_rotation_steps_are_the_documented_ones(home: Path) -> None:
    setup_vault()
    steps = steps_of_a_rotation()
    assert steps[0] == "generated"
    assert sum(s.startswith("resealed ") for s in steps) == len(STORED)
    assert sum(s.startswith("verified ") for s in steps) == len(STORED)
    assert steps.index("activated") == 1 + 2 * len(STORED)
    assert steps[-1].startswith("destroyed ")


def count_steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("MISBRIDGE_HOME", str(tmp_path / "counting"))
    setup_vault()
    return len(steps_of_a_rotation())


@pytest.mark.parametrize("crash_after", range(9))
def test_crash_after_any_step_leaves_every_blob_openable(
    crash_after: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: Path
) -> None:
    total = count_steps(tmp_path, monkeypatch)
    assert total == 9  # generated, 3 x (resealed, verified), activated, destroyed
    monkeypatch.setenv("MISBRIDGE_HOME", str(home))
    vault = setup_vault()
    old = vault.require_activated()
    done: list[str] = []

    def crash(step: str) -> None:
        done.append(step)
        if len(done) == crash_after + 1:
            raise Crash(step)

    with pytest.raises(Crash):
        rotate_keys(Vault(), checkpoint=crash)
    assert_everything_opens()

    # Rotating again after the crash finishes the job: one key left, every blob on it.
    report = rotate_keys()
    assert_everything_opens()
    assert Vault().keys.kids() == [report.new_kid] != [old]
    assert {e.header.kid for e in Vault().entries() if e.header} == {report.new_kid}
    assert list(Vault().passphrases.kids()) == [report.new_kid]  # type: ignore[attr-defined]


def test_crash_inside_a_blob_write_keeps_the_old_blob(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup_vault()
    real_replace = os.replace
    calls = {"n": 0}

    def flaky_replace(src: str, dst: str) -> None:
        if str(dst).endswith(".sealed"):
            calls["n"] += 1
            if calls["n"] == 2:
                raise Crash("power cut while swapping in a re-sealed blob")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    with pytest.raises(Crash):
        rotate_keys()
    monkeypatch.setattr(os, "replace", real_replace)
    assert_everything_opens()
    rotate_keys()
    assert_everything_opens()


def test_crash_between_key_file_and_passphrase_is_cleared_later(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = setup_vault()

    def dying_put(self: object, kid: str, passphrase: object) -> None:
        raise Crash("died before the passphrase was stored")

    with monkeypatch.context() as patch:
        patch.setattr(type(vault.passphrases), "put", dying_put)
        with pytest.raises(Crash):
            rotate_keys()
    assert len(Vault().keys.kids()) == 2  # a half-made key is on disk
    assert_everything_opens()
    report = rotate_keys()
    assert Vault().keys.kids() == [report.new_kid]
    assert_everything_opens()


def test_rotation_stops_safely_at_a_damaged_blob(home: Path) -> None:
    vault = setup_vault()
    old = vault.require_activated()
    path = home / "credentials" / "arbor.sealed"
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(Exception, match=r"rotation stopped at arbor.sealed.*old key is kept"):
        rotate_keys()
    assert old in Vault().keys.kids()
    assert unseal_credentials("wonde", "100001") is not None
