"""Rules of the plugin's own small parts: query text, paths, photo types, settings."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse
from hypothesis import given
from hypothesis import strategies as st

from misbridge.errors import ConfigurationError
from misbridge.pipeline import prepare_context
from misbridge_arbor import INFO
from misbridge_arbor.photos import media_type
from misbridge_arbor.selection import graphql_query, merge_spec, path_spec, pluck
from misbridge_arbor.settings import PARTNER_HOST, ArborConfig

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True)


@given(st.lists(NAMES, min_size=1, max_size=4), st.integers())
def test_a_path_spec_reads_back_what_it_names(path: list[str], value: int) -> None:
    dotted = ".".join(path)
    record: Any = value
    for step in reversed(path):
        record = {step: record}
    assert pluck(record, dotted) == value
    spec = path_spec(dotted)
    for step in path[:-1]:
        spec = spec[step]
    assert spec == {path[-1]: None}


@given(
    entity=NAMES,
    fields=st.lists(NAMES, min_size=1, max_size=5),
    text=st.text(max_size=30),
    ids=st.lists(st.text(max_size=8), max_size=4),
)
def test_queries_are_valid_graphql_whatever_the_argument_values(
    entity: str, fields: list[str], text: str, ids: list[str]
) -> None:
    spec = merge_spec(*(path_spec(f) for f in fields))
    query = graphql_query(entity, spec, {"page_size": 5, "filter_equals": text, "id_in": ids})
    document = parse(query)  # raises on anything that is not a single valid query
    assert len(document.definitions) == 1


def _graphql_path(text: str) -> bool:
    return all(step.isidentifier() and step.isascii() for step in text.split("."))


@given(st.text(min_size=1, max_size=20).filter(lambda t: not _graphql_path(t)))
def test_names_that_are_not_graphql_names_are_refused(name: str) -> None:
    """Any step that is not a GraphQL name (an empty one too: "a." or "a..b")."""
    with pytest.raises(ValueError, match="not a GraphQL field name"):
        path_spec(name)


@pytest.mark.parametrize(
    ("data", "header", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n....", "application/octet-stream", "image/png"),
        (b"\xff\xd8\xff\xe0....", None, "image/jpeg"),
        (b"GIF89a....", "text/plain", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", None, "image/webp"),
        (b"????", "image/heic", "image/heic"),
        (b"????", "application/octet-stream", None),
    ],
)
def test_photo_types_come_from_the_bytes_first(
    data: bytes, header: str | None, expected: str | None
) -> None:
    assert media_type(data, header) == expected


def _config(**settings: str) -> ArborConfig:
    return ArborConfig.from_context(prepare_context(INFO, settings=settings))


def test_hosts_follow_the_settings() -> None:
    assert _config(subdomain="some-school").base_url == "https://some-school.uk.arbor.sc"
    assert _config(application_id="abc").base_url == PARTNER_HOST
    explicit = _config(base_url="https://api-sandbox2.uk.arbor.sc/", application_id="abc")
    assert explicit.base_url == "https://api-sandbox2.uk.arbor.sc"


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({}, "subdomain"),
        ({"subdomain": "a.evil.example/"}, "subdomain"),
        ({"subdomain": "s", "read_mode": "soap"}, "read_mode"),
        ({"subdomain": "s", "page_size": "0"}, "page_size"),
        ({"subdomain": "s", "eligibility_codes": "fsm"}, "eligibility_codes"),
        ({"subdomain": "s", "eligibility_codes": "shoe=SIZE"}, "eligibility_codes"),
    ],
)
def test_bad_settings_name_the_setting(settings: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        _config(**settings)
    assert raised.value.context["setting"] == named


def test_none_turns_a_path_setting_off() -> None:
    # Through the core's settings parser, as every run is: "" would mean "not given".
    config = _config(subdomain="s", class_subject_path="none", eligibility_codes="None")
    assert config.class_subject_path == ""
    assert dict(config.eligibility_codes) == {}
    default = _config(subdomain="s", class_subject_path="")
    assert default.class_subject_path == "subject.subjectName"
