"""A small hub world for API tests: two schools, every kind of caller, requests in flight.

School A and school B each have an activated agent. Users: an administrator, an
importer and a viewer for school A, an importer for school B only. Request ``ra`` (A)
is extracting with an Integrator Token; request ``rb`` (B) likewise.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from attrs import define, field
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from fastapi import FastAPI

from misbridge.hub import accounts, extracts, schools
from misbridge.hub.app import create_app
from misbridge.hub.database import open_database
from misbridge.hub.principals import Agent
from misbridge.hub.protocol import agent_token_info
from misbridge.hub.settings import HubSettings
from misbridge.vault.sealing import hpke_open

T0 = datetime(2026, 3, 2, 9, 0, 0)


def public_b64(key: X25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


@define
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@define
class World:
    folder: Path
    url: str
    school_a: str = ""
    school_b: str = ""
    tokens: dict[str, str] = field(factory=dict)
    ids: dict[str, str] = field(factory=dict)
    keys: dict[str, X25519PrivateKey] = field(factory=dict)
    clock: Clock = field(factory=Clock)

    def settings(self, **changes: Any) -> HubSettings:
        return HubSettings(
            database_url=self.url,
            storage_path=self.folder / "uploads",
            key_path=self.folder / "signing.key",
            **changes,
        )


def _agent(engine: Any, now: datetime, code: str) -> tuple[str, str, X25519PrivateKey]:
    key = X25519PrivateKey.generate()
    answer = schools.activate_agent(engine, now, code, public_b64(key), version="1", hostname="h")
    info = agent_token_info(answer["agent_id"], answer["school"]["id"], answer["kid"])
    token = hpke_open(base64.b64decode(answer["sealed_token"]), key, info).decode()
    return answer["agent_id"], token, key


def build_world(folder: Path) -> World:
    folder.mkdir(parents=True, exist_ok=True)
    world = World(folder, f"sqlite:///{folder / 'hub.db'}")
    engine = open_database(world.url)
    now = world.clock()
    world.school_a = schools.create_school(engine, now, None, "Ash Academy", "sims")["id"]
    world.school_b = schools.create_school(engine, now, None, "Birch School", "sims")["id"]
    people = {
        "admin": (["admin"], None),
        "import_a": (["import-data"], [world.school_a]),
        "view_a": (["view"], [world.school_a]),
        "import_b": (["import-data"], [world.school_b]),
    }
    for name, (perms, scope) in people.items():
        user = accounts.create_user(
            engine, now, None, name, perms, schools=scope, password="correct horse battery"
        )
        world.ids[name] = user["id"]
        token_id, world.tokens[name] = accounts.create_token(engine, now, None, user["id"])
        world.ids[f"token_{name}"] = token_id
        key = X25519PrivateKey.generate()
        world.keys[name] = key
        principal = accounts.authenticate(engine, now, world.tokens[name], via="api")
        accounts.set_public_key(engine, now, principal, public_b64(key))  # type: ignore[arg-type]
    for label, school in (("a", world.school_a), ("b", world.school_b)):
        code = schools.create_activation_code(engine, now, None, school, timedelta(days=1))[0]
        agent_id, token, key = _agent(engine, now, code)
        world.ids[f"agent_{label}"] = agent_id
        world.tokens[f"agent_{label}"] = token
        world.keys[f"agent_{label}"] = key
        importer = accounts.authenticate(engine, now, world.tokens[f"import_{label}"], via="api")
        request, _ = extracts.start_extract(engine, now, importer, school, None)
        world.ids[f"r{label}"] = request["id"]
        agent = Agent(agent_id, school, "h")
        extracts.claim(engine, now, agent, request["id"])
        issued = extracts.issue_integrator_token(
            engine, now, agent, request["id"], timedelta(minutes=15)
        )
        world.tokens[f"it_{label}"] = issued["token"]
    engine.dispose()
    return world


def copy_world(template: World, folder: Path) -> World:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(template.folder / "hub.db", folder / "hub.db")
    return World(
        folder,
        f"sqlite:///{folder / 'hub.db'}",
        template.school_a,
        template.school_b,
        dict(template.tokens),
        dict(template.ids),
        dict(template.keys),
        Clock(template.clock.now),
    )


@asynccontextmanager
async def serve(
    world: World,
    *,
    client: str = "127.0.0.1",
    base_url: str = "http://hub.test",
    **settings: Any,
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    """The world's hub in this process (lifespan run), and a client on it."""
    app = create_app(world.settings(**settings), clock=world.clock)
    transport = httpx.ASGITransport(app=app, client=(client, 40000))
    client_for = httpx.AsyncClient(transport=transport, base_url=base_url)
    async with app.router.lifespan_context(app), client_for as http:
        yield http, app


def auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}
