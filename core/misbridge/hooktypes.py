"""The objects that cross the hook boundary between the core and an MIS plugin."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from attrs import field, frozen

from misbridge.model import Dataset
from misbridge.reads import Checkpoint, DatasetRead

if TYPE_CHECKING:
    import httpx

    from misbridge.source import SourceSchool

__all__ = [
    "CredentialField",
    "ExtractContext",
    "FieldCoverage",
    "MisInfo",
    "MisSession",
    "PermissionCheck",
    "Secret",
    "SettingField",
    "SimulatedSource",
    "Simulator",
]


class Secret:
    """A secret value (password, token, key) that never prints itself.

    ``repr()``, ``str()`` and f-strings show ``***``; only :meth:`reveal` gives the
    value, so a secret that leaks into a log line, an exception or a report shows
    nothing. The logging redaction processor also masks every ``Secret`` it meets.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, spec: str) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:
        # Pickling a secret would write it somewhere we do not control.
        raise TypeError("a Secret cannot be pickled")


@frozen
class CredentialField:
    """One credential an MIS needs, asked for at run time, never taken as an argument."""

    name: str
    prompt: str
    env: str
    required: bool = True


@frozen
class SettingField:
    """One non-secret setting an MIS needs; the CLI turns it into ``--<name>`` and a
    configuration file takes it as ``name = value``.

    ``kind`` is ``str``, ``int``, ``float`` or ``bool``; ``choices`` limits a ``str`` to
    those words; ``minimum``/``maximum`` bound a number. The core parses and checks every
    value once (:func:`misbridge.settings.parse_settings`), so that a wrong value is
    refused with its name before anything is read.
    """

    name: str
    help: str
    default: str | None = None
    required: bool = False
    env: str | None = None
    kind: type = str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


@frozen
class FieldCoverage:
    """The model fields a source does *not* carry, so that a sync never empties a stored
    value because such a field came back empty (a poorer MIS blanking a richer one's).

    Names are ``"Type.field"`` (``"Student.home_address"``), a whole ``"Type"``
    (``"AcademicYear"``), or ``"Student.sen.dates"`` (SEN codes without their dates).
    ``when`` adds what a mode lacks: ``(setting, value, names)``, applied when the
    setting (or its default) has that value. ``derive`` adds what only the settings'
    content can tell (a spreadsheet column-mapping file the school wrote): called with
    the settings, it returns the names that read lacks, or raises
    :class:`~misbridge.errors.ConfigurationError` for settings it cannot read.
    """

    lacks: frozenset[str] = frozenset()
    when: tuple[tuple[str, str, frozenset[str]], ...] = ()
    derive: Callable[[Mapping[str, str]], frozenset[str]] | None = None

    def lacking(
        self, settings: Mapping[str, str], fields: Iterable[SettingField] = ()
    ) -> frozenset[str]:
        defaults = {f.name: f.default for f in fields}
        found = set(self.lacks)
        for setting, value, names in self.when:
            current = settings.get(setting) or defaults.get(setting) or ""
            if str(current).strip().lower() == value.lower():
                found |= names
        if self.derive is not None:
            found |= self.derive(settings)
        return frozenset(found)


@frozen
class MisInfo:
    """What an MIS plugin tells the core about itself (the ``mis_info`` hook).

    ``name`` is the MIS id used on the command line and in the store (``"wonde"``);
    two plugins may not claim the same name. ``title`` is how people see it (reports,
    error tables, the command line). ``simulator`` builds the plugin's stand-in of its
    vendor: called as ``simulator(school, *, latency=0.0, deny=(), faults=(), **options)``
    with a :class:`~misbridge.source.SourceSchool`, it returns a :class:`Simulator`
    (write it on :class:`misbridge.simulation.HttpSimulator` or
    :class:`misbridge.simulation.LocalSimulator`). The class itself will do; a function
    that imports the simulator's module when called keeps that module (and its web
    framework) out of every process that only loads the plugins, as the first-party
    plugins and ``misbridge plugin new`` do.
    """

    name: str
    title: str
    credentials: tuple[CredentialField, ...] = ()
    settings: tuple[SettingField, ...] = ()
    datasets: tuple[Dataset, ...] = tuple(Dataset)
    simulator: Callable[..., Simulator] | None = None
    docs_url: str | None = None
    #: What the vendor's wire format cannot carry (see :class:`FieldCoverage`).
    coverage: FieldCoverage = FieldCoverage()
    #: The setting that names the school (Wonde's ``school_id``): the key of the
    #: school's checkpoints when no configuration file names it.
    school_setting: str | None = None
    #: The plugin API version (``MAJOR.MINOR``) the plugin was written for; the core
    #: refuses another major version, or a newer minor one. Plugins written before the
    #: API had versions were written for 1.0, so the default stays "1.0" for ever.
    api: str = "1.0"

    def lacking(self, settings: Mapping[str, str]) -> frozenset[str]:
        """The fields a read with these settings does not carry."""
        return self.coverage.lacking(settings, self.settings)

    def school_key(self, settings: Mapping[str, str]) -> str:
        """The school's key for checkpoints and the store: the school setting's value."""
        value = settings.get(self.school_setting) if self.school_setting else None
        return str(value).strip() if value not in (None, "") else "default"


@frozen
class ExtractContext:
    """Everything an extract hook needs besides the session.

    ``transport`` is only set by tests and simulators: the plugin hands it to
    :class:`misbridge.http.MisHttpClient`, so that its real HTTP code runs against an
    in-process stand-in. ``since`` is always timezone-aware UTC (the core refuses a naive
    time before a plugin sees it).
    """

    mis: str
    settings: Mapping[str, str] = field(factory=dict)
    credentials: Mapping[str, Secret] = field(factory=dict)
    since: datetime | None = None
    transport: httpx.AsyncBaseTransport | None = None
    on_total: Callable[[Dataset, int], None] | None = None
    #: The settings parsed to their declared types (``int``, ``bool``...).
    values: Mapping[str, Any] = field(factory=dict)
    #: Per dataset, where the last read that was used ended (see :meth:`checkpoint`).
    checkpoints: Mapping[Dataset, Checkpoint] = field(factory=dict)
    _reads: dict[Dataset, DatasetRead] = field(factory=dict, alias="reads")

    def setting(self, name: str, default: str | None = None) -> str | None:
        value = self.settings.get(name)
        return default if value in (None, "") else value

    def require_setting(self, name: str) -> str:
        from misbridge.errors import ConfigurationError

        value = self.setting(name)
        if value is None:
            raise ConfigurationError(
                f"{self.mis}: the setting {name!r} is required; pass --{name.replace('_', '-')} "
                "or set it in the configuration",
                mis=self.mis,
                setting=name,
            )
        return value

    def credential(self, name: str) -> Secret:
        from misbridge.errors import ConfigurationError

        secret = self.credentials.get(name)
        if secret is None or not secret:
            raise ConfigurationError(
                f"{self.mis}: the credential {name!r} is missing; set it with "
                f"'misbridge credentials set {self.mis}', its environment variable, or the prompt",
                mis=self.mis,
                credential=name,
            )
        return secret

    def report_total(self, dataset: Dataset, total: int) -> None:
        """Tell the progress display how many records a dataset will have, if known."""
        if self.on_total is not None:
            self.on_total(dataset, total)

    def read(self, dataset: Dataset) -> DatasetRead:
        """This run's report on ``dataset``: what proves it whole, whether it is a delta,
        where the next read may start (see :mod:`misbridge.reads`)."""
        report = self._reads.get(dataset)
        if report is None:
            report = self._reads[dataset] = DatasetRead(dataset)
        return report

    def checkpoint(self, dataset: Dataset) -> Checkpoint | None:
        """Where the last read of ``dataset`` that a sync used ended, if there was one:
        an incremental read asks for changes after it."""
        return self.checkpoints.get(dataset)


@runtime_checkable
class MisSession(Protocol):
    """What ``authenticate`` returns: an open connection the extract hooks use.

    The pipeline always closes it when the extract ends, on success, error or
    cancellation (SIMS: the reporter process is ended; HTTP: the pool is closed).
    """

    async def aclose(self) -> None: ...


@frozen
class PermissionCheck:
    """The pre-flight result for one dataset: which permissions are missing.

    ``missing`` names each permission exactly as the MIS administrator sees it
    (a SIMS permission line, a Wonde scope, a Bromcom entity to tick), including
    those a dataset needs through another dataset it depends on.
    """

    dataset: Dataset
    missing: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.missing


@frozen
class SimulatedSource:
    """How to reach a simulator: the settings, valid credentials and (in-process) transport."""

    settings: Mapping[str, str]
    credentials: Mapping[str, str]
    transport: httpx.AsyncBaseTransport | None = None


class Simulator(Protocol):
    """A plugin's stand-in for its vendor, serving one :class:`SourceSchool`.

    HTTP simulators expose an ASGI ``app``; the core serves it in-process (tests) or on a
    loopback port (demo, benchmarks). File or process simulators (SIMS) have ``app`` None.
    """

    school: SourceSchool

    @property
    def app(self) -> Any: ...

    @property
    def requests(self) -> int:
        """How many requests (or process runs) the simulator has answered."""
        ...

    def source(self, base_url: str | None = None) -> SimulatedSource:
        """Settings and credentials that reach this simulator (in-process if no URL)."""
        ...

    def wrong_credentials(self) -> Mapping[str, str]:
        """Credentials this simulator refuses, for the authentication test."""
        ...

    def close(self) -> None: ...
