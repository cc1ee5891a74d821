"""What every request handler of one hub process shares."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
import sqlalchemy as sa
from attrs import define, field
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from misbridge.hub.database import utcnow
from misbridge.hub.notify import Waiters
from misbridge.hub.settings import HubSettings
from misbridge.hub.storage import UploadStorage

__all__ = ["HubContext"]


@define
class HubContext:
    engine: sa.Engine
    settings: HubSettings
    storage: UploadStorage
    signer: Ed25519PrivateKey
    clock: Callable[[], datetime] = utcnow
    waiters: Waiters = field(factory=Waiters)
    webhook_transport: Any = None
    #: Sends worker-run requests to the broker (:class:`misbridge.hub.dispatch.Dispatcher`).
    dispatcher: Any = None

    def now(self) -> datetime:
        return self.clock()

    def seconds(self, value: float) -> timedelta:
        return timedelta(seconds=value)

    async def run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run blocking database work off the event loop."""
        return await anyio.to_thread.run_sync(lambda: func(*args, **kwargs))
