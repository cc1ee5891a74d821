"""The vault's CLI commands, run through the real ``misbridge`` command group."""

from __future__ import annotations

import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from misbridge import hookimpl
from misbridge.cli import build_cli
from misbridge.cli import vault as vault_commands
from misbridge.hooktypes import CredentialField, MisInfo
from misbridge.plugins import get_plugin_manager
from misbridge.vault import Vault, unseal_credentials

PASSWORD = "cli-Pw-canary-31"


class FakeSims:
    @hookimpl
    def mis_info(self) -> MisInfo:
        return MisInfo(
            name="sims",
            title="SIMS",
            credentials=(
                CredentialField("username", "SIMS user name", "MISBRIDGE_SIMS_USER"),
                CredentialField("password", "SIMS password", "MISBRIDGE_SIMS_PASSWORD"),
                CredentialField("pin", "Optional PIN", "MISBRIDGE_SIMS_PIN", required=False),
            ),
        )


@pytest.fixture
def cli() -> click.Group:
    registry = get_plugin_manager(load_entrypoints=False, plugins=[("sims", FakeSims())])
    if not registry.pm.is_registered(vault_commands):  # build_cli would do it too
        registry.register(vault_commands, "misbridge.cli.vault")
    return build_cli(registry)


def run(cli: click.Group, *args: str, input: str | None = None, ok: bool = True) -> str:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    output = result.output
    if ok:
        assert result.exit_code == 0, output
    else:
        assert result.exit_code != 0, output
    return output


def test_activate_set_list_remove(cli: click.Group, home: Path) -> None:
    out = run(cli, "activate", "--passphrase-store", "file")
    assert "Activated. Key id:" in out and "Warning: No OS keyring" in out
    kid = Vault().require_activated()
    assert kid in out

    out = run(cli, "credentials", "set", "sims", "--school", "100001", input=f"svc\n{PASSWORD}\n\n")
    assert "Sealed 2 credential(s) for sims (school 100001) (password, username)" in out
    assert PASSWORD not in out  # the prompt never echoes
    got = unseal_credentials("sims", "100001")
    assert got is not None and got["password"].reveal() == PASSWORD and "pin" not in got

    out = run(cli, "credentials", "list", "--verify")
    assert f"sims (school 100001): password, username; key {kid}" in out
    assert "opens OK" in out and PASSWORD not in out

    run(cli, "credentials", "remove", "sims", "--school", "100001")
    assert unseal_credentials("sims", "100001") is None
    out = run(cli, "credentials", "remove", "sims", "--school", "100001", ok=False)
    assert "no credentials were stored" in out


def test_change_one_field_keeps_the_others(cli: click.Group) -> None:
    run(cli, "activate", "--passphrase-store", "file")
    run(cli, "credentials", "set", "sims", input="svc\nold-pw\n1234\n")
    run(cli, "credentials", "set", "sims", "--field", "password", input="new-pw\n")
    got = unseal_credentials("sims")
    assert got is not None
    assert {k: v.reveal() for k, v in got.items()} == {
        "username": "svc",
        "password": "new-pw",
        "pin": "1234",
    }


def test_unknown_mis_needs_field_names(cli: click.Group) -> None:
    run(cli, "activate", "--passphrase-store", "file")
    out = run(cli, "credentials", "set", "capita_one", ok=False)
    assert "--field" in out
    run(cli, "credentials", "set", "capita_one", "--field", "api_key", input="k-123\n")
    assert unseal_credentials("capita_one")["api_key"].reveal() == "k-123"  # type: ignore[index]


def test_unknown_field_of_known_mis_refused(cli: click.Group) -> None:
    run(cli, "activate", "--passphrase-store", "file")
    out = run(cli, "credentials", "set", "sims", "--field", "tokn", ok=False)
    assert "sims has no credential tokn; its credentials are: username, password, pin" in out


def test_from_env(cli: click.Group, monkeypatch: pytest.MonkeyPatch) -> None:
    run(cli, "activate", "--passphrase-store", "file")
    monkeypatch.setenv("MISBRIDGE_SIMS_USER", "svc")
    monkeypatch.setenv("MISBRIDGE_SIMS_PASSWORD", PASSWORD)
    out = run(cli, "credentials", "set", "sims", "--from-env")
    assert PASSWORD not in out
    assert unseal_credentials("sims")["password"].reveal() == PASSWORD  # type: ignore[index]
    monkeypatch.delenv("MISBRIDGE_SIMS_PASSWORD")
    out = run(cli, "credentials", "set", "sims", "--from-env", ok=False)
    assert "MISBRIDGE_SIMS_PASSWORD is not set" in out


def test_set_before_activation_says_what_to_do(cli: click.Group) -> None:
    out = run(cli, "credentials", "set", "sims", input="a\nb\n\n", ok=False)
    assert "run 'misbridge activate' first" in out


def test_activate_without_keyring_fails_closed(cli: click.Group) -> None:
    out = run(cli, "activate", ok=False)
    assert "no OS keyring" in out and "--passphrase-store file" in out
    assert "Traceback" not in out


def test_rotate_keys(cli: click.Group) -> None:
    run(cli, "activate", "--passphrase-store", "file")
    run(cli, "credentials", "set", "sims", input=f"svc\n{PASSWORD}\n\n")
    old = Vault().require_activated()
    out = run(cli, "rotate-keys")
    new = Vault().require_activated()
    assert new != old and f"New key {new} is active; re-sealed 1 blob(s)." in out
    assert f"Destroyed old key {old}." in out
    assert unseal_credentials("sims")["password"].reveal() == PASSWORD  # type: ignore[index]


def test_decommission(cli: click.Group, home: Path) -> None:
    run(cli, "activate", "--passphrase-store", "file")
    run(cli, "credentials", "set", "sims", "--school", "100001", input=f"svc\n{PASSWORD}\n\n")
    run(cli, "credentials", "set", "capita_one", "--field", "api_key", input="k\n")
    (home / "logs").mkdir()
    (home / "logs" / "run.log").write_text("a log line")
    out = run(cli, "decommission", input="n\n", ok=False)  # asks first
    assert home.exists() and "Aborted" in out
    out = run(cli, "decommission", "--yes")
    assert not home.exists()
    assert "delete the SIMS user account misbridge used for extraction for school 100001" in out
    assert "revoke or regenerate the capita_one api_key" in out
    assert "uninstall misbridge" in out
    assert unseal_credentials("sims", "100001") is None


def test_decommission_refuses_to_wipe_the_users_home(
    cli: click.Group, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake_home = tmp_path / "user"
    (fake_home / "Documents").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(fake_home))
    monkeypatch.setenv("MISBRIDGE_HOME", str(fake_home))
    run(cli, "activate", "--passphrase-store", "file")
    out = run(cli, "decommission", "--yes")
    assert (fake_home / "Documents").is_dir()
    assert not (fake_home / "keys").exists() and not (fake_home / "vault.json").exists()
    assert "not a folder of misbridge's own" in out
    assert os.listdir(fake_home) == ["Documents"]


def test_extract_command_uses_the_vault_instead_of_a_prompt(tmp_path: Path) -> None:
    """`misbridge <mis> extract --school ID` unseals the stored credentials itself."""
    from misbridge.simulation import serve_loopback
    from misbridge.testing.school import sample_school

    from ..toy_mis import TOKEN, ToyPlugin, ToySimulator

    registry = get_plugin_manager(load_entrypoints=False, plugins=[("toy", ToyPlugin())])
    if not registry.pm.is_registered(vault_commands):
        registry.register(vault_commands, "misbridge.cli.vault")
    cli = build_cli(registry)
    run(cli, "activate", "--passphrase-store", "file")
    run(cli, "credentials", "set", "toy", "--school", "100001", input=f"{TOKEN}\n")
    simulator = ToySimulator(sample_school(students=15, staff=3))
    with serve_loopback(simulator.app) as base:
        args = ["toy", "extract", "--base-url", base, "--out", str(tmp_path / "out")]
        # Without the vault's credentials there is no token (no prompt: stdin is no tty).
        out = run(cli, *args, ok=False)
        assert "no token found" in out
        out = run(cli, *args, "--school", "100001")
    assert (tmp_path / "out" / "students.jsonl").stat().st_size > 0
    assert TOKEN not in out
