"""The public API the CLI kit calls: seal, unseal, list, remove."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from misbridge.errors import ConfigurationError
from misbridge.hooktypes import Secret
from misbridge.vault import (
    NotActivatedError,
    UnsealError,
    Vault,
    activate,
    list_credentials,
    remove_credentials,
    seal_credentials,
    unseal_credentials,
)
from misbridge.vault.sealing import Context, seal_blob


def test_nothing_stored_gives_none_even_before_activation(home: Path) -> None:
    assert unseal_credentials("wonde") is None
    assert unseal_credentials("wonde", "100001") is None
    assert unseal_credentials("third-party-mis") is None  # a name the vault cannot store
    assert not home.exists()  # asking created nothing


def test_seal_needs_activation() -> None:
    with pytest.raises(NotActivatedError, match="misbridge activate"):
        seal_credentials("wonde", {"token": "x"})


def test_activating_twice_refused(activated: Vault) -> None:
    with pytest.raises(ConfigurationError, match=r"already activated.*rotate-keys"):
        activate(passphrase_store="file")


credential_maps = st.dictionaries(
    st.text(st.characters(categories=["Ll", "Nd"], include_characters="_"), min_size=1),
    st.text(min_size=1, max_size=300),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=credential_maps)
def test_credentials_round_trip(activated: Vault, values: dict[str, str]) -> None:
    seal_credentials("arbor", values, school="100001")
    unsealed = unseal_credentials("arbor", "100001")
    assert unsealed is not None
    assert all(isinstance(v, Secret) for v in unsealed.values())
    assert {k: v.reveal() for k, v in unsealed.items()} == values


def test_values_are_never_stored_in_clear(activated: Vault, home: Path) -> None:
    seal_credentials("wonde", {"token": "plain-canary-5521"}, school="100001")
    for path in home.rglob("*"):
        if path.is_file():
            assert b"plain-canary-5521" not in path.read_bytes(), path


def test_schools_and_mis_are_kept_apart(activated: Vault) -> None:
    seal_credentials("wonde", {"token": "a"}, school="100001")
    seal_credentials("wonde", {"token": "b"}, school="100002")
    seal_credentials("wonde", {"token": "c"})
    seal_credentials("arbor", {"password": "d"}, school="100001")
    got = {
        (m, s): unseal_credentials(m, s)
        for m, s in [("wonde", "100001"), ("wonde", "100002"), ("wonde", None), ("arbor", "100001")]
    }
    assert {k: next(iter(v.values())).reveal() for k, v in got.items() if v} == {
        ("wonde", "100001"): "a",
        ("wonde", "100002"): "b",
        ("wonde", None): "c",
        ("arbor", "100001"): "d",
    }
    assert unseal_credentials("arbor") is None


def test_blob_copied_to_another_school_is_refused(activated: Vault, home: Path) -> None:
    seal_credentials("wonde", {"token": "school-a-token"}, school="100001")
    store = home / "credentials"
    (store / "wonde-100002.sealed").write_bytes((store / "wonde-100001.sealed").read_bytes())
    (store / "wonde-100002.sealed").chmod(0o600)
    with pytest.raises(ConfigurationError, match="another MIS, school or key") as caught:
        unseal_credentials("wonde", "100002")
    assert "credentials set wonde --school 100002" in str(caught.value)
    assert "school-a-token" not in str(caught.value)


def test_blob_copied_to_another_mis_is_refused(activated: Vault, home: Path) -> None:
    seal_credentials("wonde", {"token": "t"})
    store = home / "credentials"
    (store / "arbor.sealed").write_bytes((store / "wonde.sealed").read_bytes())
    (store / "arbor.sealed").chmod(0o600)
    with pytest.raises(UnsealError):
        unseal_credentials("arbor")


def test_tampered_or_cut_blob_refused_with_configuration_error(
    activated: Vault, home: Path
) -> None:
    seal_credentials("wonde", {"token": "t"})
    path = home / "credentials" / "wonde.sealed"
    good = path.read_bytes()
    for bad in (good[: len(good) // 2], good.replace(b'"wonde"', b'"wondf"'), b""):
        path.write_bytes(bad)
        with pytest.raises(ConfigurationError, match="could not be unsealed"):
            unseal_credentials("wonde")


def test_blob_for_a_key_that_is_gone_refused(activated: Vault, home: Path) -> None:
    kid = activated.require_activated()
    # A blob made by another installation (another key), planted here.
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from misbridge.vault.keys import key_id

    other = X25519PrivateKey.generate()
    other_kid = key_id(other.public_key())
    blob = seal_blob(b'{"credentials": {"token": "x"}}', other, Context("wonde", None, other_kid))
    activated.blobs.put("wonde.sealed", blob)
    with pytest.raises(ConfigurationError, match=f"private key {other_kid} is not on this machine"):
        unseal_credentials("wonde")
    # Relabelled to name our key, it fails the MAC instead.
    data = json.loads(blob)
    data["kid"] = kid
    activated.blobs.put("wonde.sealed", json.dumps(data).encode())
    with pytest.raises(ConfigurationError, match=r"another MIS, school or key|altered"):
        unseal_credentials("wonde")


def test_list_and_remove(activated: Vault) -> None:
    seal_credentials("wonde", {"token": "t", "unused": ""}, school="100001")
    seal_credentials("arbor", {"username": "u", "password": "p"})
    entries = {(e.mis, e.school): e for e in list_credentials()}
    assert set(entries) == {("wonde", "100001"), ("arbor", None)}
    assert entries[("arbor", None)].header.fields == ("password", "username")  # type: ignore[union-attr]
    assert entries[("wonde", "100001")].header.fields == ("token",)  # type: ignore[union-attr]
    assert remove_credentials("wonde", "100001") is True
    assert remove_credentials("wonde", "100001") is False
    assert unseal_credentials("wonde", "100001") is None
    assert [(e.mis, e.school) for e in list_credentials()] == [("arbor", None)]


def test_list_reports_damaged_blob_without_failing(activated: Vault, home: Path) -> None:
    seal_credentials("wonde", {"token": "t"})
    (home / "credentials" / "arbor.sealed").write_bytes(b"{not json")
    (home / "credentials" / "arbor.sealed").chmod(0o600)
    entries = {e.mis: e for e in list_credentials()}
    assert entries["arbor"].header is None and "damaged" in (entries["arbor"].problem or "")
    assert entries["wonde"].header is not None


def test_empty_credentials_refused(activated: Vault) -> None:
    with pytest.raises(ConfigurationError, match="no credentials"):
        seal_credentials("wonde", {"token": ""})


def test_secret_values_accepted(activated: Vault) -> None:
    seal_credentials("wonde", {"token": Secret("from-a-secret")})
    assert unseal_credentials("wonde")["token"].reveal() == "from-a-secret"  # type: ignore[index]


def test_widened_blob_file_refused(activated: Vault, home: Path) -> None:
    seal_credentials("wonde", {"token": "t"})
    (home / "credentials" / "wonde.sealed").chmod(0o644)
    with pytest.raises(ConfigurationError, match="0644"):
        unseal_credentials("wonde")


def test_blob_copied_to_a_machine_without_the_key(home: Path, tmp_path: Path) -> None:
    """The promise: a blob on its own (a stolen disk, the remote store) is useless."""
    activate(passphrase_store="file")
    seal_credentials("wonde", {"token": "stolen-canary"})
    blob = (home / "credentials" / "wonde.sealed").read_bytes()
    elsewhere = Vault(tmp_path / "other-machine")
    elsewhere.blobs.put("wonde.sealed", blob)
    with pytest.raises(ConfigurationError, match="is not on this machine") as caught:
        elsewhere.unseal("wonde")
    assert "stolen-canary" not in str(caught.value)
