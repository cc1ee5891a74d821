"""The integrator's Celery workers: cloud-MIS schools extracted for the hub.

``misbridge worker`` (:mod:`misbridge.worker.commands`) starts one; the task is in
:mod:`misbridge.worker.app`, one request's work in :mod:`misbridge.worker.job`, the
shared vendor rate limits in :mod:`misbridge.worker.ratelimit`. Needs the ``worker``
extra (``pip install 'misbridge[worker]'``). See docs/workers.md.
"""
