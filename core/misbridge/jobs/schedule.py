"""The nightly schedule: a systemd timer, a crontab line or a Windows scheduled task that
runs ``misbridge run`` at the configured time, with a random delay.

This module only writes and reads the three formats (and works out the next run); the
``misbridge schedule`` commands install them. Each carries the configuration file's
path, so ``show`` and ``remove`` find what ``install`` wrote, and nothing else.
"""

from __future__ import annotations

import re
import shlex
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path
from xml.sax.saxutils import escape

from attrs import frozen

from misbridge.errors import ConfigurationError
from misbridge.jobs.config import Schedule

__all__ = [
    "CRON_TAG",
    "TASK_NAMESPACE",
    "UNIT_NAME",
    "NightlyJob",
    "cron_line",
    "next_run",
    "parse_cron_line",
    "parse_task_xml",
    "parse_timer",
    "systemd_units",
    "task_xml",
]

UNIT_NAME = "misbridge"
CRON_TAG = "# misbridge nightly run:"
TASK_NAMESPACE = "http://schemas.microsoft.com/windows/2004/02/mit/task"


@frozen
class NightlyJob:
    """What runs: ``misbridge run --config CONFIG`` (``command`` is the program's path),
    from ``workdir``, at ``schedule``."""

    command: Path
    config: Path
    schedule: Schedule
    workdir: Path

    def arguments(self) -> list[str]:
        return ["run", "--config", str(self.config)]


def next_run(schedule: Schedule, now: datetime) -> tuple[datetime, datetime]:
    """The earliest and latest moment (local time) of the next nightly run."""
    start = now.replace(hour=schedule.at.hour, minute=schedule.at.minute, second=0, microsecond=0)
    if start <= now:
        start += timedelta(days=1)
    return start, start + timedelta(minutes=schedule.randomised_delay_minutes)


# -- systemd -------------------------------------------------------------------------------
def systemd_units(job: NightlyJob) -> dict[str, str]:
    """``misbridge.service`` (one run) and ``misbridge.timer`` (every night)."""
    command = shlex.join([str(job.command), *job.arguments()])
    at = job.schedule.at
    service = f"""[Unit]
Description=misbridge nightly roster sync ({job.config})
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart={command}
WorkingDirectory={job.workdir}
# Pupils' data: every file the run writes is the service user's alone.
UMask=0077
NoNewPrivileges=yes
PrivateTmp=yes
"""
    timer = f"""[Unit]
Description=Run misbridge every night ({job.config})

[Timer]
OnCalendar=*-*-* {at.hour:02d}:{at.minute:02d}:00
RandomizedDelaySec={job.schedule.randomised_delay_minutes}min
Persistent=true
Unit={UNIT_NAME}.service

[Install]
WantedBy=timers.target
"""
    return {f"{UNIT_NAME}.service": service, f"{UNIT_NAME}.timer": timer}


def parse_timer(text: str) -> Schedule:
    """The schedule a ``misbridge.timer`` written by :func:`systemd_units` holds."""
    calendar = re.search(r"^OnCalendar=\*-\*-\* (\d\d):(\d\d):00$", text, re.M)
    delay = re.search(r"^RandomizedDelaySec=(\d+)min$", text, re.M)
    if calendar is None or delay is None:
        raise ConfigurationError("this timer was not written by misbridge schedule install")
    return Schedule(clock(int(calendar[1]), int(calendar[2])), int(delay[1]))


# -- cron ----------------------------------------------------------------------------------
def cron_line(job: NightlyJob) -> str:
    """One crontab line (with its tag comment before it). cron has no random delay of
    its own: ``misbridge run --random-delay`` waits before it starts."""
    at = job.schedule.at
    args = [
        str(job.command),
        *job.arguments(),
        "--random-delay",
        str(job.schedule.randomised_delay_minutes),
    ]
    log = job.workdir / "misbridge-run.log"
    command = (
        f"cd {shlex.quote(str(job.workdir))} && {shlex.join(args)} >> {shlex.quote(str(log))} 2>&1"
    )
    return f"{CRON_TAG} {job.config}\n{at.minute} {at.hour} * * * {command}\n"


def parse_cron_line(line: str) -> tuple[Schedule, list[str]]:
    """The schedule and the command's words of a line :func:`cron_line` wrote."""
    fields = line.split(None, 5)
    if len(fields) != 6 or fields[2:5] != ["*", "*", "*"]:
        raise ConfigurationError(f"not a daily misbridge crontab line: {line!r}")
    minute, hour = int(fields[0]), int(fields[1])
    if not (0 <= minute < 60 and 0 <= hour < 24):
        raise ConfigurationError(f"not a valid time in the crontab line: {line!r}")
    words = shlex.split(fields[5].split(">>")[0].split("&&", 1)[-1])
    delay = int(words[words.index("--random-delay") + 1]) if "--random-delay" in words else 0
    return Schedule(clock(hour, minute), delay), words


# -- Windows Task Scheduler ----------------------------------------------------------------
def task_xml(job: NightlyJob, start_day: datetime) -> str:
    """A task definition for ``schtasks /Create /TN misbridge /XML FILE``."""
    at = job.schedule.at
    start = start_day.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    arguments = " ".join(f'"{a}"' if " " in a else a for a in job.arguments())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Task version="1.2" xmlns="{TASK_NAMESPACE}">
  <RegistrationInfo>
    <Description>misbridge nightly roster sync ({escape(str(job.config))})</Description>
    <URI>\\{UNIT_NAME}</URI>
  </RegistrationInfo>
  <Triggers>
    <CalendarTrigger>
      <StartBoundary>{start.strftime("%Y-%m-%dT%H:%M:%S")}</StartBoundary>
      <Enabled>true</Enabled>
      <RandomDelay>PT{job.schedule.randomised_delay_minutes}M</RandomDelay>
      <ScheduleByDay>
        <DaysInterval>1</DaysInterval>
      </ScheduleByDay>
    </CalendarTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <LogonType>S4U</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <StartWhenAvailable>true</StartWhenAvailable>
    <ExecutionTimeLimit>PT6H</ExecutionTimeLimit>
    <Enabled>true</Enabled>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{escape(str(job.command))}</Command>
      <Arguments>{escape(arguments)}</Arguments>
      <WorkingDirectory>{escape(str(job.workdir))}</WorkingDirectory>
    </Exec>
  </Actions>
</Task>
"""


def parse_task_xml(text: str) -> tuple[Schedule, str, str]:
    """The schedule, command and arguments of a task :func:`task_xml` wrote."""
    from defusedxml import ElementTree

    root = ElementTree.fromstring(text.encode("utf-8"))
    ns = {"t": TASK_NAMESPACE}

    def find(path: str) -> str:
        node = root.find(path, ns)
        if node is None or node.text is None:
            raise ConfigurationError(f"the task definition has no {path}")
        return str(node.text)

    start = datetime.fromisoformat(find("t:Triggers/t:CalendarTrigger/t:StartBoundary"))
    delay = re.fullmatch(r"PT(\d+)M", find("t:Triggers/t:CalendarTrigger/t:RandomDelay"))
    if delay is None or find("t:Triggers/t:CalendarTrigger/t:ScheduleByDay/t:DaysInterval") != "1":
        raise ConfigurationError("the task definition is not a daily misbridge task")
    schedule = Schedule(clock(start.hour, start.minute), int(delay[1]))
    return schedule, find("t:Actions/t:Exec/t:Command"), find("t:Actions/t:Exec/t:Arguments")
