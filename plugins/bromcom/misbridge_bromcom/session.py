"""An authenticated Bromcom session (either mode) and the permission pre-flight."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from misbridge.plugin import (
    Dataset,
    ExtractContext,
    PermissionCheck,
    PermissionDeniedError,
    Session,
)
from misbridge_bromcom.contacts import DETAIL_ENTITIES
from misbridge_bromcom.filters import matches_nothing
from misbridge_bromcom.partner import GRANT_HINT, PartnerApi
from misbridge_bromcom.schema import Mode
from misbridge_bromcom.settings import MODE_CREDENTIALS, BromcomConfig
from misbridge_bromcom.soap import SoapApi

__all__ = ["NEEDS", "BromcomSession", "open_session"]

Row = dict[str, Any]

#: The entities each dataset reads, including those it needs through another dataset.
NEEDS: dict[Dataset, tuple[str, ...]] = {
    Dataset.YEARS: ("years", "collections"),
    Dataset.STAFF: ("staff",),
    Dataset.STUDENTS: ("students", "addresses", "telephones", "emails", "sen"),
    # Groups read the pupil list too: associates name pupils by their person id.
    Dataset.GROUPS: ("collections", "subjects", "associates", "executives", "students"),
    Dataset.PHOTOS: ("students", "staff", "photos"),
    Dataset.EXAM_RESULTS: ("results",),
}

#: The field that identifies a row of each entity, for filters matching nothing.
_PROBE_FIELD = {
    "years": "id",
    "collections": "id",
    "staff": "id",
    "students": "id",
    "subjects": "id",
    "associates": "collection_id",
    "executives": "collection_id",
    "results": "student_id",
    "photos": "person_id",
    "addresses": "person_id",
    "telephones": "person_id",
    "emails": "person_id",
    "sen": "student_id",
}


class BromcomSession(Session):
    """What ``authenticate`` opens: the configuration and one open connection."""

    def __init__(self, config: BromcomConfig, api: PartnerApi | SoapApi) -> None:
        self.config = config
        self.api = api
        self.granted: set[str] | None = None  # legacy mode: the ticked entities

    async def aclose(self) -> None:
        await self.api.aclose()

    @classmethod
    async def open(cls, context: ExtractContext) -> BromcomSession:
        return await open_session(context)

    # -- the datasets (misbridge_bromcom.extract) ---------------------------------------------
    def years(self, context: ExtractContext) -> AsyncIterator[Any]:
        from misbridge_bromcom import extract

        return extract.years(self, context)

    def staff(self, context: ExtractContext) -> AsyncIterator[Any]:
        from misbridge_bromcom import extract

        return extract.staff(self, context)

    def students(self, context: ExtractContext) -> AsyncIterator[Any]:
        from misbridge_bromcom import extract

        return extract.students(self, context)

    def groups(self, context: ExtractContext) -> AsyncIterator[Any]:
        from misbridge_bromcom import extract

        return extract.groups(self, context)

    def photos(self, context: ExtractContext) -> AsyncIterator[Any]:
        from misbridge_bromcom import extract

        return extract.photos(self, context)

    def exam_results(self, context: ExtractContext) -> AsyncIterator[Any]:
        from misbridge_bromcom import extract

        return extract.exam_results(self, context)

    def fields(self, key: str) -> dict[str, str]:
        return self.config.vocab.fields(key)

    async def pages(self, key: str, entity_filter: str = "") -> AsyncIterator[list[Row]]:
        async for page in self.api.pages(self.config.vocab.entity(key), entity_filter):
            yield page

    async def rows(self, key: str, entity_filter: str = "") -> list[Row]:
        out: list[Row] = []
        async for page in self.pages(key, entity_filter):
            out.extend(page)
        return out

    def probe_filter(self, key: str) -> str:
        return matches_nothing(self.config.vocab.field(key, _PROBE_FIELD[key]))

    async def check(self, context: ExtractContext | None = None) -> list[PermissionCheck]:
        """Which entities each dataset lacks, as Bromcom's access page names them."""
        vocab = self.config.vocab
        keys = sorted({k for needs in NEEDS.values() for k in needs if self._reads(k)})
        if isinstance(self.api, SoapApi):
            granted = {g.lower() for g in (self.granted or await self.api.granted())}
            missing = {k for k in keys if vocab.entity(k).lower() not in granted}
        else:
            results = await asyncio.gather(*(self._partner_denied(k) for k in keys))
            missing = {k for k, out in zip(keys, results, strict=True) if out}
        checks = []
        for dataset, needs in NEEDS.items():
            lacking = tuple(vocab.entity(k) for k in needs if k in missing)
            notes = (f"{GRANT_HINT}: {', '.join(lacking)}",) if lacking else ()
            checks.append(PermissionCheck(dataset, lacking, notes))
        return checks

    def _reads(self, key: str) -> bool:
        """Whether this session reads ``key`` (the detail entities: legacy mode only)."""
        if key in DETAIL_ENTITIES and not self.config.legacy_contacts:
            return False
        return key == "photos" or self.config.vocab.serves(key)

    async def _partner_denied(self, key: str) -> bool:
        assert isinstance(self.api, PartnerApi)
        try:
            if key == "photos":
                await self.api.image("")
            else:
                await self.rows(key, self.probe_filter(key))
        except PermissionDeniedError:
            return True
        return False


async def open_session(context: ExtractContext) -> BromcomSession:
    """Read the settings, connect, and prove the credentials with one harmless request."""
    config = BromcomConfig.from_context(context)
    for name in MODE_CREDENTIALS[config.mode]:
        context.credential(name)  # a clear "missing" error before any request
    api: PartnerApi | SoapApi
    if config.mode is Mode.PARTNER:
        application_id = context.require_setting("application_id")
        api = PartnerApi(
            config, application_id, context.credential("application_secret"), context.transport
        )
    else:
        api = SoapApi(
            config,
            context.credential("username"),
            context.credential("password"),
            context.transport,
        )
    session = BromcomSession(config, api)
    try:
        if isinstance(api, SoapApi):
            session.granted = await api.granted()
        else:
            # A filter matching no row: the answer is 401 for wrong credentials, 403 when
            # the entity is not ticked (still a valid login), and never anyone's data.
            try:
                await session.rows("students", session.probe_filter("students"))
            except PermissionDeniedError:
                await _refused_everything(session)
    except BaseException:
        await session.aclose()
        raise
    return session


#: Entities probed when the pupils are refused, to tell "not ticked" from "wrong school".
_WRONG_SCHOOL_PROBES = ("years", "staff", "collections", "subjects")


async def _refused_everything(session: BromcomSession) -> None:
    """Raise when Bromcom refuses every entity: the school id is then the likely cause
    (or the school never authorised the application), not one missing tick."""
    keys = [k for k in _WRONG_SCHOOL_PROBES if session.config.vocab.serves(k)]
    refused = await asyncio.gather(*(session._partner_denied(k) for k in keys))
    if keys and all(refused):
        vocab = session.config.vocab
        names = [vocab.entity("students"), *(vocab.entity(k) for k in keys)]
        raise PermissionDeniedError(
            f"bromcom: Bromcom refused every entity asked for ({', '.join(names)}) for "
            f"school {session.config.school_id}: the school id may be wrong (check "
            "--school-id against the school's number in Bromcom), or the school has not "
            "authorised this application",
            missing=tuple(names),
            mis="bromcom",
            school_id=session.config.school_id,
        )
