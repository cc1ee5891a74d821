"""Run CommandReporter for one report and hand over its XML as a stream of bytes.

One process per report, started with a fixed argument list (never a shell), so that a
report name or password can never be read as a command. The process is *always*
ended when the run ends: normally, on error, on timeout and on cancellation (terminate,
then kill after a grace period), because a lingering CommandReporter holds SIMS files
and blocks SIMS updates (the integration overview's reason for stopping its service).

The argument list is never logged: it holds the password in user/password mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tempfile
import time
import uuid
from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path

import structlog

from misbridge.plugin import SourceError, SourceUnavailableError
from misbridge_sims.settings import ReporterConfig
from misbridge_sims.xmlstream import ERROR_ROOT, too_large

__all__ = ["CHUNK", "ProcessRunner", "read_file"]

log = structlog.get_logger()

CHUNK = 64 * 1024
_STDOUT_CAP = 1024 * 1024  # file mode: stdout only carries messages
_STDERR_CAP = 64 * 1024
_POSIX = os.name == "posix"


async def _drain(stream: asyncio.StreamReader | None, cap: int) -> bytes:
    """Read a pipe to its end (so the child never blocks on it), keeping ``cap`` bytes."""
    if stream is None:
        return b""
    kept = bytearray()
    while chunk := await stream.read(CHUNK):
        if len(kept) < cap:
            kept += chunk[: cap - len(kept)]
    return bytes(kept)


class ProcessRunner:
    """Starts CommandReporter runs for one session and ends every one of them."""

    def __init__(self, config: ReporterConfig) -> None:
        self.config = config
        self._live: set[asyncio.subprocess.Process] = set()
        self._ending: dict[asyncio.subprocess.Process, asyncio.Future[None]] = {}
        self._tmp: Path | None = None
        self.runs = 0

    def argv(self, report: str, output: Path | None) -> list[str]:
        c = self.config
        args = [str(c.reporter)]
        if c.trusted:
            args.append("/TRUSTED")
        else:
            args += [f"/USER:{c.user}", f"/PASSWORD:{c.password.reveal() if c.password else ''}"]
        args.append(f"/REPORT:{report}")
        if output is not None:
            args.append(f"/OUTPUT:{output}")
        args.append("/QUIET")
        if c.server:
            args.append(f"/SERVERNAME:{c.server}")
        if c.database:
            args.append(f"/DATABASENAME:{c.database}")
        if c.params:
            args.append(f"/PARAMS:{c.params}")
        return args

    def secrets(self) -> tuple[str, ...]:
        """What CommandReporter might echo that must not reach a message: the password,
        and the user name (a credential too)."""
        found = [self.config.password.reveal()] if self.config.password else []
        return (*found, *([self.config.user] if self.config.user else []))

    def _output_path(self, key: str) -> Path:
        if self._tmp is None:
            # mkdtemp makes a folder only this user can read: the report holds pupils' data.
            self._tmp = Path(tempfile.mkdtemp(prefix="misbridge-sims-"))
        return self._tmp / f"{key}-{uuid.uuid4().hex}.xml"

    async def run(self, report: str, key: str) -> AsyncGenerator[bytes, None]:
        """Run ``report`` and yield its XML in chunks. A ``<CommandReporterError>`` answer
        is yielded like any XML (the parser recognises it); failures with no XML to read
        raise :class:`~misbridge.errors.SourceError` subclasses naming the report."""
        output = self._output_path(key) if self.config.output == "file" else None
        deadline = time.monotonic() + self.config.timeout
        self.runs += 1
        started = time.monotonic()
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv(report, output),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                # Its own process group, so that ending it also ends anything it started.
                start_new_session=_POSIX,
            )
        except OSError as exc:
            raise SourceUnavailableError(
                f"could not start CommandReporter for report '{report}' ({exc.strerror}); "
                "check the --reporter path",
                report=report,
            ) from None
        self._live.add(proc)
        log.info("sims.report.start", report=report, pid=proc.pid)
        stderr = asyncio.ensure_future(_drain(proc.stderr, _STDERR_CAP))
        helpers = [stderr]
        try:
            if output is None:
                async with aclosing(self._stream_stdout(proc, report, deadline)) as stream:
                    async for chunk in stream:
                        yield chunk
                rc = await self._wait(proc, report, deadline)
            else:
                messages = asyncio.ensure_future(_drain(proc.stdout, _STDOUT_CAP))
                helpers.append(messages)
                rc = await self._wait(proc, report, deadline)
                said = await messages
                if ERROR_ROOT.encode() in said:
                    yield _error_answer(said, self.config.console_code_page)
                elif rc == 0 and not output.exists():
                    raise SourceError(
                        f"CommandReporter wrote no output file for report '{report}'",
                        report=report,
                    )
                elif output.exists():
                    async with aclosing(read_file(output, report, self.config.max_bytes)) as stream:
                        async for chunk in stream:
                            yield chunk
            if rc != 0:
                raise ExitError(rc, (await stderr).decode("utf-8", "replace"))
        finally:
            for helper in helpers:
                helper.cancel()
            # Cancelled readers must be gone before end() reads the same pipes.
            await asyncio.gather(*helpers, return_exceptions=True)
            await asyncio.shield(self.end(proc))
            if output is not None:
                with contextlib.suppress(OSError):
                    output.unlink()
            log.info(
                "sims.report.end",
                report=report,
                pid=proc.pid,
                exit_code=proc.returncode,
                seconds=round(time.monotonic() - started, 3),
            )

    async def _stream_stdout(
        self, proc: asyncio.subprocess.Process, report: str, deadline: float
    ) -> AsyncGenerator[bytes, None]:
        assert proc.stdout is not None
        while True:
            try:
                chunk = await asyncio.wait_for(proc.stdout.read(CHUNK), self._left(deadline))
            except TimeoutError:
                raise self._timed_out(report) from None
            if not chunk:
                return
            yield chunk

    async def _wait(self, proc: asyncio.subprocess.Process, report: str, deadline: float) -> int:
        try:
            return await asyncio.wait_for(proc.wait(), self._left(deadline))
        except TimeoutError:
            raise self._timed_out(report) from None

    def _left(self, deadline: float) -> float:
        return max(deadline - time.monotonic(), 0.0)

    def _timed_out(self, report: str) -> SourceUnavailableError:
        return SourceUnavailableError(
            f"CommandReporter did not finish report '{report}' within "
            f"{self.config.timeout:g} s and was stopped; raise --report-timeout for a large "
            "school, or check that SIMS is not locked by another process",
            report=report,
        )

    async def end(self, proc: asyncio.subprocess.Process) -> None:
        """End one process: terminate, then kill after the grace period. Once at a time
        per process, however many callers (a report's own cleanup, the session's)."""
        ending = self._ending.get(proc)
        if ending is None:
            ending = self._ending[proc] = asyncio.ensure_future(self._end(proc))
        try:
            await asyncio.shield(ending)
        finally:
            if ending.done():
                self._ending.pop(proc, None)

    async def _end(self, proc: asyncio.subprocess.Process) -> None:
        # What is left in its pipes is read (and dropped) meanwhile: asyncio reports the
        # exit only once the pipes are closed, and an unread pipe stays open, so waiting
        # for the exit alone sat out the whole grace period after every refused stream.
        drains = asyncio.gather(_drain(proc.stdout, 0), _drain(proc.stderr, 0))
        drains.add_done_callback(_retrieve)
        try:
            if proc.returncode is None:
                _signal(proc, signal.SIGTERM)
                try:
                    await asyncio.wait_for(proc.wait(), self.config.grace)
                except TimeoutError:
                    _signal(proc, signal.SIGKILL if _POSIX else signal.SIGTERM)
                    # Bounded too: a process that left its group may still hold a pipe.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(proc.wait(), self.config.grace)
                log.warning("sims.report.stopped", pid=proc.pid, exit_code=proc.returncode)
            with contextlib.suppress(TimeoutError, OSError, RuntimeError):
                await asyncio.wait_for(drains, self.config.grace)
        finally:
            # No await here: this may run as the coroutine is closed with its loop.
            drains.cancel()
            self._live.discard(proc)

    async def aclose(self) -> None:
        """End every process still running and remove the temporary folder."""
        for proc in list(self._live):
            await self.end(proc)
        if self._tmp is not None:
            for leftover in self._tmp.glob("*"):
                with contextlib.suppress(OSError):
                    leftover.unlink()
            with contextlib.suppress(OSError):
                os.rmdir(self._tmp)
            self._tmp = None

    @property
    def live(self) -> int:
        return len(self._live)


async def read_file(path: Path, report: str, max_bytes: int) -> AsyncGenerator[bytes, None]:
    """A report file in chunks, refused before a byte is read when it is over the cap
    (the size is taken from the open file, so it cannot change in between)."""
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size > max_bytes:
            raise too_large(report, max_bytes)
        while chunk := handle.read(CHUNK):
            yield chunk
            await asyncio.sleep(0)  # let the other reports' tasks run


def _error_answer(said: bytes, code_page: str | None) -> bytes:
    """The ``<CommandReporterError>`` part of what CommandReporter printed, as UTF-8: a
    console message is in the console's code page, not in any declared encoding."""
    answer = said[said.index(b"<" + ERROR_ROOT.encode()) :]
    try:
        answer.decode("utf-8")
    except UnicodeDecodeError:
        answer = answer.decode(code_page or "cp1252", "replace").encode("utf-8")
    return answer


def _retrieve(future: asyncio.Future[tuple[bytes, bytes]]) -> None:
    # A pipe that failed while being dropped is of no interest; say so to asyncio.
    if not future.cancelled():
        future.exception()


def _signal(proc: asyncio.subprocess.Process, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if _POSIX:
            os.killpg(proc.pid, sig)
        elif sig == signal.SIGTERM:
            proc.terminate()
        else:  # pragma: no cover - Windows
            proc.kill()


class ExitError(Exception):
    """CommandReporter exited non-zero without an error XML; the session classifies it."""

    def __init__(self, code: int, stderr: str) -> None:
        super().__init__(f"exit code {code}")
        self.code = code
        self.stderr = stderr
