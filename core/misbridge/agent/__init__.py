"""The agent: the school's Host for remote extraction (``misbridge agent``).

``activate`` makes (or reuses) this machine's vault key pair, registers its public key
with the hub using a one-time code, and keeps its hub token sealed in the vault.
``run`` is the service: it calls the hub only outbound (long poll, reconnecting with
backoff and jitter), and for each request starts the Integrator (a separate process
running the MIS extract, which unseals the MIS credentials itself), seals the extract
to the requesting integrator's key and uploads it in resumable chunks. ``status``
shows what this machine provided to which hub and when; ``purge`` asks the hub to
delete all it still holds for the school. See docs/agent.md.
"""
