"""The CommandReporter stand-in as a program: switches, answers, encodings."""

from __future__ import annotations

import io
import subprocess

import pytest

from misbridge_sims.render import encode_name
from misbridge_sims.standin import Refused, parse_switches, run


def test_switches_are_read_like_commandreporter() -> None:
    switches = parse_switches(
        ["/user:misbridge", "/PASSWORD:a:b", '/REPORT:"misbridge Students"', "/QUIET", "/TRUSTED"]
    )
    assert switches == {
        "USER": "misbridge",
        "PASSWORD": "a:b",
        "REPORT": "misbridge Students",
        "QUIET": "",
        "TRUSTED": "",
    }
    with pytest.raises(Refused, match="Unknown switch /SHELL"):
        parse_switches(["/SHELL:rm"])
    with pytest.raises(Refused, match="Unexpected argument"):
        parse_switches(["students"])


def _answer(*argv: str) -> tuple[int, bytes]:
    out = io.BytesIO()
    return run(list(argv), out), out.getvalue()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["/USER:misbridge", "/PASSWORD:nope", "/REPORT:misbridge Staff"], b"Login failed"),
        (["/TRUSTED", "/REPORT:Some Other Report"], b"not found"),
        (["/TRUSTED"], b"No report name"),
        (["/TRUSTED", "/REPORT:misbridge Staff", "/PARAMS:<ReportParameters>"], b"/PARAMS"),
    ],
)
def test_refusals_are_command_reporter_errors(
    argv: list[str], words: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MISBRIDGE_STANDIN_CONFIG", raising=False)
    monkeypatch.delenv("MISBRIDGE_STANDIN_STATE", raising=False)
    code, output = _answer(*argv)
    assert code == 1
    assert output.startswith(b"<CommandReporterError>") and words in output


def test_stand_in_writes_encoded_captions_and_omits_empty_values(make_sim) -> None:
    sim = make_sim()
    output = subprocess.run(
        [str(sim.reporter), "/TRUSTED", "/REPORT:misbridge Students", "/QUIET"],
        check=True,
        capture_output=True,
    ).stdout
    assert output.startswith(b"\xef\xbb\xbf<?xml")
    assert b"<Legal_x0020_Surname>" in output and b"<Year>Year  7</Year>" in output
    assert b"<Preferred_x0020_Surname>" not in output  # nobody has one: left out
    assert sim.requests == 1


def test_encode_name_matches_dotnet() -> None:
    assert encode_name("Legal Surname") == "Legal_x0020_Surname"
    assert encode_name("Class/Group (main)") == "Class_x002F_Group_x0020__x0028_main_x0029_"
    assert encode_name("7 Year") == "_x0037__x0020_Year"
    assert encode_name("a_xb") == "a_x005F_xb"
