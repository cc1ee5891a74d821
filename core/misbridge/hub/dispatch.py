"""Handing worker-run requests to the broker: an outbox, so that none is ever lost.

A request for a worker-run school is written first (pending, not yet dispatched), then
its task is sent and the request marked dispatched; the sweeper sends whatever is still
undispatched (the broker was down, the hub stopped in between). A request whose worker
went silent past its lease for as long again is dispatched once more, in case the
broker lost the task as well (a Redis broker without persistence): deliveries are at
least once, and :func:`misbridge.hub.workers.claim_job` makes the work happen once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog

from misbridge.hub import schema
from misbridge.hub.database import reader, writer
from misbridge.hub.protocol import ACTIVE_STATES

__all__ = ["Dispatcher", "due_requests"]

log = structlog.get_logger()
R, S = schema.extract_request, schema.school

Send = Callable[[str, str], None]


def due_requests(engine: sa.Engine, now: datetime, lease: timedelta) -> list[tuple[str, str]]:
    """(request id, MIS) of each worker-run request to send to the broker now."""
    silent = now - lease
    query = (
        sa.select(R.c.id, S.c.mis)
        .join(S, S.c.id == R.c.school_id)
        .where(
            S.c.runner == "worker",
            sa.or_(
                sa.and_(R.c.state == "pending", R.c.dispatched_at.is_(None)),
                sa.and_(
                    R.c.state.in_(ACTIVE_STATES),
                    R.c.state != "pending",
                    R.c.lease_until < silent,
                    R.c.dispatched_at < silent,
                ),
            ),
        )
        .order_by(R.c.created_at, R.c.id)
    )
    with reader(engine) as conn:
        return [(r.id, r.mis) for r in conn.execute(query)]


class Dispatcher:
    """Sends ``misbridge.extract`` tasks to the broker at ``broker_url`` (the Celery
    client is made when first needed: a hub with no worker-run school never imports it)."""

    def __init__(
        self, broker_url: str, *, send: Send | None = None, prefix: str = "misbridge."
    ) -> None:
        self.broker_url = broker_url
        self.prefix = prefix
        self._send = send
        self._app: Any = None

    @property
    def enabled(self) -> bool:
        return bool(self.broker_url) or self._send is not None

    def send(self, request_id: str, mis: str) -> None:
        if self._send is not None:
            self._send(request_id, mis)
            return
        from misbridge.worker.queues import EXTRACT_TASK, queue_for

        if self._app is None:
            from celery import Celery

            self._app = Celery("misbridge-hub", broker=self.broker_url)
            self._app.conf.broker_connection_retry_on_startup = True
        self._app.send_task(
            EXTRACT_TASK, args=[request_id], queue=queue_for(mis, self.prefix), task_id=request_id
        )

    def run(self, engine: sa.Engine, now: datetime, lease: timedelta) -> int:
        """Send every due request; return how many went."""
        due = due_requests(engine, now, lease)
        if due and not self.enabled:
            log.warning("hub.dispatch.no_broker", waiting=len(due))
            return 0
        sent = 0
        for request_id, mis in due:
            try:
                self.send(request_id, mis)
            except Exception as exc:  # the broker is down: the next sweep tries again
                log.warning("hub.dispatch.failed", request=request_id, error=type(exc).__name__)
                break
            with writer(engine) as conn:
                conn.execute(R.update().where(R.c.id == request_id).values(dispatched_at=now))
            sent += 1
        if sent:
            log.info("hub.dispatched", tasks=sent)
        return sent
