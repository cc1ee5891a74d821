"""Resource caps, measured in a fresh process: a hostile report is refused after reading
little of it and with little memory (peak resident set), never after reading it all.

Each case runs the plugin's real reading code (exported files, or a reporter's /OUTPUT
file) in its own Python process, which reports the bytes it read from files
(``read_chars``) and the growth of its peak resident set while reading. No wall-clock
limits: the bounds are on bytes and memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

MB = 1024 * 1024

_PROBE = r"""
import asyncio, json, os, resource, sys
from misbridge.model import Dataset
from misbridge.pipeline import extract_async

settings = json.loads(sys.argv[1])

async def extract():
    return await extract_async("sims", settings=settings, datasets=[Dataset.STUDENTS])

# Warm up, reading and refusing: the imports and first-use allocations are not the report's.
for cap in ("1000000", "10"):
    asyncio.run(extract_async(
        "sims", settings={"from_xml": sys.argv[2], "max_report_bytes": cap},
        datasets=[Dataset.STUDENTS],
    ))
def own_reads():
    # This process's own reads, per thread: /proc/self/io also counts reaped children
    # (the reporter and anything it ran).
    total = 0
    for tid in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{tid}/io") as io:
            total += next(int(l.split()[1]) for l in io if l.startswith("rchar:"))
    return total

# What any extract reads besides the report (plugin metadata): measured, then taken off.
start = own_reads()
asyncio.run(extract_async("sims", settings={"from_xml": sys.argv[2]}, datasets=[Dataset.STUDENTS]))
overhead = own_reads() - start
read_before = own_reads()
peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = asyncio.run(extract())
outcome = result.outcomes[Dataset.STUDENTS]
print(json.dumps({
    "status": outcome.status.value,
    "message": outcome.message,
    "read": own_reads() - read_before - overhead,
    "grew": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) * 1024,
}))
"""


def _measure(settings: dict[str, str], warm: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(settings), str(warm)],
        capture_output=True,
        check=True,
        timeout=300,
    )
    measured: dict[str, object] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return measured


@pytest.fixture
def warm(tmp_path: Path) -> Path:
    folder = tmp_path / "warm"
    folder.mkdir()
    (folder / "misbridge Students.xml").write_bytes(
        b"<SuperStarReport><Record><Person_x0020_ID>1</Person_x0020_ID></Record></SuperStarReport>"
    )
    return folder


def _write(path: Path, parts: Iterator[bytes]) -> int:
    size = 0
    with path.open("wb") as out:
        for part in parts:
            out.write(part)
            size += len(part)
    return size


def _distinct_tags(size: int) -> Iterator[bytes]:
    yield b"<SuperStarReport><Record><Person_x0020_ID>1</Person_x0020_ID>"
    written, n = 0, 0
    while written < size:
        part = b"".join(b"<C%d>x</C%d>" % (i, i) for i in range(n, n + 5000))
        n += 5000
        written += len(part)
        yield part
    yield b"</Record></SuperStarReport>"


def _one_value(size: int) -> Iterator[bytes]:
    yield b"<SuperStarReport><Record><Person_x0020_ID>1</Person_x0020_ID><Adno>"
    for _ in range(size // MB):
        yield b"7" * MB
    yield b"</Adno></Record></SuperStarReport>"


def _one_tag(size: int) -> Iterator[bytes]:
    yield b"<SuperStarReport><Record><Adno"
    for _ in range(size // MB):
        yield b"o" * MB
    yield b">1</Adno></Record></SuperStarReport>"


def _one_attribute(size: int) -> Iterator[bytes]:
    yield b'<SuperStarReport><Record a="'
    for _ in range(size // MB):
        yield b"v" * MB
    yield b'"><Adno>1</Adno></Record></SuperStarReport>'


CASES = {
    # 40 MB are enough: before the caps they grew ~450 MB, ~80 MB, ~160 MB and ~120 MB.
    "distinct column tags": (_distinct_tags, "distinct element names"),
    "one huge value": (_one_value, "is longer than 65,536 characters"),
    "one huge tag name": (_one_tag, "longer than 65,536 bytes"),
    "one huge attribute": (_one_attribute, "longer than 65,536 bytes"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_export_is_refused_after_little_reading(
    tmp_path: Path, warm: Path, case: str
) -> None:
    make, words = CASES[case]
    folder = tmp_path / "export"
    folder.mkdir()
    size = _write(folder / "misbridge Students.xml", make(40 * MB))
    measured = _measure({"from_xml": str(folder)}, warm)
    assert measured["status"] == "failed"
    assert "misbridge Students" in str(measured["message"]) and words in str(measured["message"])
    assert int(measured["read"]) < 2 * MB < size, measured  # type: ignore[call-overload]
    assert int(measured["grew"]) < 50 * MB, measured  # type: ignore[call-overload]


def _padded(size: int) -> Iterator[bytes]:
    """A well-formed report of ``size`` bytes: nothing stops a reader before its end."""
    yield b"<SuperStarReport>"
    for _ in range(size // MB):
        yield b" " * MB
    yield b"</SuperStarReport>"


def test_an_export_over_the_cap_is_refused_before_reading(tmp_path: Path, warm: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    _write(folder / "misbridge Students.xml", _padded(24 * MB))
    measured = _measure({"from_xml": str(folder), "max_report_bytes": str(8 * MB)}, warm)
    assert "larger than the 8,388,608-byte cap" in str(measured["message"])
    assert "max_report_bytes" in str(measured["message"])
    assert int(measured["read"]) < 64 * 1024, measured  # type: ignore[call-overload]


def test_the_default_cap_is_checked_before_reading(tmp_path: Path, warm: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    with (folder / "misbridge Students.xml").open("wb") as out:
        out.truncate(600 * MB)  # sparse: 600 MiB on paper, nothing on disk
    measured = _measure({"from_xml": str(folder)}, warm)
    assert "larger than the 536,870,912-byte cap" in str(measured["message"])
    assert int(measured["read"]) < 64 * 1024, measured  # type: ignore[call-overload]
    assert int(measured["grew"]) < 50 * MB, measured  # type: ignore[call-overload]


def test_a_reporter_output_file_over_the_cap_is_refused_before_reading(
    tmp_path: Path, warm: Path
) -> None:
    reporter = tmp_path / "CommandReporter"
    # Writes a well-formed 24 MiB report to /OUTPUT and exits as if all went well.
    reporter.write_text(
        "#!/bin/sh\n"
        'for arg in "$@"; do case "$arg" in /OUTPUT:*) out="${arg#/OUTPUT:}";; esac; done\n'
        'printf "<SuperStarReport>" > "$out"\n'
        'head -c 25165824 /dev/zero | tr "\\0" " " >> "$out"\n'
        'printf "</SuperStarReport>" >> "$out"\n'
    )
    reporter.chmod(0o700)
    settings = {"reporter": str(reporter), "trusted": "true", "output": "file"}
    measured = _measure({**settings, "max_report_bytes": str(8 * MB)}, warm)
    assert "larger than the 8,388,608-byte cap" in str(measured["message"]), measured
    assert int(measured["read"]) < 1 * MB, measured  # type: ignore[call-overload]
