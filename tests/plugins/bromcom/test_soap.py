"""Legacy SOAP mode (Third Party Read Only Data Service), through the real client code."""

from __future__ import annotations

from datetime import date

import defusedxml.ElementTree as SafeET
import pytest
from structlog.testing import capture_logs

from misbridge.errors import AuthenticationError
from misbridge.hooktypes import Secret
from misbridge.model import Dataset, Photo, Student
from misbridge.pipeline import prepare_context
from misbridge.result import OutcomeStatus
from misbridge.simulation import Fault
from misbridge.source import SourceSchool
from misbridge_bromcom import INFO
from misbridge_bromcom.settings import BromcomConfig
from misbridge_bromcom.sim_wire import dataset_xml, uk_offset
from misbridge_bromcom.simulator import PASSWORD, USERNAME
from misbridge_bromcom.soap import SoapApi
from tests.plugins.bromcom.helpers import Recording, check, make, of_type, run

SOAP = {"mode": "soap"}
ENV = "{http://www.w3.org/2003/05/soap-envelope}"
TEMPURI = "{http://tempuri.org/}"


async def test_calls_are_soap_1_2_to_tempuri_with_the_login_in_the_body(
    school: SourceSchool,
) -> None:
    sim = make(school)
    recording = Recording(sim.source().transport)  # type: ignore[arg-type]
    result = await run(sim, settings=SOAP, datasets=[Dataset.STAFF], transport=recording)
    assert result.ok
    first, last = recording.sent[0], recording.sent[-1]
    assert last.method == "POST"
    assert last.url.path == "/Nucleus/WebServices/ThirdParty/TPReadonlyDataService.asmx"
    assert last.headers["content-type"] == (
        'application/soap+xml; charset=utf-8; action="http://tempuri.org/getEntityDataBySchoolID"'
    )
    call = SafeET.fromstring(last.content).find(f"{ENV}Body/{TEMPURI}getEntityDataBySchoolID")
    assert call is not None
    args = {child.tag.removeprefix(TEMPURI): child.text for child in call}
    assert args == {
        "schoolID": str(sim.school_id),
        "entityName": "Staff",
        "entityFilter": None,
        "username": USERNAME,
        "password": PASSWORD,
    }
    assert b"findEntitiesBySchoolID" in first.content  # the login is proved first


def test_the_envelope_escapes_what_a_password_may_hold(school: SourceSchool) -> None:
    sim = make(school)
    source = sim.source()
    context = prepare_context(INFO, settings={**source.settings, **SOAP})
    api = SoapApi(BromcomConfig.from_context(context), Secret("u"), Secret("p"), None)
    tricky = "<&>'\"]]></password><x>"
    envelope = api._envelope("getEntityDataBySchoolID", [("password", tricky)])
    call = SafeET.fromstring(envelope).find(f"{ENV}Body/{TEMPURI}getEntityDataBySchoolID")
    assert call is not None and [(c.tag, c.text) for c in call] == [(f"{TEMPURI}password", tricky)]


async def test_dataset_dates_carry_the_uk_offset_and_keep_their_day(
    school: SourceSchool,
) -> None:
    assert uk_offset(date(2026, 7, 1)) == "+01:00"
    assert uk_offset(date(2026, 12, 1)) == "+00:00"
    assert uk_offset(date(2026, 3, 29)) == "+00:00"  # midnight before the clocks go forward
    assert uk_offset(date(2026, 10, 25)) == "+01:00"  # midnight before they go back
    xml = dataset_xml(["Born", "Gone"], [{"Born": date(2014, 6, 3)}])
    assert "<Born>2014-06-03T00:00:00+01:00</Born>" in xml and "<Gone>" not in xml
    result = await run(make(school), settings=SOAP, datasets=[Dataset.STUDENTS])
    summer = [
        s
        for s in school.students
        if isinstance(s.date_of_birth, date) and uk_offset(s.date_of_birth) == "+01:00"
    ]
    got = {s.mis_id: s for s in of_type(result, Dataset.STUDENTS, Student)}
    summer = [s for s in summer if s.mis_id in got]  # some messy pupils are rejected
    assert summer and all(got[s.mis_id].date_of_birth == s.date_of_birth for s in summer)


async def test_a_wrong_login_is_refused_once_and_never_echoed(school: SourceSchool) -> None:
    sim = make(school)
    wrong = dict(sim.wrong_credentials())
    with pytest.raises(AuthenticationError) as raised:
        await run(sim, settings=SOAP, credentials=wrong)
    assert wrong["password"] not in str(raised.value)
    assert "user name and password" in str(raised.value)
    assert sim.requests == 1


async def test_missing_login_is_a_clear_configuration_error(school: SourceSchool) -> None:
    sim = make(school)
    with pytest.raises(Exception, match="'password' is missing"):
        await run(sim, settings=SOAP, credentials={"username": USERNAME})
    assert sim.requests == 0


async def test_unticked_entities_come_from_find_entities(school: SourceSchool) -> None:
    sim = make(school, deny=[Dataset.STAFF, Dataset.EXAM_RESULTS])
    checks = await check(sim, SOAP)
    assert checks[Dataset.STAFF].missing == ("Staff",)
    assert checks[Dataset.EXAM_RESULTS].missing == ("AssociationAssessmentResults",)
    assert checks[Dataset.PHOTOS].missing == ("Staff",)
    assert checks[Dataset.STUDENTS].ok and checks[Dataset.GROUPS].ok
    result = await run(sim, settings=SOAP)
    assert result.outcomes[Dataset.STAFF].status is OutcomeStatus.FAILED
    assert "'Staff'" in (result.outcomes[Dataset.STAFF].message or "")
    assert result.outcomes[Dataset.GROUPS].status is OutcomeStatus.UNVERIFIED
    assert sim.calls.count("POST getEntityDataBySchoolID Staff") == 2  # staff, photos: no retry


async def test_photo_lookups_are_batched_under_the_20_term_limit(school: SourceSchool) -> None:
    sim = make(school)
    recording = Recording(sim.source().transport)  # type: ignore[arg-type]
    result = await run(sim, settings=SOAP, datasets=[Dataset.PHOTOS], transport=recording)
    assert result.ok
    assert {(p.person_mis_id, p.data) for p in of_type(result, Dataset.PHOTOS, Photo)} == {
        (p.person_mis_id, p.data) for p in school.photos
    }
    lookups = [r for r in recording.sent if b">PersonPhotos<" in r.content]
    people = len(school.students) + len(school.staff)
    assert len(lookups) == -(-len(school.students) // 20) + -(-len(school.staff) // 20)
    assert people > 20
    # A plugin told the limit is higher sends longer lists, and the service refuses them.
    refused = await run(
        make(school), settings={**SOAP, "max_filter_terms": "50"}, datasets=[Dataset.PHOTOS]
    )
    assert refused.outcomes[Dataset.PHOTOS].status is OutcomeStatus.FAILED


async def test_an_xml_bomb_is_refused_not_expanded(school: SourceSchool) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<soap:Envelope xmlns:soap='http://www.w3.org/2003/05/soap-envelope'>"
        b"<soap:Body>&lol2;</soap:Body></soap:Envelope>"
    )
    fault = Fault("status", skip=1, status=200, body=bomb, content_type="application/soap+xml")
    result = await run(make(school, faults=[fault]), settings=SOAP, datasets=[Dataset.STAFF])
    outcome = result.outcomes[Dataset.STAFF]
    assert outcome.status is OutcomeStatus.FAILED
    assert "cannot read" in (outcome.message or "")


async def test_server_faults_and_maintenance_pages_are_retried(school: SourceSchool) -> None:
    expected = await run(make(school), settings=SOAP)
    faults = [
        Fault("html", skip=1),
        Fault("status", skip=3, status=503),
        Fault("truncate", skip=5),
    ]
    sim = make(school, faults=faults)
    result = await run(sim, settings=SOAP)
    assert result.ok
    for dataset in Dataset:
        assert result.of(dataset) == expected.of(dataset), dataset
    assert sim.app.faults_fired == 3


async def test_without_person_details_both_modes_read_the_same_school(
    school: SourceSchool,
) -> None:
    partner = await run(make(school))
    soap = await run(make(school), settings={**SOAP, "legacy_contacts": "no"})
    for dataset in Dataset:
        assert soap.of(dataset) == partner.of(dataset), dataset


async def test_person_details_are_read_for_each_batch_of_pupils_only(
    school: SourceSchool,
) -> None:
    sim = make(school)
    recording = Recording(sim.source().transport)  # type: ignore[arg-type]
    result = await run(sim, settings=SOAP, datasets=[Dataset.STUDENTS], transport=recording)
    students = {s.mis_id: s for s in of_type(result, Dataset.STUDENTS, Student)}
    batches = -(-len(school.students) // 20)
    for entity, column in (
        ("PersonAddresses", "PersonID"),
        ("PersonTelephones", "PersonID"),
        ("Emails", "PersonID"),
        ("SENStudents", "StudentID"),
    ):
        calls = [r for r in recording.sent if f">{entity}<".encode() in r.content]
        assert len(calls) == batches, entity
        assert all(f"{column} in (".encode() in r.content for r in calls)
    # The messy pupils' details arrive whole: the normaliser made its choices from them.
    source = {s.mis_id: s for s in school.students}
    newest = source["90001"].addresses[0]
    assert students["90001"].home_address is not None
    assert students["90001"].home_address.lines == newest.lines
    primary = next(p for p in source["90002"].telephones if p.primary)
    assert students["90002"].home_telephone == primary.number
    assert students["90002"].email_preference.value == "Work"  # the Main email is work


async def test_the_login_never_reaches_the_log(school: SourceSchool) -> None:
    sim = make(school, faults=[Fault("status", skip=2, status=503)])
    wrong = dict(sim.wrong_credentials())
    with capture_logs() as logs:
        await run(sim, settings=SOAP)
        with pytest.raises(AuthenticationError):
            await run(sim, settings=SOAP, credentials=wrong)
    text = repr(logs)
    assert logs and PASSWORD not in text and wrong["password"] not in text
