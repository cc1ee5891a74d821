"""HPKE sealing: round trips, and every kind of tampering refused."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from misbridge.vault.errors import UnsealError, VaultError
from misbridge.vault.keys import key_id
from misbridge.vault.sealing import (
    Context,
    _mac,
    blob_name,
    hpke_open,
    hpke_seal,
    mac_key,
    open_blob,
    parse_blob_name,
    read_header,
    seal_blob,
)

KEY = X25519PrivateKey.generate()
KID = key_id(KEY.public_key())
OTHER = X25519PrivateKey.generate()
OTHER_KID = key_id(OTHER.public_key())
CTX = Context("wonde", "123456", KID)

_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
mis_names = st.text("abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12)
schools = st.none() | st.builds(
    str.__add__, st.text(_ALNUM, min_size=1, max_size=1), st.text(_ALNUM + "_.-", max_size=20)
)
payloads = st.binary(min_size=0, max_size=4096)


@settings(max_examples=500, deadline=None)
@given(plaintext=payloads, mis=mis_names, school=schools)
def test_round_trip(plaintext: bytes, mis: str, school: str | None) -> None:
    context = Context(mis, school, KID)
    blob = seal_blob(plaintext, KEY, context)
    assert open_blob(blob, KEY, context) == plaintext
    assert plaintext not in blob or len(plaintext) < 4  # never stored in clear


def test_each_seal_differs() -> None:
    assert seal_blob(b"same", KEY, CTX) != seal_blob(b"same", KEY, CTX)


@settings(max_examples=200, deadline=None)
@given(
    plaintext=payloads,
    mis=mis_names,
    school=schools,
    other_mis=mis_names,
    other_school=schools,
)
def test_other_context_refused(
    plaintext: bytes, mis: str, school: str | None, other_mis: str, other_school: str | None
) -> None:
    blob = seal_blob(plaintext, KEY, Context(mis, school, KID))
    if (other_mis, other_school) == (mis, school):
        return
    with pytest.raises(UnsealError):
        open_blob(blob, KEY, Context(other_mis, other_school, KID))


@settings(max_examples=200, deadline=None)
@given(plaintext=payloads, mis=mis_names, school=schools, data=st.data())
def test_hpke_info_binds_every_part(
    plaintext: bytes, mis: str, school: str | None, data: st.DataObject
) -> None:
    """The crypto itself (not just the header check) refuses another context."""
    context = Context(mis, school, KID)
    sealed = hpke_seal(plaintext, KEY.public_key(), context.info())
    changed = data.draw(
        st.sampled_from(
            [
                Context(mis + "x", school, KID),
                Context(mis, (school or "") + "9", KID),
                Context(mis, None if school else "100001", KID),
                Context(mis, school, OTHER_KID),
                Context(mis, school, KID, purpose="something-else"),
                Context(mis, school, KID, schema=2),
            ]
        )
    )
    with pytest.raises(UnsealError):
        hpke_open(sealed, KEY, changed.info())


def test_relabelled_blob_with_valid_mac_still_refused_by_hpke() -> None:
    """Even someone able to recompute the MAC cannot move a blob to another school."""
    blob = json.loads(seal_blob(b'{"credentials": {"p": "x"}}', KEY, CTX))
    blob["school"] = "654321"
    blob["mac"] = _mac(mac_key(KEY, KID), blob)
    relabelled = json.dumps(blob).encode()
    with pytest.raises(UnsealError, match="did not open"):
        open_blob(relabelled, KEY, Context("wonde", "654321", KID))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plaintext=payloads, data=st.data())
def test_flipped_byte_refused(plaintext: bytes, data: st.DataObject) -> None:
    blob = bytearray(seal_blob(plaintext, KEY, CTX))
    index = data.draw(st.integers(0, len(blob) - 1))
    bit = data.draw(st.integers(0, 7))
    blob[index] ^= 1 << bit
    with pytest.raises(UnsealError):
        open_blob(bytes(blob), KEY, CTX)


@settings(max_examples=200, deadline=None)
@given(plaintext=payloads, data=st.data())
def test_flipped_ciphertext_byte_refused(plaintext: bytes, data: st.DataObject) -> None:
    """A flip anywhere in enc || ciphertext || tag, with the MAC re-made to match."""
    blob = json.loads(seal_blob(plaintext, KEY, CTX))
    ct = bytearray(base64.b64decode(blob["ct"]))
    ct[data.draw(st.integers(0, len(ct) - 1))] ^= 1 << data.draw(st.integers(0, 7))
    blob["ct"] = base64.b64encode(bytes(ct)).decode()
    with pytest.raises(UnsealError, match="altered"):
        open_blob(json.dumps(blob).encode(), KEY, CTX)
    blob["mac"] = _mac(mac_key(KEY, KID), blob)
    with pytest.raises(UnsealError, match="did not open"):
        open_blob(json.dumps(blob).encode(), KEY, CTX)


@settings(max_examples=200, deadline=None)
@given(plaintext=payloads, data=st.data())
def test_truncated_refused(plaintext: bytes, data: st.DataObject) -> None:
    blob = seal_blob(plaintext, KEY, CTX)
    cut = data.draw(st.integers(0, len(blob) - 1))
    if blob[:cut].strip() == blob.strip():
        return  # only the trailing newline went
    with pytest.raises(UnsealError):
        open_blob(blob[:cut], KEY, CTX)


@settings(max_examples=200, deadline=None)
@given(plaintext=payloads, data=st.data())
def test_truncated_hpke_refused(plaintext: bytes, data: st.DataObject) -> None:
    sealed = hpke_seal(plaintext, KEY.public_key(), CTX.info())
    cut = data.draw(st.integers(0, len(sealed) - 1))
    with pytest.raises(UnsealError):
        hpke_open(sealed[:cut], KEY, CTX.info())


@settings(max_examples=100, deadline=None)
@given(plaintext=payloads)
def test_wrong_key_refused(plaintext: bytes) -> None:
    blob = seal_blob(plaintext, KEY, CTX)
    with pytest.raises(UnsealError):
        open_blob(blob, OTHER, CTX)  # the MAC key differs
    sealed = hpke_seal(plaintext, KEY.public_key(), CTX.info())
    with pytest.raises(UnsealError):
        hpke_open(sealed, OTHER, CTX.info())  # and so does the HPKE secret


def test_blob_sealed_by_someone_else_with_our_public_key_refused() -> None:
    """Base-mode HPKE is sender-anonymous; the MAC is what stops a forged blob."""
    forged = json.loads(seal_blob(b'{"credentials": {"token": "evil"}}', OTHER, CTX))
    forged["ct"] = base64.b64encode(
        hpke_seal(b'{"credentials": {"token": "evil"}}', KEY.public_key(), CTX.info())
    ).decode()
    with pytest.raises(UnsealError, match="not made by this installation"):
        open_blob(json.dumps(forged).encode(), KEY, CTX)


def test_header_fields_are_authenticated() -> None:
    blob = json.loads(seal_blob(b"x", KEY, CTX, fields=["password"]))
    blob["fields"] = ["password", "token"]
    with pytest.raises(UnsealError, match="altered"):
        open_blob(json.dumps(blob).encode(), KEY, CTX)


@pytest.mark.parametrize(
    "garbage",
    [b"", b"{", b"[]", b'{"format": 2}', b"\xff\xfe", b"x" * 300_000, b'{"format": 1}'],
)
def test_garbage_refused(garbage: bytes) -> None:
    with pytest.raises(UnsealError):
        open_blob(garbage, KEY, CTX)


def test_header_is_readable_without_key() -> None:
    header = read_header(seal_blob(b"x", KEY, CTX, fields=["username", "password"]))
    assert (header.mis, header.school, header.kid) == ("wonde", "123456", KID)
    assert header.fields == ("username", "password")


@settings(max_examples=200, deadline=None)
@given(mis=mis_names, school=schools)
def test_blob_names_round_trip(mis: str, school: str | None) -> None:
    assert parse_blob_name(blob_name(mis, school)) == (mis, school)


@pytest.mark.parametrize(
    ("mis", "school"),
    [("Wonde", None), ("my-mis", None), ("wonde", "../../etc"), ("wonde", "a/b"), ("", None)],
)
def test_unsafe_names_refused(mis: str, school: str | None) -> None:
    with pytest.raises(VaultError):
        blob_name(mis, school)


def test_oversized_plaintext_refused() -> None:
    with pytest.raises(VaultError, match="too much"):
        seal_blob(b"x" * (64 * 1024 + 1), KEY, CTX)
