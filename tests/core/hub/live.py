"""Real processes for end-to-end tests: a uvicorn hub, an agent, the SIMS stand-in.

Everything listens on, and talks to, the loopback interface only. Each process's
output goes to a file the test reads afterwards (the logs must never show a secret or
a pupil's data).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from misbridge.hub import accounts, schools
from misbridge.hub.client import IntegratorClient, IntegratorKey
from misbridge.hub.database import open_database, utcnow

MISBRIDGE = [sys.executable, "-c", "from misbridge.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MISBRIDGE_")}
    env.update(extra)
    return env


class HubProcess:
    """``misbridge hub serve`` on a loopback port; restartable on the same port."""

    def __init__(self, folder: Path, database_url: str, **settings: Any) -> None:
        self.folder = folder
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.storage = folder / "uploads"
        self.log = folder / "hub.log"
        self.settings = {"sweep_seconds": 0.3, "poll_hold_seconds": 10, **settings}
        self.process: subprocess.Popen[bytes] | None = None
        self.engine = open_database(database_url)

    def start(self) -> None:
        env = clean_env(**{f"MISBRIDGE_HUB_{k.upper()}": str(v) for k, v in self.settings.items()})
        command = [
            *MISBRIDGE,
            "--log-json",
            "-v",
            "hub",
            "serve",
            "--database",
            self.database_url,
            "--port",
            str(self.port),
            "--storage",
            str(self.storage),
            "--key-file",
            str(self.folder / "signing.key"),
        ]
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(
                command, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the hub did not start:\n{self.log.read_text()[-3000:]}")
            try:
                httpx.get(f"{self.url}/api/v1/hub", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the hub did not answer within 30 s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.engine.dispose()

    # -- what an operator would set up -------------------------------------------------

    def school(self, name: str = "Oak Primary School", mis: str = "sims") -> str:
        return str(schools.create_school(self.engine, utcnow(), None, name, mis)["id"])

    def user(
        self,
        name: str,
        *permissions: str,
        schools_: list[str] | None = None,
        password: str | None = None,
    ) -> str:
        user = accounts.create_user(
            self.engine, utcnow(), None, name, permissions, schools=schools_, password=password
        )
        return accounts.create_token(self.engine, utcnow(), None, user["id"])[1]

    def activation_code(self, school_id: str) -> str:
        return schools.create_activation_code(
            self.engine, utcnow(), None, school_id, timedelta(hours=1)
        )[0]

    def integrator(self, token: str) -> tuple[IntegratorClient, IntegratorKey]:
        client = IntegratorClient(self.url, token)
        key = IntegratorKey.generate()
        client.register_key(key)
        return client, key


class AgentProcess:
    """A school's machine: its own misbridge home, vault, and ``misbridge agent run``."""

    def __init__(self, folder: Path) -> None:
        self.home = folder / "agent-home"
        self.log = folder / "agent.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.env = clean_env(
            MISBRIDGE_HOME=str(self.home),
            MISBRIDGE_KEY_PASSPHRASE_FILE=str(self.home / "keys" / "passphrases.json"),
        )

    def cli(self, *args: str, env: Mapping[str, str] | None = None, check: bool = True) -> str:
        done = subprocess.run(
            [*MISBRIDGE, *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=300,
            check=False,
        )
        with self.log.open("a") as handle:
            handle.write(done.stdout + done.stderr)
        if check and done.returncode != 0:
            raise AssertionError(f"misbridge {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout + done.stderr

    def activate(self, code: str, hub_url: str, *options: str) -> str:
        return self.cli("agent", "activate", code, "--hub", hub_url, *options)

    def store_credentials(self, mis: str, credentials: Mapping[str, str]) -> None:
        env = {f"MISBRIDGE_{mis.upper()}_{k.upper()}": v for k, v in credentials.items()}
        self.cli("credentials", "set", mis, "--from-env", env=env)

    def start(self, wait: float = 5.0) -> None:
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(
                [*MISBRIDGE, "--log-json", "-v", "agent", "run", "--wait", str(wait)],
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
            )

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_for(predicate: Any, timeout: float = 60.0, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
