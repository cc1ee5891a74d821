"""The workers' Celery application and its one task, ``misbridge.extract``.

- **Acknowledged late** (``task_acks_late``) and **rejected when the worker process is
  lost** (``task_reject_on_worker_lost``): a worker killed mid-task leaves its message
  unacknowledged, so the broker delivers it again (RabbitMQ at once, when the
  connection drops; Redis once its ``visibility_timeout`` has passed);
- one message at a time per process (``worker_prefetch_multiplier = 1``): a long extract
  never sits on messages another worker could take;
- **idempotent by request id**: the task id is the request id, and the hub's claim,
  under a lease, lets one worker at a time work on a request and completes it once; a
  delivery for a done request does nothing;
- **retried with backoff** on transient failures (the MIS, its rate limit, the hub),
  never on refused credentials, a wrong setting or a guard refusal;
- Redis's ``visibility_timeout`` must be longer than the longest extract (default six
  hours, the hub's request timeout): a shorter one only costs a redelivery that the
  claim turns away.
"""

from __future__ import annotations

import random
from typing import Any

import structlog
from celery import Celery

from misbridge.agent.hubclient import HubRefused
from misbridge.worker.job import Held, Transient, WorkerSettings, run_job
from misbridge.worker.queues import EXTRACT_TASK

__all__ = ["DEFAULT_VISIBILITY_TIMEOUT", "configure", "make_app"]

log = structlog.get_logger()

DEFAULT_VISIBILITY_TIMEOUT = 6 * 3600
_state: dict[str, Any] = {}


def configure(settings: WorkerSettings, *, retries: int = 5, retry_seconds: float = 30.0) -> None:
    """What this worker's tasks use (set before the worker starts its processes)."""
    _state.update(settings=settings, retries=retries, retry_seconds=retry_seconds)


def make_app(broker_url: str, *, visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT) -> Celery:
    app = Celery("misbridge", broker=broker_url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": visibility_timeout},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )

    @app.task(name=EXTRACT_TASK, bind=True, acks_late=True, max_retries=None)  # type: ignore[untyped-decorator]
    def extract(self: Any, request_id: str) -> str:
        settings: WorkerSettings = _state["settings"]
        try:
            done = run_job(settings, request_id)
        except Held as held:
            log.info("worker.job.held", request=request_id, retry_after=held.retry_after)
            raise self.retry(countdown=held.retry_after + random.uniform(0, 1)) from None
        except Transient as exc:
            attempt = int(self.request.retries)
            if attempt >= _state["retries"]:
                log.warning("worker.job.gave_up", request=request_id, attempts=attempt + 1)
                return _give_up(settings, request_id, exc.message)
            wait = _state["retry_seconds"] * 2**attempt
            wait = random.uniform(wait / 2, wait)  # full jitter: retries never bunch up
            log.info("worker.job.retry", request=request_id, attempt=attempt + 1, wait=wait)
            raise self.retry(countdown=wait) from None
        except HubRefused as refused:  # our lease ran out and another worker took over
            log.info("worker.job.superseded", request=request_id, status=refused.status)
            return "superseded"
        return done

    return app


def _give_up(settings: WorkerSettings, request_id: str, reason: str) -> str:
    from misbridge.agent.hubclient import AgentHub, HubUnreachable

    hub = AgentHub(settings.hub_url, settings.token, ca_file=settings.ca_file)
    try:
        hub.call(
            "POST",
            f"/worker/jobs/{request_id}/fail",
            json={"reason": f"gave up after retries: {reason}"[:2000]},
        )
    except (HubRefused, HubUnreachable):
        pass  # the hub's own request timeout fails it in the end
    finally:
        hub.close()
    return "failed"
