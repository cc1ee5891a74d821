"""The sealed extract: round trips, and every kind of tampering refused."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from misbridge.hub.envelope import (
    EnvelopeError,
    open_envelope,
    pack_folder,
    seal_envelope,
    seal_folder,
    unpack_archive,
)
from misbridge.vault.keys import key_id

KEY = X25519PrivateKey.generate()
KID = key_id(KEY.public_key())
CONTEXT = {"request_id": "req_" + "1" * 24, "school_id": "sch_" + "2" * 24, "kid": KID}


def _seal(plain: bytes, segment: int = 64) -> bytes:
    out = io.BytesIO()
    seal_envelope(io.BytesIO(plain), out, KEY.public_key(), segment_bytes=segment, **CONTEXT)
    return out.getvalue()


def _open(sealed: bytes, key: X25519PrivateKey = KEY, **context: str) -> bytes:
    out = io.BytesIO()
    open_envelope(io.BytesIO(sealed), out, key, **{**CONTEXT, **context})
    return out.getvalue()


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(plain=st.binary(max_size=700), segment=st.integers(min_value=1, max_value=200))
def test_round_trip(plain: bytes, segment: int) -> None:
    assert _open(_seal(plain, segment)) == plain


@settings(max_examples=60)
@given(plain=st.binary(min_size=1, max_size=300), data=st.data())
def test_any_flipped_byte_is_refused(plain: bytes, data: st.DataObject) -> None:
    sealed = bytearray(_seal(plain, 50))
    at = data.draw(st.integers(min_value=0, max_value=len(sealed) - 1))
    sealed[at] ^= data.draw(st.integers(min_value=1, max_value=255))
    with pytest.raises(EnvelopeError):
        _open(bytes(sealed))


@settings(max_examples=40)
@given(plain=st.binary(min_size=1, max_size=300), data=st.data())
def test_a_cut_short_envelope_is_refused(plain: bytes, data: st.DataObject) -> None:
    sealed = _seal(plain, 50)
    cut = data.draw(st.integers(min_value=0, max_value=len(sealed) - 1))
    with pytest.raises(EnvelopeError):
        _open(sealed[:cut])


def test_dropped_reordered_or_appended_segments_are_refused() -> None:
    sealed = _seal(b"a" * 100 + b"b" * 100 + b"c" * 100, 100)
    header_end = sealed.index(b"\n") + 1
    header, body = sealed[:header_end], sealed[header_end:]
    seg = 4 + 100 + 16
    parts = [body[i : i + seg] for i in range(0, len(body), seg)]
    assert len(parts) == 3
    for variant in (
        parts[0] + parts[2],  # the middle one dropped
        parts[1] + parts[0] + parts[2],  # reordered
        parts[0] + parts[1],  # the last one dropped: truncation at a segment boundary
        parts[0] + parts[1] + parts[2] + parts[2],  # something after the last
    ):
        with pytest.raises(EnvelopeError):
            _open(header + variant)


def test_another_key_request_or_school_does_not_open_it() -> None:
    sealed = _seal(b"pupils")
    with pytest.raises(EnvelopeError):
        _open(sealed, X25519PrivateKey.generate())
    with pytest.raises(EnvelopeError, match="another request"):
        _open(sealed, request_id="req_" + "9" * 24)
    with pytest.raises(EnvelopeError, match="another request"):
        _open(sealed, school_id="sch_" + "9" * 24)
    # A header rewritten to name the other request still fails: the key is bound to it.
    moved = sealed.replace(b"1" * 24, b"9" * 24, 1)
    with pytest.raises(EnvelopeError):
        _open(moved, request_id="req_" + "9" * 24)


def test_an_extract_folder_round_trips(tmp_path: Path) -> None:
    folder = tmp_path / "extract"
    folder.mkdir()
    (folder / "students.jsonl").write_text('{"type": "Student"}\n')
    (folder / "summary.json").write_text("{}")
    (folder / ".students.jsonl.part").write_text("half")  # never packed
    sealed = io.BytesIO()
    names = seal_folder(folder, sealed, KEY.public_key(), **CONTEXT)
    assert names == ["students.jsonl", "summary.json"]
    clear = io.BytesIO(_open(sealed.getvalue()))
    assert unpack_archive(clear, tmp_path / "out") == names
    assert (tmp_path / "out" / "students.jsonl").read_text() == '{"type": "Student"}\n'
    assert (tmp_path / "out" / "summary.json").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("name", ["../evil.jsonl", "/etc/passwd", "sub/students.jsonl", "x.sh"])
def test_unpacking_refuses_paths_and_unknown_files(tmp_path: Path, name: str) -> None:
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        info = tarfile.TarInfo(name)
        info.size = 2
        tar.addfile(info, io.BytesIO(b"{}"))
    archive.seek(0)
    with pytest.raises(EnvelopeError, match="not an extract file"):
        unpack_archive(archive, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_unpacking_refuses_links(tmp_path: Path) -> None:
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        info = tarfile.TarInfo("students.jsonl")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tar.addfile(info)
    archive.seek(0)
    with pytest.raises(EnvelopeError):
        unpack_archive(archive, tmp_path / "out")


def test_packed_files_carry_no_owner_time_or_wide_mode(tmp_path: Path) -> None:
    (tmp_path / "years.jsonl").write_text("{}\n")
    one, two = io.BytesIO(), io.BytesIO()
    pack_folder(tmp_path, one)
    pack_folder(tmp_path, two)
    with tarfile.open(fileobj=io.BytesIO(one.getvalue())) as tar:
        (member,) = tar.getmembers()
    assert (member.mtime, member.mode, member.uname) == (0, 0o600, "")
